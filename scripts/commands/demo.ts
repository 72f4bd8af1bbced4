/** `retrostride demo`: decodes the bundled recording and prints the session summary. */
import { readFile } from 'node:fs/promises';
import { finalizeSession, reduceSession, startSession } from '../../shared/src/metrics/session.js';
import { type Command, numberFlag, oneOf, parseCommandArgs, UsageError } from '../lib/command.js';
import { DEMO_RECORDING, type RecordingLine, recordingEvents } from '../lib/recording.js';
import { formatSummary } from '../lib/summary-format.js';

export const BUNDLED_RECORDING = new URL('../../test/fixtures/demo-session.jsonl', import.meta.url);
/** The recording's wall-clock start: a Tuesday morning in the gym. */
const DEMO_START_TS = Date.UTC(2026, 10, 24, 9, 0, 0);

export async function readRecording(path: URL | string): Promise<RecordingLine[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read recording ${String(path)}`);
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      try {
        return JSON.parse(line) as RecordingLine;
      } catch {
        throw new UsageError(`recording line ${index + 1} is not JSON`);
      }
    });
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Decode the bundled 20-minute forward/backward recording and print its session summary',
  usage:
    'demo [--recording FILE] [--weight-kg W] [--birth-year Y] [--sex male|female] [--json]\n\n' +
    '  --recording FILE  a recording in the BLE-replay/MQTT JSONL format (default: the bundled one)\n' +
    '  --weight-kg, --birth-year, --sex  the member profile (default 70 kg, 1980, female)\n' +
    '  --json            print the whole summary as JSON',
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      recording: { type: 'string' },
      'weight-kg': { type: 'string' },
      'birth-year': { type: 'string' },
      sex: { type: 'string' },
      json: { type: 'boolean' },
    });
    const sex = oneOf('sex', values.sex, ['male', 'female'] as const) ?? 'female';
    const profile = {
      weightKg: numberFlag('weight-kg', values['weight-kg'], { min: 20, max: 300 }) ?? 70,
      birthYear: numberFlag('birth-year', values['birth-year'], { min: 1900, max: 2020 }) ?? 1980,
      sex,
    };
    const lines = await readRecording(values.recording ?? BUNDLED_RECORDING);
    const origin = {
      startTs: DEMO_START_TS,
      gymId: DEMO_RECORDING.gymId,
      treadmillId: DEMO_RECORDING.treadmillId,
    };
    const events = recordingEvents(lines, origin);
    const first = events[0];
    if (!first) throw new UsageError('the recording holds no decodable reading');
    const session = startSession({
      sessionId: `${origin.gymId}.${origin.treadmillId}.${first.seq}`,
      gymId: origin.gymId,
      treadmillId: origin.treadmillId,
      startTs: first.ts,
    });
    const summary = finalizeSession(reduceSession(session, events).state, profile);
    console.log(
      values.json
        ? JSON.stringify(summary, null, 2)
        : formatSummary(summary, { lines: lines.length, events: events.length }),
    );
    return 0;
  },
};
