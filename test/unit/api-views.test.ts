import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callerOf, claimList } from '../../functions/api/identity.js';
import { ApiError, matchPath } from '../../functions/api/router.js';
import { dayRange, researchUtilisationOf, timelineSoFar, utilisationOf } from '../../functions/api/views.js';
import { buildCube, exportTable } from '../../shared/src/export/research-export.js';
import { endedWeeks, researchWeek } from '../../shared/src/export/research-utilisation.js';
import type { DirectionWeek, GymDayRollup, MemberGymWeekRollup } from '../../shared/src/metrics/rollups.js';
import { startSession, type TimelinePoint } from '../../shared/src/metrics/session.js';

const hours = (entries: Record<number, number>): number[] =>
  Array.from({ length: 24 }, (_, hour) => entries[hour] ?? 0);

function gymDay(day: string, sessionsByHour: number[], minutesByHour: number[], split = { fwd: 0, bwd: 0 }) {
  const sessions = sessionsByHour.reduce((a, b) => a + b, 0);
  const movingMin = minutesByHour.reduce((a, b) => a + b, 0);
  return {
    gymId: 'gym-a',
    day,
    sessions,
    movingMin,
    forwardMin: split.fwd,
    backwardMin: split.bwd,
    unknownMin: 0,
    backwardShare: null,
    minutesByHour,
    sessionsByHour,
    distanceM: 0,
    kcal: 0,
    safetyStops: 0,
    stumbles: 0,
    distinctMembers: 0,
  } satisfies GymDayRollup;
}

describe('claims', () => {
  it('reads list claims in every shape API Gateway or Cognito may pass', () => {
    expect(claimList('[operator researcher]')).toEqual(['operator', 'researcher']);
    expect(claimList('gym-a, gym-b')).toEqual(['gym-a', 'gym-b']);
    expect(claimList(['gym-a'])).toEqual(['gym-a']);
    expect(claimList('[]')).toEqual([]);
    expect(claimList(undefined)).toEqual([]);
  });

  it('keeps known roles only and falls back to the subject for a name', () => {
    expect(callerOf({ sub: 's1', 'cognito:groups': '[admin operator]', 'custom:gyms': 'gym-a' })).toEqual({
      sub: 's1',
      username: 's1',
      roles: ['operator'],
      gyms: ['gym-a'],
    });
    expect(callerOf({ 'cognito:username': 'x' })).toBeNull();
    expect(callerOf(undefined)).toBeNull();
  });
});

describe('path matching', () => {
  it('decodes parameters and tells a mismatch from a malformed escape', () => {
    expect(matchPath('/gyms/{gymId}/sessions/{sessionId}', '/gyms/gym-a/sessions/gym-a%3Atm-01%3A7')).toEqual(
      {
        gymId: 'gym-a',
        sessionId: 'gym-a:tm-01:7',
      },
    );
    expect(matchPath('/gyms/{gymId}/sessions', '/gyms/gym-a/alerts')).toBeNull();
    expect(matchPath('/gyms/{gymId}', '/gyms/gym-a/extra')).toBeNull();
    expect(() => matchPath('/gyms/{gymId}', '/gyms/%E0%A4%A')).toThrow(ApiError);
  });
});

describe('utilisation', () => {
  const range = dayRange(Date.UTC(2026, 11, 1, 10), 3);

  it('spans whole UTC days back from today, across a month end', () => {
    expect(range).toEqual({
      fromDay: '2026-11-29',
      toDay: '2026-12-01',
      all: ['2026-11-29', '2026-11-30', '2026-12-01'],
    });
  });

  const rollups = [
    gymDay('2026-11-29', hours({ 9: 4, 18: 1 }), hours({ 9: 60, 10: 12, 18: 20 }), { fwd: 62, bwd: 30 }),
    gymDay('2026-12-01', hours({ 9: 3 }), hours({ 9: 45 }), { fwd: 15, bwd: 30 }),
  ];

  it('sums hours over the days and fills days without a rollup with zeros, nothing hidden from operators', () => {
    const view = utilisationOf('gym-a', range, rollups);
    expect(view).toMatchObject({ sessions: 8, movingMin: 137, backwardShare: 0.44 });
    expect(view.byHour[9]).toEqual({ hour: 9, sessions: 7, minutes: 105 });
    expect(view.byHour[10]).toEqual({ hour: 10, sessions: 0, minutes: 12 });
    expect(view.byHour[18]).toEqual({ hour: 18, sessions: 1, minutes: 20 });
    expect(view.byDay.map((d) => d.sessions)).toEqual([5, 0, 3]);
    expect(view.byDay[1]).toEqual({ day: '2026-11-30', sessions: 0, movingMin: 0, backwardShare: null });
  });
});

describe('research utilisation', () => {
  const K = 11;
  const tally = { scored: 0, sum: 0 };
  const part = (minutes: number): DirectionWeek => ({
    sessions: minutes > 0 ? 1 : 0,
    minutes,
    distanceM: minutes * 80,
    kcal: minutes * 4,
    balance: tally,
  });
  /** One member's week at a gym: forward and backward minutes of one session. */
  const memberWeek = (week: string, gymId: string, member: string, fwd: number, bwd: number) =>
    ({
      week,
      gymId,
      memberKey: member,
      sessions: 1,
      movingMin: fwd + bwd,
      distanceM: (fwd + bwd) * 80,
      kcal: (fwd + bwd) * 4,
      balance: tally,
      directions: { forward: part(fwd), backward: part(bwd), unknown: part(0) },
      ageBand: null,
      sex: null,
    }) satisfies MemberGymWeekRollup;
  const members = (week: string, gymId: string, count: number, bwd = 0) =>
    Array.from({ length: count }, (_, i) => memberWeek(week, gymId, `${gymId}-m${i}`, 20 + i, bwd));

  it('shows only the last ISO weeks that have ended: a week ends with its Sunday, 24:00 UTC', () => {
    expect(endedWeeks(Date.UTC(2026, 10, 23, 0, 0), 2)).toEqual(['2026-W46', '2026-W47']);
    expect(endedWeeks(Date.UTC(2026, 10, 22, 23, 59), 2)).toEqual(['2026-W45', '2026-W46']);
    expect(endedWeeks(Date.UTC(2027, 0, 5), 3)).toEqual(['2026-W51', '2026-W52', '2026-W53']);
  });

  it("gives each week the cells the caller's one-week export publishes, and null for every other", () => {
    const rollups = [...members('2026-W47', 'gym-a', 14, 5), ...members('2026-W47', 'gym-b', 3)];
    const view = researchUtilisationOf('gym-a', [{ week: '2026-W47', rollups }], K);
    const cube = buildCube(rollups);
    const exported = exportTable(cube, ['week', 'gym'], K).rows;
    // gym-b is below k, so gym-a goes too: the week's total over both gyms minus gym-a would give gym-b back.
    expect(exported).toEqual([]);
    expect(view.weeks).toEqual([
      {
        week: '2026-W47',
        weekStart: '2026-11-16',
        lastDay: '2026-11-22',
        all: null,
        byDirection: { forward: null, backward: null, unknown: null },
      },
    ]);

    const alone = researchWeek('2026-W47', 'gym-a', members('2026-W47', 'gym-a', 14, 5), K);
    const [row] = exportTable(buildCube(members('2026-W47', 'gym-a', 14, 5)), ['week', 'gym'], K).rows;
    expect(alone.all).toEqual({
      members: row?.[3],
      sessions: row?.[4],
      movingMin: row?.[5],
      movingMinMedian: row?.[6],
      distanceKm: row?.[7],
      backwardShare: row?.[14],
    });
    expect(alone.all).toMatchObject({ members: 14, sessions: 14, movingMinMedian: 31.5 });
    expect(alone.byDirection.backward).toMatchObject({ members: 14, backwardShare: 1 });
    expect(alone.byDirection.unknown).toBeNull();
  });

  it('never publishes a cell below k, and a week reads the same in every window that holds it', () => {
    const gyms = ['gym-a', 'gym-b', 'gym-c'];
    const weeks = ['2026-W45', '2026-W46', '2026-W47'];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            week: fc.constantFrom(...weeks),
            gymId: fc.constantFrom(...gyms),
            member: fc.integer({ min: 0, max: 40 }),
            fwd: fc.integer({ min: 0, max: 60 }),
            bwd: fc.integer({ min: 0, max: 30 }),
          }),
          { maxLength: 200 },
        ),
        (draws) => {
          const byKey = new Map<string, MemberGymWeekRollup>();
          for (const d of draws)
            byKey.set(
              `${d.week}|${d.gymId}|${d.member}`,
              memberWeek(d.week, d.gymId, `m${d.member}`, d.fwd + 1, d.bwd),
            );
          const all = [...byKey.values()];
          const partition = (week: string) => ({ week, rollups: all.filter((r) => r.week === week) });
          for (const gymId of gyms) {
            const long = researchUtilisationOf(gymId, weeks.map(partition), K);
            const short = researchUtilisationOf(gymId, weeks.slice(1).map(partition), K);
            expect(long.weeks.slice(1)).toEqual(short.weeks);
            for (const week of long.weeks)
              for (const cell of [week.all, ...Object.values(week.byDirection)])
                if (cell) expect(cell.members).toBeGreaterThanOrEqual(K);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a rollup of another week: a week is its own window', () => {
    expect(() => researchWeek('2026-W47', 'gym-a', members('2026-W46', 'gym-a', 1), K)).toThrow(/2026-W46/);
  });
});

describe('timeline so far', () => {
  it('puts the open chunk after the stored ones, each offset once', () => {
    const sealed: TimelinePoint[] = [
      [0, 2, 0, null, 'b'],
      [10, 2.5, 0, 90, 'b'],
    ];
    const open = startSession({ sessionId: 's', gymId: 'gym-a', treadmillId: 'tm-01', startTs: 0 });
    open.timeline = {
      index: 1,
      points: [
        [10, 2.5, 0, 90, 'b'],
        [20, 3, 1, 95, 'f'],
      ],
    };
    expect(timelineSoFar(sealed, open).map((p) => p[0])).toEqual([0, 10, 20]);
    expect(timelineSoFar(sealed, null)).toEqual(sealed);
  });
});
