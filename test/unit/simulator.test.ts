import { describe, expect, it } from 'vitest';
import { HISTORY_RATES, LIVE_RATES } from '../../scripts/local/history.js';
import { GymSimulator, type SimMessage } from '../../scripts/sim/gym-simulator.js';
import { decodeCharacteristic, parseHex } from '../../shared/src/ble/index.js';
import { eventBodySchema } from '../../shared/src/telemetry/events.js';

const START = Date.UTC(2026, 10, 24, 9);
const MINUTES = 20;

function run(seed: number): SimMessage[] {
  const sim = new GymSimulator({ seed, sessionMinutes: [3, 8], idleMinutes: [0.5, 1] }, START);
  const out: SimMessage[] = [];
  for (let t = START; t <= START + MINUTES * 60_000; t += 5_000) out.push(...sim.advance(t));
  return out;
}

describe('gym simulator', () => {
  const messages = run(42);
  const kindOf = (m: SimMessage) => m.topic.split('/')[4];
  const bodies = messages.filter((m) => kindOf(m) !== 'ftms').map((m) => m.payload);

  it('is deterministic for a seed', () => {
    expect(JSON.stringify(run(42).slice(0, 5000))).toBe(JSON.stringify(messages.slice(0, 5000)));
    expect(JSON.stringify(run(43).slice(0, 5000))).not.toBe(JSON.stringify(messages.slice(0, 5000)));
  });

  it('publishes on docs/architecture.md topics, JSON that validates and FTMS frames that decode', () => {
    for (const m of messages)
      expect(m.topic).toMatch(/^gyms\/gym-[ab]\/treadmills\/tm-\d\d\/(telemetry|status|gait|session|ftms)$/);
    for (const body of bodies) expect(eventBodySchema.safeParse(body).success).toBe(true);
    const frames = messages.filter((m) => kindOf(m) === 'ftms');
    expect(frames.length).toBeGreaterThan(1000);
    const partial = frames.filter(
      ({ payload }) => decodeCharacteristic(String(payload.char), parseHex(String(payload.hex))).partial,
    );
    expect(partial).toEqual([]);
  });

  it('has backward walkers at 1.5-3.5 km/h with toe-first steps, and forward walkers heel-first', () => {
    const sessions = bodies.filter((b) => b.type === 'session' && b.action === 'start');
    expect(sessions.some((b) => b.program === 'backward')).toBe(true);
    expect(sessions.some((b) => b.program === 'forward')).toBe(true);
    const steps = bodies.filter((b) => b.type === 'step');
    expect(steps.some((b) => b.strike === 'toe')).toBe(true);
    expect(steps.some((b) => b.strike === 'heel')).toBe(true);
    expect(steps.some((b) => b.handrail === true)).toBe(true);
  });

  it('emits about 4 events per second per busy treadmill, as the issue assumes', () => {
    const perTreadmillPerS = messages.length / 24 / (MINUTES * 60);
    expect(perTreadmillPerS).toBeGreaterThan(2.5);
    expect(perTreadmillPerS).toBeLessThan(5.5);
  });
});

describe('gym simulator at the history rates', () => {
  const DAY_MS = 86_400_000;
  // Monday 00:00 UTC: two whole days of a closed-at-night gym.
  const MONDAY = Date.UTC(2026, 10, 23);
  const sim = new GymSimulator({ seed: 5, ...HISTORY_RATES, gaitSensorEvery: 4 }, MONDAY);
  const messages = sim.advance(MONDAY + 2 * DAY_MS);
  const kindOf = (m: SimMessage) => m.topic.split('/')[4];
  const treadmillOf = (m: SimMessage) => m.topic.split('/')[3];
  const onTreadmill = (m: SimMessage, gymId: string, treadmillId: string) =>
    m.topic.startsWith(`gyms/${gymId}/treadmills/${treadmillId}/`);
  const tsOf = (m: SimMessage) => Number(m.payload.ts);

  it('starts sessions only within the opening hours', () => {
    const starts = messages.filter((m) => m.payload.type === 'session' && m.payload.action === 'start');
    expect(starts.length).toBeGreaterThan(20);
    const [open, close] = HISTORY_RATES.openingHoursUtc ?? [0, 24];
    for (const start of starts) {
      const hour = new Date(tsOf(start)).getUTCHours();
      expect(hour).toBeGreaterThanOrEqual(open);
      expect(hour).toBeLessThan(close);
    }
  });

  it('has gait sensors on every 4th treadmill only, recording in bursts', () => {
    const steps = messages.filter((m) => kindOf(m) === 'gait');
    expect(new Set(steps.map(treadmillOf))).toEqual(new Set(['tm-04', 'tm-08', 'tm-12']));
    const { onS, everyS } = HISTORY_RATES.gaitBursts ?? { onS: 0, everyS: 1 };
    for (const step of steps) expect(tsOf(step) % (everyS * 1000)).toBeLessThan(onS * 1000);
  });

  it('runs no interval program on an FTMS-only treadmill, whose direction nothing could tell', () => {
    const intervals = messages.filter(
      (m) => m.payload.type === 'session' && m.payload.program === 'interval' && kindOf(m) === 'session',
    );
    expect(intervals.length).toBeGreaterThan(0);
    // Odd treadmills sit behind a BLE bridge; every 4th has a gait sensor.
    for (const m of intervals) {
      const n = Number(treadmillOf(m)?.slice(3));
      expect(n % 2 === 0 || n % 4 === 0).toBe(true);
    }
  });

  it('carries the heart rate in the belt readings, sampled no further apart than the dropout gap', () => {
    expect(messages.filter((m) => m.payload.type === 'hr' || m.payload.char === '2a37')).toEqual([]);
    const belts = messages.filter((m) => m.payload.type === 'belt' && onTreadmill(m, 'gym-a', 'tm-02'));
    expect(belts.some((m) => typeof m.payload.hrBpm === 'number')).toBe(true);
    expect(belts.every((m) => m.payload.direction === 'forward' || m.payload.direction === 'backward')).toBe(
      true,
    );
    const gaps = belts.slice(1).map((m, i) => tsOf(m) - tsOf(belts[i] as SimMessage));
    expect(Math.min(...gaps)).toBe(HISTORY_RATES.sampleMs);
  });

  it('goes live where the history stopped: the next member of an idle treadmill comes within minutes', () => {
    const night = MONDAY + 2 * DAY_MS + 60_000; // 00:01, long before opening
    sim.advance(night);
    sim.setRates(LIVE_RATES, night);
    const live = sim.advance(night + 5 * 60_000);
    const starts = live.filter((m) => m.payload.type === 'session' && m.payload.action === 'start');
    // All but the odd treadmill that is off the network or in a fault; closed until 06:00 without setRates.
    expect(new Set(starts.map((m) => m.topic)).size).toBeGreaterThanOrEqual(20);
    // Live rates again: a reading a second, heart-rate straps on their own.
    expect(live.some((m) => m.payload.type === 'hr' || m.payload.char === '2a37')).toBe(true);
  });
});
