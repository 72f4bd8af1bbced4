import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dayKey, isoWeekKey } from '../../shared/src/iso-week.js';
import {
  addSessionToGymDay,
  addSessionToMemberGymWeek,
  addSessionToMemberWeek,
  ageBand,
  type GymDayRollup,
  markEntries,
  memberEntry,
  type MemberGymWeekRollup,
  minutesByHour,
  sessionEntry,
  type Stored,
} from '../../shared/src/metrics/rollups.js';
import {
  finalizeSession,
  reduceSession,
  type SessionSummary,
  startSession,
} from '../../shared/src/metrics/session.js';
import { StreamBuilder, T0 } from '../support/events.js';

function summaryOf(
  treadmillId: string,
  userToken: string | undefined,
  startTs: number,
  seconds: number,
  strike: 'heel' | 'toe',
): SessionSummary {
  const b = new StreamBuilder('gym-a', treadmillId);
  b.walk(startTs, seconds, { speedKmh: strike === 'toe' ? 3 : 5, hrBpm: 115, strike });
  const state = startSession({
    sessionId: `gym-a:${treadmillId}:${startTs}`,
    gymId: 'gym-a',
    treadmillId,
    startTs,
    ...(userToken && { userToken }),
  });
  return finalizeSession(reduceSession(state, b.events).state, {});
}

/**
 * Adds sessions in order as RollupsRepo does (docs/architecture.md section 7.2): a session with a marker is skipped;
 * after each add, the entries it unmarked get markers and leave the rollup.
 */
function foldOnce<T extends object>(
  order: readonly SessionSummary[],
  add: (
    rollup: Stored<T> | undefined,
    session: SessionSummary,
    markers: ReadonlySet<string>,
  ) => Stored<T> | null,
): Stored<T> {
  const markers = new Set<string>();
  let rollup: Stored<T> | undefined;
  for (const session of order) {
    if (markers.has(sessionEntry(session.sessionId))) continue;
    const next = add(rollup, session, markers);
    if (next === null) continue;
    for (const entry of next.unmarked) markers.add(entry);
    rollup = markEntries(next, next.unmarked);
  }
  if (rollup === undefined) throw new Error('no session added');
  return rollup;
}

describe('calendar keys (UTC)', () => {
  it('numbers ISO weeks across year ends', () => {
    expect(isoWeekKey(Date.UTC(2026, 0, 1))).toBe('2026-W01'); // a Thursday
    expect(isoWeekKey(Date.UTC(2027, 0, 1))).toBe('2026-W53'); // a Friday: still the old year's week
    expect(isoWeekKey(Date.UTC(2024, 11, 30))).toBe('2025-W01'); // a Monday: already the new year's week
    expect(isoWeekKey(T0)).toBe('2026-W48');
    expect(dayKey(T0)).toBe('2026-11-24');
  });

  it('bands ages by decade and refuses implausible ones', () => {
    expect(ageBand(1990, T0)).toBe('30-39');
    expect(ageBand(1980, T0)).toBe('40-49');
    expect(ageBand(undefined, T0)).toBeNull();
    expect(ageBand(1800, T0)).toBeNull();
  });
});

describe('member week', () => {
  const first = summaryOf('tm-01', 'member-a', T0, 600, 'toe');
  const second = summaryOf('tm-01', 'member-a', T0 + 86_400_000, 300, 'heel');

  it('adds sessions once, with totals, balance statistics and bests', () => {
    const traits = { ageBand: '40-49', sex: 'female' as const };
    const one = addSessionToMemberWeek(undefined, first, traits)!;
    const two = addSessionToMemberWeek(one, second, traits)!;
    // Still unmarked in the rollup (its marker not written yet): held.
    expect(two.unmarked).toEqual([sessionEntry(first.sessionId), sessionEntry(second.sessionId)]);
    expect(addSessionToMemberWeek(two, first, traits)).toBeNull();
    expect(two.sessions).toBe(2);
    expect(two.week).toBe('2026-W48');
    expect(two.backwardMin).toBeCloseTo(first.backward.movingS / 60, 1);
    expect(two.forwardMin).toBeCloseTo(second.forward.movingS / 60, 1);
    expect(two.kcal).toBeCloseTo(first.calories.kcal + second.calories.kcal, 1);
    expect(two.balanceScore.n).toBe([first, second].filter((s) => s.balance.score !== null).length);
    expect(two.best.longestMovingMin).toBeCloseTo(first.movingS / 60, 1);
    expect(two.best.backwardSpeedKmh).toBe(first.backward.meanSpeedKmh);
    expect(two).toMatchObject({ ageBand: '40-49', sex: 'female' });
    expect(JSON.stringify(two)).not.toMatch(/@/);
  });

  it('refuses a session without a member', () => {
    expect(() =>
      addSessionToMemberWeek(undefined, summaryOf('tm-01', undefined, T0, 10, 'heel'), {
        ageBand: null,
        sex: null,
      }),
    ).toThrow(/no member/);
  });
});

describe('gym day', () => {
  const sessions = [
    summaryOf('tm-01', 'member-a', T0, 400, 'toe'),
    summaryOf('tm-02', 'member-b', T0 + 1_800_000, 900, 'heel'),
    summaryOf('tm-03', 'member-a', T0 + 3_000_000, 200, 'heel'),
    summaryOf('tm-04', undefined, T0 + 3_100_000, 100, 'toe'),
  ];
  const fold = (order: readonly SessionSummary[]) =>
    foldOnce<GymDayRollup>(order, (day, s, markers) =>
      addSessionToGymDay(
        day,
        s,
        s.userToken === null
          ? null
          : { key: `hash-${s.userToken}`, marked: markers.has(memberEntry(`hash-${s.userToken}`)) },
      ),
    );

  it('counts sessions, distinct members and the backward share', () => {
    const day = fold(sessions);
    expect(day.sessions).toBe(4);
    expect(day.distinctMembers).toBe(2);
    const backward = sessions[0]!.backward.movingS + sessions[3]!.backward.movingS;
    const forward = sessions[1]!.forward.movingS + sessions[2]!.forward.movingS;
    expect(day.backwardShare).toBeCloseTo(backward / (backward + forward), 2);
    expect(day.minutesByHour.reduce((a, b) => a + b, 0)).toBeCloseTo(day.movingMin, 1);
  });

  it('counts a member once while its entry is unmarked, and again not once it has a marker', () => {
    const [a1, , a2] = sessions;
    const one = addSessionToGymDay(undefined, a1!, { key: 'hash-member-a', marked: false })!;
    expect(one.unmarked).toEqual([memberEntry('hash-member-a'), sessionEntry(a1!.sessionId)]);
    expect(addSessionToGymDay(one, a2!, { key: 'hash-member-a', marked: false })?.distinctMembers).toBe(1);
    const marked = markEntries(one, one.unmarked);
    expect(marked.unmarked).toEqual([]);
    expect(addSessionToGymDay(marked, a2!, { key: 'hash-member-a', marked: true })?.distinctMembers).toBe(1);
    expect(addSessionToGymDay(one, a1!, { key: 'hash-member-a', marked: false })).toBeNull();
  });

  it('is the same whatever order the sessions come in, and repeats change nothing', () => {
    const reference = fold(sessions);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(sessions, { minLength: 4, maxLength: 4 }),
        fc.nat(3),
        (order, repeat) => {
          expect(fold([...order, order[repeat]!])).toEqual(reference);
        },
      ),
    );
  });

  it('spreads a session over the hours it spans', () => {
    const crossing = summaryOf('tm-01', 'member-a', T0 + 3_300_000, 600, 'heel'); // 09:55 to 10:05
    const hours = minutesByHour(crossing);
    expect(hours[9]).toBeGreaterThan(0);
    expect(hours[10]).toBeGreaterThan(0);
    expect(hours[9]! + hours[10]!).toBeCloseTo(crossing.movingS / 60, 1);
  });
});

describe('member week at a gym (the export unit)', () => {
  const traits = { ageBand: '30-39', sex: 'male' as const };
  const backward = summaryOf('tm-01', 'member-a', T0, 600, 'toe');
  const forward = summaryOf('tm-02', 'member-a', T0 + 86_400_000, 900, 'heel');
  const fold = (order: readonly SessionSummary[]) =>
    foldOnce<MemberGymWeekRollup>(order, (week, s) => addSessionToMemberGymWeek(week, s, 'hash-a', traits));

  it('splits minutes, distance, calories and balance by direction and keeps the whole-session totals', () => {
    const week = fold([backward, forward]);
    expect(week).toMatchObject({ week: '2026-W48', gymId: 'gym-a', memberKey: 'hash-a', sessions: 2 });
    expect(week.directions.backward.sessions).toBe(1);
    expect(week.directions.forward.sessions).toBe(1);
    expect(week.directions.backward.minutes).toBeCloseTo(backward.backward.movingS / 60, 1);
    expect(week.directions.forward.distanceM).toBeCloseTo(forward.forward.distanceM, 1);
    const directionKcal = Object.values(week.directions).reduce((sum, d) => sum + d.kcal, 0);
    expect(directionKcal).toBeCloseTo(week.kcal, 1);
    expect(week.kcal).toBeCloseTo(backward.calories.kcal + forward.calories.kcal, 1);
    expect(week.directions.backward.balance.scored).toBe(backward.balance.backward.score === null ? 0 : 1);
    expect(week.balance.sum).toBeCloseTo((backward.balance.score ?? 0) + (forward.balance.score ?? 0), 1);
    expect(week.directions.unknown.balance.scored).toBe(0);
    expect(JSON.stringify(week)).not.toContain('member-a');
  });

  it('holds each session once, whatever the order', () => {
    const reference = fold([backward, forward]);
    const unmarked = addSessionToMemberGymWeek(undefined, forward, 'hash-a', traits)!;
    expect(addSessionToMemberGymWeek(unmarked, forward, 'hash-a', traits)).toBeNull();
    expect(fold([forward, backward, forward, backward])).toEqual(reference);
  });
});
