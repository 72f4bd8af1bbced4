/**
 * The poison guard of stream processing (docs/architecture.md section 5.2): one value that makes a write fail
 * every time (a number DynamoDB cannot store, an item over its size limit, a bug that only this data triggers)
 * must not stop a treadmill for good. A pending final or a commit that fails POISON_ATTEMPTS times, counted on
 * the fleet item so that the count survives Lambda's retries, is set aside: written to the dead-letter table
 * with its reason, seq range and payload, and the treadmill moves on.
 *
 * What the dead-letter items hold is fixed by the data (session id, last event time, seq range), so a set-aside
 * that is repeated after a crash rewrites the same items.
 */
import type { SessionState } from '../../shared/src/metrics/session.js';
import {
  type EpochEvents,
  firstSeqOf,
  LEGACY_EPOCH,
  type TreadmillState,
} from '../../shared/src/metrics/treadmill.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import {
  type DeadLetter,
  DEAD_LETTER_PAYLOAD_MAX_CHARS,
  STREAM_DEAD_LETTER_SOURCE,
} from './deadletter-repo.js';
import type { PendingFinal } from './state-codec.js';

/** Failures before an update is set aside: a retry or two get past a one-off, a poison fails every time. */
export const POISON_ATTEMPTS = 3;

/** One update set aside: what ingest and the sweeper log and count (`PoisonSetAside`). */
export interface SetAside {
  /** `final`: a pending session that could not be finalized; `batch`: events that could not be committed. */
  kind: 'final' | 'batch';
  gymId: string;
  treadmillId: string;
  reason: string;
  attempts: number;
  /** The sessions set aside (a batch's: the session that was open). */
  sessionIds: string[];
  /** The events' seq ranges, per spool epoch ('' legacy). */
  ranges: Array<{ epoch: string; seqFrom: number; seqTo: number }>;
}

const TRANSIENT_ERRORS = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
]);

/**
 * Errors that say nothing about the data (throttling, a service fault, the network): retried as before but
 * not counted, so that an outage never sets sessions aside. The SDK marks them `$retryable` or `$fault:
 * 'server'` once its own retries are spent.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { $retryable, $fault, code } = error as Error & {
    $retryable?: unknown;
    $fault?: unknown;
    code?: unknown;
  };
  return (
    $retryable !== undefined ||
    $fault === 'server' ||
    TRANSIENT_ERRORS.has(error.name) ||
    (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN)$/.test(code))
  );
}

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Where a treadmill's failed commits are counted: the stored watermark they started from. */
export const positionOf = (state: TreadmillState): string => `${state.spoolEpoch}/${state.seqWatermark}`;

const epochField = (epoch: string) => (epoch === LEGACY_EPOCH ? {} : { epoch });

/**
 * The dead letter of a session set aside: its reducer state and why it ended (`open` for the session open in a
 * batch set aside), so that it can be finalized by hand once the cause is fixed.
 */
export function sessionLetter(
  state: SessionState,
  ended: PendingFinal['reason'] | 'open',
  why: string,
  attempts: number,
): DeadLetter {
  return {
    source: STREAM_DEAD_LETTER_SOURCE,
    kind: 'session',
    ts: state.lastEventTs,
    id: state.sessionId,
    reason: why,
    payload: JSON.stringify({ reason: ended, state }),
    gymId: state.gymId,
    treadmillId: state.treadmillId,
    sessionId: state.sessionId,
    seqFrom: firstSeqOf(state.sessionId),
    seqTo: state.seqWatermark,
    attempts,
  };
}

/** The dead letters of a batch's events set aside: one per epoch, split so that no payload is cut. */
export function eventLetters(
  key: { gymId: string; treadmillId: string },
  runs: readonly EpochEvents[],
  why: string,
  attempts: number,
): DeadLetter[] {
  const letters: DeadLetter[] = [];
  for (const run of runs) {
    let part: TelemetryEvent[] = [];
    let chars = 2;
    const flush = () => {
      const first = part[0];
      const last = part.at(-1);
      if (!first || !last) return;
      letters.push({
        source: STREAM_DEAD_LETTER_SOURCE,
        kind: 'events',
        ts: first.ts,
        id: `${key.gymId}/${key.treadmillId}#${run.epoch}#${first.seq}-${last.seq}`,
        reason: why,
        payload: JSON.stringify(part),
        gymId: key.gymId,
        treadmillId: key.treadmillId,
        ...epochField(run.epoch),
        seqFrom: first.seq,
        seqTo: last.seq,
        attempts,
      });
      part = [];
      chars = 2;
    };
    for (const event of run.events) {
      const size = JSON.stringify(event).length + 1;
      if (part.length > 0 && chars + size > DEAD_LETTER_PAYLOAD_MAX_CHARS) flush();
      part.push(event);
      chars += size;
    }
    flush();
  }
  return letters;
}
