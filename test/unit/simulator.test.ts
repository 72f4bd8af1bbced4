import { describe, expect, it } from 'vitest';
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

  it('publishes on DESIGN.md topics, JSON that validates and FTMS frames that decode', () => {
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
