import { describe, expect, it } from 'vitest';
import { callerOf, claimList } from '../../functions/api/identity.js';
import { ApiError, matchPath } from '../../functions/api/router.js';
import { dayRange, timelineSoFar, utilisationOf } from '../../functions/api/views.js';
import type { GymDayRollup } from '../../shared/src/metrics/rollups.js';
import { startSession, type TimelinePoint } from '../../shared/src/metrics/session.js';

const hours = (entries: Record<number, number>): number[] =>
  Array.from({ length: 24 }, (_, hour) => entries[hour] ?? 0);

function gymDay(day: string, sessionsByHour: number[], minutesByHour: number[], split = { fwd: 0, bwd: 0 }) {
  const sessions = sessionsByHour.reduce((a, b) => a + b, 0);
  const movingMin = minutesByHour.reduce((a, b) => a + b, 0);
  return {
    gymId: 'gym-a',
    day,
    sessionIds: [],
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
    memberKeys: [],
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

  it('sums hours over the days and fills days without a rollup with zeros', () => {
    const view = utilisationOf('gym-a', range, rollups, null);
    expect(view).toMatchObject({ sessions: 8, movingMin: 137, backwardShare: 0.44, suppressedBelow: null });
    expect(view.byHour[9]).toEqual({ hour: 9, sessions: 7, minutes: 105 });
    expect(view.byHour[10]).toEqual({ hour: 10, sessions: 0, minutes: 12 });
    expect(view.byDay.map((d) => d.sessions)).toEqual([5, 0, 3]);
    expect(view.byDay[1]).toEqual({ day: '2026-11-30', sessions: 0, movingMin: 0, backwardShare: null });
  });

  it('hides every cell under the threshold, minutes spilling into an empty hour included', () => {
    const view = utilisationOf('gym-a', range, rollups, 5);
    expect(view.byHour[9]).toEqual({ hour: 9, sessions: 7, minutes: 105 });
    expect(view.byHour[10]).toEqual({ hour: 10, sessions: null, minutes: null });
    expect(view.byHour[18]).toEqual({ hour: 18, sessions: null, minutes: null });
    expect(view.byHour[3]).toEqual({ hour: 3, sessions: 0, minutes: 0 });
    expect(view.byDay.map((d) => d.sessions)).toEqual([5, 0, null]);
    expect(view.sessions).toBe(8);
    expect(utilisationOf('gym-a', range, rollups.slice(1), 5)).toMatchObject({
      sessions: null,
      movingMin: null,
    });
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
