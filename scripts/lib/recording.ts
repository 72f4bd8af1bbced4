/**
 * The bundled recording: a realistic 20-minute retro-walking session, 10 minutes forward at 5 km/h then 10
 * minutes backward at 2.5 km/h, as a treadmill and its sensors would emit it. Seeded, so the file in
 * test/fixtures is reproducible (`npm run recording`).
 *
 * Each line is what the gateway receives: a BLE notification (`address`, `char`, `hex`; the format of the
 * gateway's BLE replay) or an MQTT message (`topic`, `payload`; the gym's gait sensor and console).
 */
import { encodeTime } from 'ulid';
import {
  decodeCharacteristic,
  FtmsReassembler,
  normalizeReading,
  parseHex,
  resolveCharacteristic,
  toHex,
} from '../../shared/src/ble/index.js';
import { type EventBody, eventBodySchema, type TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { encodeHeartRate, encodeTreadmillData } from './ble-encoder.js';
import { createRandom } from './random.js';
import { syntheticSteps } from './synthetic-gait.js';

export interface BleLine {
  t: number;
  address: string;
  char: string;
  hex: string;
}
export interface MqttLine {
  t: number;
  topic: string;
  payload: Record<string, unknown>;
}
export type RecordingLine = BleLine | MqttLine;

export const isBleLine = (line: RecordingLine): line is BleLine => 'char' in line;

export interface RecordingOptions {
  seed: number;
  gymId: string;
  treadmillId: string;
  address: string;
  userToken: string;
}

export const DEMO_RECORDING: RecordingOptions = {
  seed: 20261124,
  gymId: 'gym-demo',
  treadmillId: 'tm-01',
  address: 'C0:FF:EE:00:00:01',
  userToken: 'm_demo01',
};

const PHASE_S = 600;
const FORWARD = { speedKmh: 5, inclinePct: 1, hrBpm: 112, strideTimeMs: 1080, strideTimeCvPct: 1.8 };
const BACKWARD = { speedKmh: 2.5, inclinePct: 0, hrBpm: 121, strideTimeMs: 1300, strideTimeCvPct: 3.2 };

export function generateRecording(options: RecordingOptions = DEMO_RECORDING): RecordingLine[] {
  const random = createRandom(options.seed);
  const topic = (kind: string) => `gyms/${options.gymId}/treadmills/${options.treadmillId}/${kind}`;
  const ble = (t: number, char: string, bytes: Uint8Array): BleLine => ({
    t,
    address: options.address,
    char,
    hex: toHex(bytes),
  });
  const lines: RecordingLine[] = [
    {
      t: 0,
      topic: topic('session'),
      payload: { type: 'session', action: 'start', userToken: options.userToken, program: 'interval' },
    },
    ble(200, '2ada', Uint8Array.of(0x04)),
  ];

  let distanceM = 0;
  let energyKcal = 0;
  for (let second = 1; second <= 2 * PHASE_S; second++) {
    const phase = second <= PHASE_S ? FORWARD : BACKWARD;
    const speedKmh = Math.max(0, phase.speedKmh + random.normal(0, 0.03));
    const hrBpm = Math.round(phase.hrBpm + 8 * Math.min(1, (second % PHASE_S) / 240) + random.normal(0, 1.5));
    distanceM += speedKmh / 3.6;
    energyKcal += (phase === FORWARD ? 4.3 : 4.6) / 60;
    const t = second * 1000;
    // A 21-byte record does not fit the default 20-byte notification, so it is split as FTMS 4.19 says.
    lines.push(
      ble(
        t,
        '2acd',
        encodeTreadmillData({
          avgSpeedKmh: (distanceM / second) * 3.6,
          distanceM: Math.round(distanceM),
          inclinePct: phase.inclinePct,
          rampDeg: (Math.atan(phase.inclinePct / 100) * 180) / Math.PI,
          energyKcal: Math.round(energyKcal),
          energyPerHourKcal: phase === FORWARD ? 258 : 276,
          energyPerMinuteKcal: phase === FORWARD ? 4 : 5,
        }),
      ),
      ble(t + 5, '2acd', encodeTreadmillData({ speedKmh, hrBpm, elapsedS: second })),
      ble(t + 400, '2a37', encodeHeartRate({ hrBpm, contact: true, rrMs: [Math.round(60000 / hrBpm)] })),
    );
  }

  const stepsOf = (phase: typeof FORWARD, direction: 'forward' | 'backward', startTs: number, seed: number) =>
    syntheticSteps({
      seed,
      startTs,
      strides: Math.floor(((PHASE_S - 2) * 1000) / phase.strideTimeMs),
      direction,
      strideTimeMs: phase.strideTimeMs,
      strideTimeCvPct: phase.strideTimeCvPct,
      asymmetryPct: direction === 'backward' ? 6 : 3,
      handrailShare: direction === 'backward' ? 0.08 : 0.02,
      stumbles: direction === 'backward' ? 1 : 0,
    });
  for (const step of [
    ...stepsOf(FORWARD, 'forward', 1500, options.seed + 1),
    ...stepsOf(BACKWARD, 'backward', PHASE_S * 1000 + 1500, options.seed + 2),
  ]) {
    const { ts, ...body } = step;
    lines.push({ t: ts, topic: topic('gait'), payload: body });
  }

  const end = 2 * PHASE_S * 1000 + 500;
  lines.push(ble(end, '2ada', Uint8Array.of(0x02, 0x01)), {
    t: end + 100,
    topic: topic('session'),
    payload: { type: 'session', action: 'end' },
  });
  return lines.sort((a, b) => a.t - b.t);
}

export const formatRecording = (lines: readonly RecordingLine[]): string =>
  `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;

/**
 * The canonical event body of one recorded line: a BLE notification decoded (split treadmill records
 * reassembled) and normalised, or an MQTT payload validated; undefined when it carries no reading.
 */
export function lineBody(line: RecordingLine, reassembler: FtmsReassembler): EventBody | undefined {
  if (isBleLine(line)) {
    const kind = resolveCharacteristic(line.char);
    const bytes = parseHex(line.hex);
    const reading = kind === 'ftms' ? reassembler.push(bytes) : kind && decodeCharacteristic(kind, bytes);
    return reading ? normalizeReading(reading) : undefined;
  }
  const parsed = eventBodySchema.safeParse(line.payload);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Turns one treadmill's recording into canonical events as the gateway would (decode, reassemble, normalise,
 * stamp), for the demo, the tests and the benchmarks. `startTs` anchors the recording's relative times.
 */
export function recordingEvents(
  lines: readonly RecordingLine[],
  origin: { startTs: number; gymId: string; treadmillId: string },
): TelemetryEvent[] {
  const reassembler = new FtmsReassembler();
  const events: TelemetryEvent[] = [];
  for (const line of lines) {
    const body = lineBody(line, reassembler);
    if (!body) continue;
    const ts = origin.startTs + line.t;
    const seq = events.length + 1;
    events.push({
      ...body,
      // Deterministic, ULID-shaped: the time part of a real ULID, then the seq (digits are Crockford base32).
      id: encodeTime(ts, 10) + String(seq).padStart(16, '0'),
      gymId: origin.gymId,
      treadmillId: origin.treadmillId,
      seq,
      ts,
      rxTs: ts,
      ...(isBleLine(line) && { raw: line.hex }),
    } as TelemetryEvent);
  }
  return events;
}
