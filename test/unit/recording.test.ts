import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { BUNDLED_RECORDING } from '../../scripts/commands/demo.js';
import {
  DEMO_RECORDING,
  formatRecording,
  generateRecording,
  recordingEvents,
} from '../../scripts/lib/recording.js';
import { finalizeSession, reduceSession, startSession } from '../../shared/src/metrics/session.js';
import { eventSchema } from '../../shared/src/telemetry/events.js';

const origin = { startTs: Date.UTC(2026, 10, 24, 9), gymId: 'gym-demo', treadmillId: 'tm-01' };

describe('bundled recording', () => {
  const lines = generateRecording();

  it('is exactly what its seeded generator produces', async () => {
    expect(await readFile(BUNDLED_RECORDING, 'utf8')).toBe(formatRecording(lines));
    expect(formatRecording(generateRecording({ ...DEMO_RECORDING, seed: 7 }))).not.toBe(
      formatRecording(lines),
    );
  });

  it('splits every treadmill record across two notifications, as a 20-byte MTU forces', () => {
    const ftms = lines.filter((line) => 'char' in line && line.char === '2acd');
    expect(ftms).toHaveLength(2 * 1200);
  });

  it('decodes into valid canonical events and a forward/backward session', () => {
    const events = recordingEvents(lines, origin);
    expect(events.every((event) => eventSchema.safeParse(event).success)).toBe(true);
    const state = startSession({
      sessionId: 's',
      gymId: origin.gymId,
      treadmillId: origin.treadmillId,
      startTs: origin.startTs,
    });
    const summary = finalizeSession(reduceSession(state, events).state, {
      weightKg: 70,
      birthYear: 1980,
      sex: 'female',
    });
    expect(summary.forward.movingS).toBeCloseTo(600, -1);
    expect(summary.backward.movingS).toBeCloseTo(600, -1);
    expect(summary.forward.meanSpeedKmh).toBeCloseTo(5, 1);
    expect(summary.backward.meanSpeedKmh).toBeCloseTo(2.5, 1);
    expect(summary.calories.modelSeconds['acsm-walking-backward']).toBeGreaterThan(580);
    expect(summary.balance.forward.score).not.toBeNull();
    expect(summary.balance.backward.score).not.toBeNull();
    expect(summary.stumbles).toBe(1);
    expect(summary.calories.treadmillKcal).toBeGreaterThan(80);
  });
});
