/**
 * Rollups (docs/architecture.md section 7): per member per ISO week (what the progress emails read), per gym per day, and
 * per member per gym per ISO week split by direction (what the research export reads), so neither has to scan
 * sessions or read the members table.
 *
 * Exactly once without a list that grows (docs/architecture.md section 7.2): a stored rollup carries only the
 * entries (`SESSION#{id}`, on a gym day also `MEMBER#{hash}`) added to its numbers whose marker items are not
 * written yet; RollupsRepo writes the markers, then takes the entries out. An entry is held when it is unmarked
 * here or has a marker, and adding a held session returns null. Sums are rounded to 2 decimals after every
 * addition, so a gym day does not depend on the order in which sessions of different treadmills happen to be
 * finalized. Days, weeks and hours are UTC.
 *
 * No personal data: the member is the pseudonymous token; a 10-year age band and sex are copied from the
 * profile so that exports never need the members table; gym-day and member-gym-week rollups hold only a hash of
 * each token.
 */

import { dayKey, isoWeekKey } from '../iso-week.js';
import type { Direction } from '../telemetry/events.js';
import type { DirectionSummary, SessionSummary } from './session.js';
import { addSample, emptyStats, type RunningStats } from './stats.js';

const HOUR_MS = 3_600_000;

const round2 = (x: number): number => Math.round(x * 100) / 100;
const add = (a: number, b: number): number => round2(a + b);
const toMinutes = (seconds: number): number => round2(seconds / 60);

/** `30-39`; null when the birth year is missing or implausible. */
export function ageBand(birthYear: number | undefined, atTs: number): string | null {
  if (birthYear === undefined) return null;
  const age = new Date(atTs).getUTCFullYear() - birthYear;
  if (!(age >= 0 && age < 120)) return null;
  const low = Math.floor(age / 10) * 10;
  return `${low}-${low + 9}`;
}

export interface MemberWeekRollup {
  userToken: string;
  week: string;
  sessions: number;
  movingMin: number;
  forwardMin: number;
  backwardMin: number;
  unknownMin: number;
  distanceM: number;
  forwardM: number;
  backwardM: number;
  kcal: number;
  /** Statistics of the sessions' balance scores (sessions without a score are not counted). */
  balanceScore: RunningStats;
  best: {
    longestMovingMin: number;
    longestDistanceM: number;
    balanceScore: number | null;
    forwardSpeedKmh: number | null;
    backwardSpeedKmh: number | null;
  };
  /** From the member's profile at the latest session; no name, no email. */
  ageBand: string | null;
  sex: 'male' | 'female' | null;
}

export interface GymDayRollup {
  gymId: string;
  day: string;
  sessions: number;
  movingMin: number;
  forwardMin: number;
  backwardMin: number;
  unknownMin: number;
  /** Backward minutes over minutes of known direction; null while no direction is known. */
  backwardShare: number | null;
  /** Moving minutes by UTC hour of day (24 entries), a session's spread over the hours it spans. */
  minutesByHour: number[];
  /** Sessions by the UTC hour of day they started in (24 entries). */
  sessionsByHour: number[];
  distanceM: number;
  kcal: number;
  safetyStops: number;
  stumbles: number;
  /**
   * Members with a session this day, each counted once through a `MEMBER#{hash}` entry and its marker (sessions
   * without a member are not counted).
   */
  distinctMembers: number;
}

export interface MemberTraits {
  ageBand: string | null;
  sex: 'male' | 'female' | null;
}

/**
 * What a stored rollup holds besides its numbers: the entries added to them whose marker items RollupsRepo has
 * not written yet, sorted. Empty between adds, so an item's size does not depend on how many sessions it holds
 * (a list of every session id passed DynamoDB's 400 KB item limit at about 15,000 sessions a day).
 */
export interface Unmarked {
  unmarked: string[];
}
export type Stored<T> = T & Unmarked;

/** The entry (and marker sort key) of a session added to a rollup. */
export const sessionEntry = (sessionId: string): string => `SESSION#${sessionId}`;
/** The entry (and marker sort key) of a member counted in a gym day's distinct members, by token hash. */
export const memberEntry = (memberKey: string): string => `MEMBER#${memberKey}`;

const withEntries = (unmarked: readonly string[], entries: readonly string[]): string[] =>
  [...new Set([...unmarked, ...entries])].sort();

/** The rollup once these entries have their marker items: what RollupsRepo's confirming write does. */
export function markEntries<T extends Unmarked>(stored: T, entries: readonly string[]): T {
  const marked = new Set(entries);
  return { ...stored, unmarked: stored.unmarked.filter((entry) => !marked.has(entry)) };
}

/** The numbers alone, as readers get them. */
export function numbersOf<T extends object>(stored: T & Partial<Unmarked>): T {
  const { unmarked: _unmarked, ...numbers } = stored;
  return numbers as T;
}

const maxOrNull = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.max(a, b);

/**
 * The week rollup with this session added (and unmarked), or null when the session is unmarked in it already.
 * The caller has checked that the session has no marker.
 */
export function addSessionToMemberWeek(
  rollup: Stored<MemberWeekRollup> | undefined,
  summary: SessionSummary,
  traits: MemberTraits,
): Stored<MemberWeekRollup> | null {
  if (summary.userToken === null) throw new Error(`session ${summary.sessionId} has no member`);
  if (rollup?.unmarked.includes(sessionEntry(summary.sessionId))) return null;
  const base = rollup ?? emptyMemberWeek(summary.userToken, isoWeekKey(summary.startTs));
  const score = summary.balance.score;
  return {
    ...base,
    unmarked: withEntries(base.unmarked, [sessionEntry(summary.sessionId)]),
    sessions: base.sessions + 1,
    movingMin: add(base.movingMin, toMinutes(summary.movingS)),
    forwardMin: add(base.forwardMin, toMinutes(summary.forward.movingS)),
    backwardMin: add(base.backwardMin, toMinutes(summary.backward.movingS)),
    unknownMin: add(base.unknownMin, toMinutes(summary.unknownDirection.movingS)),
    distanceM: add(base.distanceM, summary.distanceM),
    forwardM: add(base.forwardM, summary.forward.distanceM),
    backwardM: add(base.backwardM, summary.backward.distanceM),
    kcal: add(base.kcal, summary.calories.kcal),
    balanceScore: score === null ? base.balanceScore : addSample(base.balanceScore, score),
    best: {
      longestMovingMin: Math.max(base.best.longestMovingMin, toMinutes(summary.movingS)),
      longestDistanceM: Math.max(base.best.longestDistanceM, summary.distanceM),
      balanceScore: maxOrNull(base.best.balanceScore, score),
      forwardSpeedKmh: maxOrNull(base.best.forwardSpeedKmh, summary.forward.meanSpeedKmh),
      backwardSpeedKmh: maxOrNull(base.best.backwardSpeedKmh, summary.backward.meanSpeedKmh),
    },
    ageBand: traits.ageBand,
    sex: traits.sex,
  };
}

function emptyMemberWeek(userToken: string, week: string): Stored<MemberWeekRollup> {
  return {
    userToken,
    week,
    unmarked: [],
    sessions: 0,
    movingMin: 0,
    forwardMin: 0,
    backwardMin: 0,
    unknownMin: 0,
    distanceM: 0,
    forwardM: 0,
    backwardM: 0,
    kcal: 0,
    balanceScore: emptyStats(),
    best: {
      longestMovingMin: 0,
      longestDistanceM: 0,
      balanceScore: null,
      forwardSpeedKmh: null,
      backwardSpeedKmh: null,
    },
    ageBand: null,
    sex: null,
  };
}

/** Moving minutes spread over the UTC hours between start and end, in proportion to the time in each. */
export function minutesByHour(summary: SessionSummary): number[] {
  const hours = new Array<number>(24).fill(0);
  const moving = toMinutes(summary.movingS);
  const span = summary.endTs - summary.startTs;
  if (span <= 0) {
    hours[new Date(summary.startTs).getUTCHours()] = moving;
    return hours;
  }
  for (let from = summary.startTs; from < summary.endTs;) {
    const to = Math.min(summary.endTs, (Math.floor(from / HOUR_MS) + 1) * HOUR_MS);
    const hour = new Date(from).getUTCHours();
    hours[hour] = (hours[hour] ?? 0) + (moving * (to - from)) / span;
    from = to;
  }
  return hours.map(round2);
}

/** The session's member on a gym day: the token's hash, and whether its `MEMBER#` entry has a marker. */
export interface DayMember {
  key: string;
  marked: boolean;
}

/**
 * The day rollup (the session's start day) with this session added (and unmarked), or null when the session is
 * unmarked in it already. The caller has checked that the session has no marker. The member counts as new when
 * its entry is neither marked nor unmarked; then it is unmarked too.
 */
export function addSessionToGymDay(
  rollup: Stored<GymDayRollup> | undefined,
  summary: SessionSummary,
  member: DayMember | null,
): Stored<GymDayRollup> | null {
  if (rollup?.unmarked.includes(sessionEntry(summary.sessionId))) return null;
  const base = rollup ?? emptyGymDay(summary.gymId, dayKey(summary.startTs));
  const forwardMin = add(base.forwardMin, toMinutes(summary.forward.movingS));
  const backwardMin = add(base.backwardMin, toMinutes(summary.backward.movingS));
  const known = forwardMin + backwardMin;
  const newMember = member !== null && !member.marked && !base.unmarked.includes(memberEntry(member.key));
  const spread = minutesByHour(summary);
  const startHour = new Date(summary.startTs).getUTCHours();
  return {
    ...base,
    unmarked: withEntries(base.unmarked, [
      sessionEntry(summary.sessionId),
      ...(newMember ? [memberEntry(member.key)] : []),
    ]),
    sessions: base.sessions + 1,
    movingMin: add(base.movingMin, toMinutes(summary.movingS)),
    forwardMin,
    backwardMin,
    unknownMin: add(base.unknownMin, toMinutes(summary.unknownDirection.movingS)),
    backwardShare: known > 0 ? round2(backwardMin / known) : null,
    minutesByHour: base.minutesByHour.map((minutes, hour) => add(minutes, spread[hour] ?? 0)),
    sessionsByHour: base.sessionsByHour.map((count, hour) => (hour === startHour ? count + 1 : count)),
    distanceM: add(base.distanceM, summary.distanceM),
    kcal: add(base.kcal, summary.calories.kcal),
    safetyStops: base.safetyStops + summary.safetyStops,
    stumbles: base.stumbles + summary.stumbles,
    distinctMembers: base.distinctMembers + (newMember ? 1 : 0),
  };
}

function emptyGymDay(gymId: string, day: string): Stored<GymDayRollup> {
  return {
    gymId,
    day,
    unmarked: [],
    sessions: 0,
    movingMin: 0,
    forwardMin: 0,
    backwardMin: 0,
    unknownMin: 0,
    backwardShare: null,
    minutesByHour: new Array<number>(24).fill(0),
    sessionsByHour: new Array<number>(24).fill(0),
    distanceM: 0,
    kcal: 0,
    safetyStops: 0,
    stumbles: 0,
    distinctMembers: 0,
  };
}

/** One direction's share of a member's week at one gym. */
export interface DirectionWeek {
  /** Sessions with moving time in this direction (a session walked both ways counts in both). */
  sessions: number;
  minutes: number;
  distanceM: number;
  /**
   * The sessions' calories shared out by moving time: the calorie model prices a session as a whole, so a
   * direction's share is an approximation (backward minutes cost more than this gives them).
   */
  kcal: number;
  /** This direction's balance scores (always none for `unknown`: balance is scored per known direction). */
  balance: ScoreTally;
}

/**
 * Scores as a count and a sum rounded after every addition: unlike Welford's running variance, the result does
 * not depend on the order in which a member's sessions at different treadmills are finalized.
 */
export interface ScoreTally {
  scored: number;
  sum: number;
}

const addScore = (tally: ScoreTally, score: number | null): ScoreTally =>
  score === null ? tally : { scored: tally.scored + 1, sum: add(tally.sum, score) };

/**
 * A member's week at one gym (the research export's unit record): keyed by a hash of the member's token, with
 * whole-session totals and the same numbers per direction.
 */
export interface MemberGymWeekRollup {
  week: string;
  gymId: string;
  memberKey: string;
  sessions: number;
  movingMin: number;
  distanceM: number;
  kcal: number;
  /** The sessions' balance scores (each the score of its direction with the most strides). */
  balance: ScoreTally;
  directions: Record<Direction, DirectionWeek>;
  ageBand: string | null;
  sex: 'male' | 'female' | null;
}

const emptyDirectionWeek = (): DirectionWeek => ({
  sessions: 0,
  minutes: 0,
  distanceM: 0,
  kcal: 0,
  balance: { scored: 0, sum: 0 },
});

function addDirection(
  base: DirectionWeek,
  part: DirectionSummary,
  kcal: number,
  score: number | null,
): DirectionWeek {
  if (part.movingS <= 0) return base;
  return {
    sessions: base.sessions + 1,
    minutes: add(base.minutes, toMinutes(part.movingS)),
    distanceM: add(base.distanceM, part.distanceM),
    kcal: add(base.kcal, kcal),
    balance: addScore(base.balance, score),
  };
}

/**
 * The member's week at the session's gym with this session added (and unmarked), or null when the session is
 * unmarked in it already. The caller has checked that the session has no marker.
 */
export function addSessionToMemberGymWeek(
  rollup: Stored<MemberGymWeekRollup> | undefined,
  summary: SessionSummary,
  memberKey: string,
  traits: MemberTraits,
): Stored<MemberGymWeekRollup> | null {
  if (rollup?.unmarked.includes(sessionEntry(summary.sessionId))) return null;
  const base = rollup ?? emptyMemberGymWeek(isoWeekKey(summary.startTs), summary.gymId, memberKey);
  const kcalOf = (part: DirectionSummary) =>
    summary.movingS > 0 ? (summary.calories.kcal * part.movingS) / summary.movingS : 0;
  const { forward, backward, unknown } = base.directions;
  return {
    ...base,
    unmarked: withEntries(base.unmarked, [sessionEntry(summary.sessionId)]),
    sessions: base.sessions + 1,
    movingMin: add(base.movingMin, toMinutes(summary.movingS)),
    distanceM: add(base.distanceM, summary.distanceM),
    kcal: add(base.kcal, summary.calories.kcal),
    balance: addScore(base.balance, summary.balance.score),
    directions: {
      forward: addDirection(forward, summary.forward, kcalOf(summary.forward), summary.balance.forward.score),
      backward: addDirection(
        backward,
        summary.backward,
        kcalOf(summary.backward),
        summary.balance.backward.score,
      ),
      unknown: addDirection(unknown, summary.unknownDirection, kcalOf(summary.unknownDirection), null),
    },
    ageBand: traits.ageBand,
    sex: traits.sex,
  };
}

function emptyMemberGymWeek(week: string, gymId: string, memberKey: string): Stored<MemberGymWeekRollup> {
  return {
    week,
    gymId,
    memberKey,
    unmarked: [],
    sessions: 0,
    movingMin: 0,
    distanceM: 0,
    kcal: 0,
    balance: { scored: 0, sum: 0 },
    directions: {
      forward: emptyDirectionWeek(),
      backward: emptyDirectionWeek(),
      unknown: emptyDirectionWeek(),
    },
    ageBand: null,
    sex: null,
  };
}
