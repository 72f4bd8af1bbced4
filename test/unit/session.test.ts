import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  finalizeSession,
  reduceSession,
  type SessionState,
  startSession,
  TIMELINE_CHUNK_POINTS,
  type TimelineChunk,
} from '../../shared/src/metrics/session.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { StreamBuilder, T0 } from '../support/events.js';

const meta = { sessionId: 's-1', gymId: 'gym-a', treadmillId: 'tm-01', startTs: T0 };
const profile = { weightKg: 70, birthYear: 1986, sex: 'female' as const };

/** 10 minutes forward at 5 km/h (heel strikes), then 10 minutes backward at 2.5 km/h (toe strikes). */
function forwardThenBackward(): TelemetryEvent[] {
  return new StreamBuilder()
    .add(T0, { type: 'session', action: 'start', userToken: 'm_ann01', program: 'interval' })
    .walk(T0 + 1000, 600, { speedKmh: 5, hrBpm: 115, strike: 'heel' })
    .walk(T0 + 601_000, 600, { speedKmh: 2.5, inclinePct: 2, hrBpm: 120, strike: 'toe', stepMs: 650 }).events;
}

function reduceInBatches(events: readonly TelemetryEvent[], cuts: number[]) {
  let state: SessionState = startSession(meta);
  const chunks: TimelineChunk[] = [];
  let from = 0;
  for (const cut of [...cuts.sort((a, b) => a - b), events.length]) {
    const result = reduceSession(JSON.parse(JSON.stringify(state)), events.slice(from, cut));
    state = result.state;
    chunks.push(...result.sealedChunks);
    from = Math.max(from, cut);
  }
  return { state, chunks };
}

describe('session reducer', () => {
  const events = forwardThenBackward();
  const { state, chunks } = reduceInBatches(events, []);
  const summary = finalizeSession(state, profile);

  it('splits time and distance forward and backward from the foot-strike pattern', () => {
    expect(summary.forward.distanceM).toBeGreaterThan(820);
    expect(summary.forward.distanceM).toBeLessThan(845); // 5 km/h for ~600 s = 833 m
    expect(summary.backward.distanceM).toBeGreaterThan(405);
    expect(summary.backward.distanceM).toBeLessThan(420); // 2.5 km/h for ~600 s = 417 m
    expect(summary.backward.meanSpeedKmh).toBeCloseTo(2.5, 1);
    expect(summary.forward.meanSpeedKmh).toBeCloseTo(5, 1);
    expect(summary.backwardShare).toBeCloseTo(0.5, 1);
    expect(summary.userToken).toBe('m_ann01');
  });

  it('prices backward minutes with the backward model and keeps heart-rate statistics', () => {
    expect(summary.calories.modelSeconds['acsm-walking-backward']).toBeGreaterThan(550);
    expect(summary.calories.kcal).toBeGreaterThan(50);
    expect(summary.heartRate.maxBpm).toBe(124);
    expect(summary.heartRate.meanBpm).toBeGreaterThan(115);
    const zoned = summary.heartRate.zonesS.reduce((a, b) => a + b, 0);
    expect(zoned).toBeGreaterThan(1100);
    expect(summary.elevationGainM).toBeCloseTo(summary.backward.distanceM * 0.02, 0);
  });

  it('keeps a bounded timeline of one point per 10 s in chunks', () => {
    const points = [...chunks.flatMap((c) => c.points), ...state.timeline.points];
    expect(points.length).toBeGreaterThan(115);
    expect(points.length).toBeLessThanOrEqual(121);
    expect(chunks.every((c) => c.points.length <= TIMELINE_CHUNK_POINTS)).toBe(true);
    expect(points.at(-1)?.[4]).toBe('b');
    expect(points[3]?.[4]).toBe('f');
  });

  it('ignores gaps over 10 s instead of integrating them', () => {
    const gappy = new StreamBuilder()
      .walk(T0, 60, { speedKmh: 6 })
      .walk(T0 + 60_000 + 120_000, 60, { speedKmh: 6 }).events;
    const s = finalizeSession(reduceSession(startSession(meta), gappy).state);
    expect(s.gapS).toBeGreaterThanOrEqual(120);
    expect(s.unknownDirection.distanceM).toBeCloseTo((6 / 3.6) * 118, 0);
  });

  it('uses the treadmill energy counter as a delta, even when it never resets', () => {
    const b = new StreamBuilder();
    for (let i = 0; i < 30; i++) b.add(T0 + i * 1000, { type: 'belt', speedKmh: 5, energyKcal: 5000 + i });
    expect(finalizeSession(reduceSession(startSession(meta), b.events).state).calories.treadmillKcal).toBe(
      29,
    );
  });

  it('flags profile defaults', () => {
    expect(finalizeSession(state).profileDefaults).toEqual(['weightKg', 'birthYear', 'sex']);
    expect(summary.profileDefaults).toEqual([]);
  });

  it('serialises a 2-hour session state to under 8 KB of JSON', () => {
    const long = new StreamBuilder().walk(T0, 7200, { speedKmh: 4, hrBpm: 110, strike: 'toe' }).events;
    const result = reduceSession(startSession(meta), long);
    expect(JSON.stringify(result.state).length).toBeLessThan(8 * 1024);
  });

  it('gives the identical summary for any split into batches, with any batch replayed', () => {
    const whole = JSON.stringify(summary);
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: events.length }), { maxLength: 6 }),
        fc.array(fc.tuple(fc.nat({ max: events.length }), fc.nat({ max: 400 })), { maxLength: 3 }),
        (cuts, replays) => {
          // A replay re-delivers an earlier slice after the cut that follows it, as a retried batch would.
          let state: SessionState = startSession(meta);
          const sorted = [...cuts].sort((a, b) => a - b);
          let from = 0;
          for (const cut of [...sorted, events.length]) {
            state = reduceSession(state, events.slice(from, cut)).state;
            for (const [start, length] of replays) {
              if (start < cut)
                state = reduceSession(state, events.slice(start, Math.min(cut, start + length))).state;
            }
            from = Math.max(from, cut);
          }
          expect(JSON.stringify(finalizeSession(state, profile))).toBe(whole);
        },
      ),
      { numRuns: 40 },
    );
  });
});
