/** Finalized sessions for rollup-reading tests (export, emails): walked forwards then backwards, reduced for real. */
import {
  finalizeSession,
  type MemberProfile,
  reduceSession,
  type SessionSummary,
  startSession,
} from '../../shared/src/metrics/session.js';
import { StreamBuilder } from './events.js';

export interface WalkSpec {
  gymId: string;
  treadmillId?: string;
  userToken: string;
  startTs: number;
  forwardS: number;
  backwardS: number;
  profile?: MemberProfile;
}

export function walkedSession(spec: WalkSpec): SessionSummary {
  const treadmillId = spec.treadmillId ?? 'tm-01';
  const builder = new StreamBuilder(spec.gymId, treadmillId);
  if (spec.forwardS > 0)
    builder.walk(spec.startTs, spec.forwardS, { speedKmh: 5, hrBpm: 110, strike: 'heel' });
  if (spec.backwardS > 0)
    builder.walk(spec.startTs + spec.forwardS * 1000, spec.backwardS, {
      speedKmh: 2.5,
      hrBpm: 115,
      strike: 'toe',
    });
  const state = startSession({
    sessionId: `${spec.gymId}:${treadmillId}:${spec.startTs}`,
    gymId: spec.gymId,
    treadmillId,
    startTs: spec.startTs,
    userToken: spec.userToken,
  });
  return finalizeSession(reduceSession(state, builder.events).state, spec.profile ?? {});
}
