/**
 * `npm run bench:core`: the domain core's throughput on one core. 1M synthetic payloads (the bundled
 * recording's BLE notifications and MQTT messages, replayed across many treadmills) go through
 * JSON.parse + decode/reassemble + validate + stamp + session reduction; beside it, JSON.parse alone on the
 * same payloads is the ceiling any JSON pipeline has.
 */
import { encodeTime } from 'ulid';
import { FtmsReassembler } from '../../shared/src/ble/index.js';
import { reduceSession, type SessionState, startSession } from '../../shared/src/metrics/session.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { generateRecording, lineBody, type RecordingLine } from '../lib/recording.js';

const HELP = `Usage: npm run bench:core [-- --events N]

Measures decode + validate + reduce events/s over N synthetic payloads (default 1,000,000) on one core,
and JSON.parse alone on the same payloads. Ends with: RESULT events_per_s=N json_parse_per_s=N ratio=R`;

function parseEventsFlag(argv: string[]): number {
  const at = argv.indexOf('--events');
  if (at === -1) return 1_000_000;
  const value = Number(argv[at + 1]);
  if (!Number.isInteger(value) || value < 1000) {
    console.error('bench:core: --events must be a whole number >= 1000');
    process.exit(2);
  }
  return value;
}

/** Events a session reducer sees per call: a Kinesis record of one treadmill holds about this many. */
const BATCH = 100;
const START_TS = Date.UTC(2026, 10, 24, 9);

interface Payload {
  treadmill: number;
  t: number;
  kind: 'ble' | 'mqtt';
  json: string;
}

function buildPayloads(count: number): Payload[] {
  const recording = generateRecording();
  const payloads: Payload[] = [];
  for (let treadmill = 0; payloads.length < count; treadmill++) {
    for (const line of recording) {
      if (payloads.length === count) break;
      const message =
        'char' in line ? { address: line.address, char: line.char, hex: line.hex } : line.payload;
      payloads.push({
        treadmill,
        t: line.t,
        kind: 'char' in line ? 'ble' : 'mqtt',
        json: JSON.stringify(message),
      });
    }
  }
  return payloads;
}

function jsonParseOnly(payloads: readonly Payload[]): number {
  const started = performance.now();
  let keys = 0;
  for (const payload of payloads) keys += Object.keys(JSON.parse(payload.json) as object).length;
  if (keys === 0) throw new Error('nothing parsed');
  return performance.now() - started;
}

function pipeline(payloads: readonly Payload[]): { ms: number; events: number } {
  const treadmills = new Map<
    number,
    { reassembler: FtmsReassembler; seq: number; pending: TelemetryEvent[]; state: SessionState }
  >();
  let events = 0;
  const started = performance.now();
  for (const payload of payloads) {
    let tm = treadmills.get(payload.treadmill);
    if (!tm) {
      const treadmillId = `tm-${payload.treadmill}`;
      const state = startSession({
        sessionId: `s-${payload.treadmill}`,
        gymId: 'gym-bench',
        treadmillId,
        startTs: START_TS,
      });
      tm = { reassembler: new FtmsReassembler(), seq: 0, pending: [], state };
      treadmills.set(payload.treadmill, tm);
    }
    const message = JSON.parse(payload.json) as Record<string, unknown>;
    const line = (
      payload.kind === 'ble' ? { t: payload.t, ...message } : { t: payload.t, topic: '', payload: message }
    ) as RecordingLine;
    const body = lineBody(line, tm.reassembler);
    if (!body) continue;
    const ts = START_TS + payload.t;
    const seq = ++tm.seq;
    tm.pending.push({
      ...body,
      id: encodeTime(ts, 10) + String(seq).padStart(16, '0'),
      gymId: 'gym-bench',
      treadmillId: tm.state.treadmillId,
      seq,
      ts,
      rxTs: ts,
    } as TelemetryEvent);
    events++;
    if (tm.pending.length === BATCH) {
      tm.state = reduceSession(tm.state, tm.pending).state;
      tm.pending = [];
    }
  }
  for (const tm of treadmills.values())
    if (tm.pending.length > 0) tm.state = reduceSession(tm.state, tm.pending).state;
  return { ms: performance.now() - started, events };
}

if (process.argv.includes('--help')) {
  console.log(HELP);
} else {
  const count = parseEventsFlag(process.argv);
  console.log(
    `node ${process.version}, ${count.toLocaleString('en')} payloads (BLE notifications and MQTT messages)`,
  );
  const payloads = buildPayloads(count);
  pipeline(payloads.slice(0, 50_000)); // warm-up: let the JIT settle before measuring
  jsonParseOnly(payloads.slice(0, 50_000));
  const parseMs = jsonParseOnly(payloads);
  const { ms, events } = pipeline(payloads);
  const eventsPerS = Math.round((events / ms) * 1000);
  const payloadsPerS = Math.round((count / ms) * 1000);
  const parsePerS = Math.round((count / parseMs) * 1000);
  console.log(`JSON.parse alone           ${parsePerS.toLocaleString('en').padStart(12)} payloads/s`);
  console.log(
    `decode+validate+reduce     ${payloadsPerS.toLocaleString('en').padStart(12)} payloads/s -> ${events.toLocaleString('en')} events, ${eventsPerS.toLocaleString('en')} events/s`,
  );
  console.log(`ratio to JSON.parse        ${(payloadsPerS / parsePerS).toFixed(3)}`);
  console.log(
    `RESULT events_per_s=${eventsPerS} json_parse_per_s=${parsePerS} ratio=${(payloadsPerS / parsePerS).toFixed(3)}`,
  );
}
