/**
 * What the API shows, computed from what the repos hold: a treadmill's tile (from its fleet item and alerts),
 * a session's timeline so far, a list of sessions as CSV, a treadmill's status by hour, a gym's utilisation (its operators': from its day rollups; researchers': from
 * the research export's member-gym-week rollups). Pure: no I/O, no clock.
 */
import type { z } from 'zod';
import type { AlertItem } from '../../shared/src/alerts/types.js';
import { type CsvValue, toCsv } from '../../shared/src/csv.js';
import { DAY_MS, dayKey } from '../../shared/src/iso-week.js';
import { researchWeek } from '../../shared/src/export/research-utilisation.js';
import type { GymDayRollup, MemberGymWeekRollup } from '../../shared/src/metrics/rollups.js';
import {
  currentDirection,
  MAX_SAMPLE_GAP_S,
  type SessionState,
  type TimelinePoint,
} from '../../shared/src/metrics/session.js';
import { type TreadmillState, treadmillStatus } from '../../shared/src/metrics/treadmill.js';
import { hourStartTs, type StatusHour } from '../../shared/src/metrics/treadmill-status-history.js';
import type { SessionListItem } from '../lib/sessions-repo.js';
import type {
  currentSessionSchema,
  researchUtilisationResponse,
  sessionListItemSchema,
  statusHistoryResponse,
  treadmillSchema,
  utilisationResponse,
} from './schemas.js';

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round2 = (x: number): number => Math.round(x * 100) / 100;

export type TreadmillView = z.input<typeof treadmillSchema>;
export type CurrentSessionView = z.input<typeof currentSessionSchema>;
export type UtilisationView = z.input<typeof utilisationResponse>;
export type ResearchUtilisationView = z.input<typeof researchUtilisationResponse>;
export type SessionItemView = z.input<typeof sessionListItemSchema>;
export type StatusHourView = z.input<typeof statusHistoryResponse>['hours'][number];

export function currentSessionOf(state: TreadmillState): CurrentSessionView | null {
  const session = state.session;
  if (!session) return null;
  const { forward, backward, unknown } = session.totals;
  const knownS = forward.movingS + backward.movingS;
  const heartRate = session.heartRate;
  const hrFresh = heartRate !== null && session.lastEventTs - heartRate.ts <= MAX_SAMPLE_GAP_S * 1000;
  return {
    sessionId: session.sessionId,
    startTs: session.startTs,
    userToken: session.userToken ?? null,
    program: session.program ?? null,
    direction: currentDirection(session),
    speedKmh: state.speedKmh,
    inclinePct: session.belt?.inclinePct ?? null,
    hrBpm: hrFresh ? Math.round(heartRate.bpm) : null,
    movingS: round1(forward.movingS + backward.movingS + unknown.movingS),
    distanceM: round1(forward.distanceM + backward.distanceM + unknown.distanceM),
    backwardShare: knownS > 0 ? round2(backward.movingS / knownS) : null,
  };
}

/** A treadmill's tile; `alerts` are the gym's open and acknowledged alerts (this treadmill's are picked out). */
export function treadmillViewOf(state: TreadmillState, alerts: readonly AlertItem[]): TreadmillView {
  const own = alerts.filter(
    (alert) => alert.treadmillId === state.treadmillId && alert.status !== 'resolved',
  );
  return {
    gymId: state.gymId,
    treadmillId: state.treadmillId,
    status: treadmillStatus(state),
    lastSeenTs: state.lastSeenTs,
    fault: state.fault,
    odometerKm: state.odometerKm,
    beltHours: state.beltHours,
    motorTempC: state.motorTempC,
    firmware: state.firmware,
    speedKmh: state.speedKmh,
    session: currentSessionOf(state),
    alerts: {
      open: own.filter((alert) => alert.status === 'open').length,
      acknowledged: own.filter((alert) => alert.status === 'acknowledged').length,
      kinds: [...new Set(own.map((alert) => alert.kind))].sort(),
    },
  };
}

/** A session's list item without the sweeper's index key, which means nothing to a caller. */
export function sessionItemOf(item: SessionListItem): SessionItemView {
  const { activeShard: _activeShard, ...shown } = item;
  return shown;
}

const isoOrNull = (ts: number | undefined): string | null =>
  ts === undefined ? null : new Date(ts).toISOString();

/** The columns of a sessions CSV, each with how a list item fills it (missing values are empty fields). */
const SESSION_CSV_COLUMNS: ReadonlyArray<[string, (item: SessionListItem) => CsvValue | undefined]> = [
  ['session_id', (item) => item.sessionId],
  ['treadmill_id', (item) => item.treadmillId],
  ['status', (item) => item.status],
  ['member', (item) => item.userToken],
  ['program', (item) => item.program],
  ['start_utc', (item) => isoOrNull(item.startTs)],
  ['end_utc', (item) => isoOrNull(item.endTs)],
  ['end_reason', (item) => item.endReason],
  ['duration_s', (item) => item.durationS],
  ['moving_s', (item) => item.movingS],
  ['distance_m', (item) => item.distanceM],
  ['forward_s', (item) => item.forwardS],
  ['forward_m', (item) => item.forwardM],
  ['backward_s', (item) => item.backwardS],
  ['backward_m', (item) => item.backwardM],
  ['backward_share', (item) => item.backwardShare],
  ['kcal', (item) => item.kcal],
  ['calorie_model', (item) => item.calorieModel],
  ['hr_mean_bpm', (item) => item.hrMeanBpm],
  ['hr_max_bpm', (item) => item.hrMaxBpm],
  ['balance_score', (item) => item.balanceScore],
  ['balance_direction', (item) => item.balanceDirection],
  ['stumbles', (item) => item.stumbles],
  ['safety_stops', (item) => item.safetyStops],
];

/** Sessions as CSV (RFC 4180, shared/src/csv.ts), one row each in the order given. */
export const sessionsCsv = (items: readonly SessionListItem[]): string =>
  toCsv(
    SESSION_CSV_COLUMNS.map(([name]) => name),
    items.map((item) => SESSION_CSV_COLUMNS.map(([, value]) => value(item) ?? null)),
  );

/** A treadmill's stored status hours as the API shows them: every counter present, null when unknown. */
export const statusHourViewOf = (hour: StatusHour): StatusHourView => ({
  hour: hour.hour,
  ts: hourStartTs(hour.hour),
  lastTs: hour.lastTs,
  motorTempC: hour.motorTempC ?? null,
  maxMotorTempC: hour.maxMotorTempC ?? null,
  beltHours: hour.beltHours ?? null,
  odometerKm: hour.odometerKm ?? null,
});

/** Stored (sealed) timeline points followed by the open chunk still held in the session state. */
export function timelineSoFar(sealed: readonly TimelinePoint[], open: SessionState | null): TimelinePoint[] {
  const byOffset = new Map<number, TimelinePoint>();
  for (const point of [...sealed, ...(open?.timeline.points ?? [])]) byOffset.set(point[0], point);
  return [...byOffset.values()].sort((a, b) => a[0] - b[0]);
}

/** The UTC days of the last `days` days up to `now`'s day, both ends included. */
export function dayRange(now: number, days: number): { fromDay: string; toDay: string; all: string[] } {
  const all = Array.from({ length: days }, (_, i) => dayKey(now - (days - 1 - i) * DAY_MS));
  return { fromDay: all[0] ?? dayKey(now), toDay: all.at(-1) ?? dayKey(now), all };
}

const shareOf = (backwardMin: number, forwardMin: number): number | null =>
  backwardMin + forwardMin > 0 ? round2(backwardMin / (backwardMin + forwardMin)) : null;

/**
 * A gym's own utilisation, for its operators (they run the gym, so nothing is suppressed): sessions and minutes
 * by hour of day and by day over the range. Researchers never get this view: day counts can be differenced
 * (docs/architecture.md section 8); they get researchUtilisationOf.
 */
export function utilisationOf(
  gymId: string,
  range: { fromDay: string; toDay: string; all: string[] },
  rollups: readonly GymDayRollup[],
): UtilisationView {
  const byDate = new Map(rollups.map((rollup) => [rollup.day, rollup]));
  const sessionsByHour = new Array<number>(24).fill(0);
  const minutesByHour = new Array<number>(24).fill(0);
  let sessions = 0;
  let movingMin = 0;
  let forwardMin = 0;
  let backwardMin = 0;
  for (const rollup of rollups) {
    sessions += rollup.sessions;
    movingMin += rollup.movingMin;
    forwardMin += rollup.forwardMin;
    backwardMin += rollup.backwardMin;
    for (let hour = 0; hour < 24; hour++) {
      sessionsByHour[hour] = (sessionsByHour[hour] ?? 0) + (rollup.sessionsByHour[hour] ?? 0);
      minutesByHour[hour] = (minutesByHour[hour] ?? 0) + (rollup.minutesByHour[hour] ?? 0);
    }
  }
  return {
    gymId,
    fromDay: range.fromDay,
    toDay: range.toDay,
    days: range.all.length,
    sessions,
    movingMin: round2(movingMin),
    forwardMin: round2(forwardMin),
    backwardMin: round2(backwardMin),
    backwardShare: shareOf(backwardMin, forwardMin),
    byHour: sessionsByHour.map((count, hour) => ({
      hour,
      sessions: count,
      minutes: round2(minutesByHour[hour] ?? 0),
    })),
    byDay: range.all.map((day) => {
      const rollup = byDate.get(day);
      return {
        day,
        sessions: rollup?.sessions ?? 0,
        movingMin: rollup?.movingMin ?? 0,
        backwardShare: rollup ? shareOf(rollup.backwardMin, rollup.forwardMin) : null,
      };
    }),
  };
}

/**
 * A gym's utilisation for researchers: each week is the research export of that week over the caller's gyms
 * (shared/src/export/research-utilisation.ts), never a day count or a total over the weeks asked for.
 */
export function researchUtilisationOf(
  gymId: string,
  weeks: ReadonlyArray<{ week: string; rollups: readonly MemberGymWeekRollup[] }>,
  k: number,
): ResearchUtilisationView {
  return {
    gymId,
    minCell: k,
    privacy:
      `Each week that has ended is its own research export: cells with fewer than ${k} distinct members, ` +
      'and cells that would give one back, are null.',
    weeks: weeks.map(({ week, rollups }) => researchWeek(week, gymId, rollups, k)),
  };
}
