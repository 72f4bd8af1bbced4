/**
 * `npm run bench:ingest-cpu`: the ingest handler's per-record CPU work on one core, without DynamoDB: Kinesis
 * records as the gateway writes them (a treadmill's consecutive events in one JSON record) decoded and
 * validated (functions/lib/ingest-decode.ts), grouped per treadmill (ingest-batch.ts), and accumulated as the
 * processor does before it writes (treadmill state and session reducers, alert rules, status hours). Beside it,
 * JSON.parse alone on the same records' text: the ceiling of any JSON pipeline. With --profile, a CPU profile
 * of the measured run, its self time summed by function.
 */
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import type { KinesisStreamRecord } from 'aws-lambda';
import { groupByTreadmill, runsOf } from '../../functions/lib/ingest-batch.js';
import { decodeRecord } from '../../functions/lib/ingest-decode.js';
import { evaluateEventAlerts } from '../../shared/src/alerts/index.js';
import { statusHoursOf } from '../../shared/src/metrics/treadmill-status-history.js';
import {
  advanceTreadmillEpochs,
  emptyTreadmill,
  type TreadmillState,
} from '../../shared/src/metrics/treadmill.js';
import { partitionKey, type TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { numberFlag, parseCommandArgs, UsageError, wantsHelp } from '../lib/command.js';
import { generateRecording, recordingEvents } from '../lib/recording.js';
import { toLambdaRecord } from '../local/lambda-shapes.js';

const GOAL_EVENTS_PER_S = 30_000;
const HELP = `Usage: npm run bench:ingest-cpu [-- --treadmills N] [--events-per-record N] [--rounds N] [--profile]

Builds the bundled 20-minute recording's events for N treadmills (default 60), packs each treadmill's events
into Kinesis records of --events-per-record events (default 2: the gateway lingers 250 ms per record, and a
treadmill sends about 4 events/s), interleaves them into batches of 100 records as the stream delivers them,
and runs ingest's per-record work (decode, validate, group, accumulate; no DynamoDB) over all of them
--rounds times (default 3, the first a warm-up), then JSON.parse alone on the same record texts. Prints
events/s per core (CPU time), the ratio to JSON.parse and, with --profile, the functions with the most self
time. Goal: >= ${GOAL_EVENTS_PER_S} events/s per core.
Ends with: RESULT ingest_events_per_s_per_core=N (goal>=${GOAL_EVENTS_PER_S}) json_parse_ratio=R top_costs=a,b,c`;

const GYM = 'gym-bench';
const BATCH_RECORDS = 100;
const START_TS = Date.UTC(2026, 10, 24, 9);
const SOURCE = {
  shardId: 'shardId-000000000000',
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/retrostride-telemetry',
  region: 'us-east-1',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/ingest',
};

interface Workload {
  batches: KinesisStreamRecord[][];
  texts: string[];
  events: number;
}

/** Each treadmill's events in records of `perRecord`, the treadmills' records interleaved, in batches. */
function buildWorkload(treadmills: number, perRecord: number): Workload {
  const recording = generateRecording();
  const perTreadmill: KinesisStreamRecord[][] = [];
  const texts: string[] = [];
  let events = 0;
  let sequence = 49_000_000_000_000_000_000n;
  for (let t = 0; t < treadmills; t++) {
    const treadmillId = `tm-${String(t).padStart(3, '0')}`;
    const all = recordingEvents(recording, { startTs: START_TS, gymId: GYM, treadmillId });
    const records: KinesisStreamRecord[] = [];
    for (let from = 0; from < all.length; from += perRecord) {
      const chunk: TelemetryEvent[] = all.slice(from, from + perRecord);
      const text = JSON.stringify({ v: 1, gymId: GYM, treadmillId, events: chunk });
      sequence += 1n;
      texts.push(text);
      events += chunk.length;
      records.push(
        toLambdaRecord(
          {
            Data: Buffer.from(text),
            PartitionKey: partitionKey(GYM, treadmillId),
            SequenceNumber: sequence.toString(),
            ApproximateArrivalTimestamp: new Date(chunk.at(-1)?.rxTs ?? START_TS),
          },
          SOURCE,
        ),
      );
    }
    perTreadmill.push(records);
  }
  const stream: KinesisStreamRecord[] = [];
  for (let index = 0; perTreadmill.some((records) => index < records.length); index++) {
    for (const records of perTreadmill) {
      const record = records[index];
      if (record) stream.push(record);
    }
  }
  const batches: KinesisStreamRecord[][] = [];
  for (let from = 0; from < stream.length; from += BATCH_RECORDS)
    batches.push(stream.slice(from, from + BATCH_RECORDS));
  return { batches, texts, events };
}

/** What one batch costs ingest before its writes: the processor's pure steps, state carried between batches. */
function ingestBatches(batches: readonly KinesisStreamRecord[][]): number {
  const states = new Map<string, TreadmillState>();
  let applied = 0;
  for (const batch of batches) {
    for (const [key, work] of groupByTreadmill(batch.map(decodeRecord))) {
      const advance = advanceTreadmillEpochs(
        states.get(key) ?? emptyTreadmill(work.gymId, work.treadmillId),
        runsOf(work),
      );
      states.set(key, advance.state);
      applied += advance.applied;
      for (const segment of advance.segments) {
        evaluateEventAlerts({
          gymId: work.gymId,
          treadmillId: work.treadmillId,
          events: segment.events,
          direction: () => segment.direction,
          sessionId: segment.sessionId ?? undefined,
          openKinds: [],
        });
      }
      statusHoursOf(advance.segments.flatMap((segment) => segment.events));
    }
  }
  return applied;
}

function parseOnly(texts: readonly string[]): number {
  let events = 0;
  for (const text of texts) events += (JSON.parse(text) as { events: unknown[] }).events.length;
  return events;
}

/** CPU seconds of `work` (one thread: the CPU time is the core's). */
function cpuSeconds<T>(work: () => T): { seconds: number; result: T } {
  const before = process.cpuUsage();
  const result = work();
  const used = process.cpuUsage(before);
  return { seconds: (used.user + used.system) / 1e6, result };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Self time by function (name and file), most first; the profiler's own frames and idle time left out. */
function selfTimes(profile: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }) {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, { name: string; file: string; us: number }>();
  let all = 0;
  profile.samples?.forEach((id, index) => {
    const delta = profile.timeDeltas?.[index] ?? 0;
    const frame = byNode.get(id)?.callFrame;
    if (!frame || frame.url === 'node:inspector' || ['(program)', '(idle)'].includes(frame.functionName))
      return;
    const name = frame.functionName || '(anonymous)';
    const file = frame.url.replace(/^.*\/(node_modules|main)\//, '');
    const entry = totals.get(`${name} ${file}`) ?? { name, file, us: 0 };
    entry.us += delta;
    totals.set(`${name} ${file}`, entry);
    all += delta;
  });
  return [...totals.values()]
    .sort((a, b) => b.us - a.us)
    .map(({ name, file, us }) => ({ name, file, share: us / all }));
}

/** One more run of the ingest work under the CPU profiler (not a measured one); prints and returns the top costs. */
async function profileIngest(workload: Workload): Promise<string[]> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  ingestBatches(workload.batches);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const costs = selfTimes(profile);
  console.log('\nself time of the ingest work, by function:');
  for (const { name, file, share } of costs.slice(0, 12))
    console.log(`${(share * 100).toFixed(1).padStart(6)} %  ${name}  ${file}`);
  return costs.slice(0, 3).map(({ name }) => name.replace(/\s+/g, '-'));
}

async function main(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(HELP);
    return 0;
  }
  const { values } = parseCommandArgs(argv, {
    treadmills: { type: 'string' },
    'events-per-record': { type: 'string' },
    rounds: { type: 'string' },
    profile: { type: 'boolean' },
  });
  const treadmills = numberFlag('treadmills', values.treadmills, { min: 1, max: 1000 }) ?? 60;
  const perRecord = numberFlag('events-per-record', values['events-per-record'], { min: 1, max: 500 }) ?? 2;
  const rounds = numberFlag('rounds', values.rounds, { min: 2, max: 50 }) ?? 3;
  for (const [name, value] of Object.entries({ treadmills, 'events-per-record': perRecord, rounds })) {
    if (!Number.isInteger(value)) throw new UsageError(`--${name} must be a whole number`);
  }

  const workload = buildWorkload(treadmills, perRecord);
  const records = workload.texts.length;
  console.log(
    `${workload.events.toLocaleString('en')} events of ${treadmills} treadmills in ${records.toLocaleString('en')} records of ${perRecord} (${workload.batches.length} batches of ${BATCH_RECORDS}), node ${process.version}`,
  );
  let ingestS = Number.POSITIVE_INFINITY;
  let parseS = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const ingest = cpuSeconds(() => ingestBatches(workload.batches));
    if (ingest.result !== workload.events)
      throw new Error(`applied ${ingest.result} of ${workload.events} events`);
    const parse = cpuSeconds(() => parseOnly(workload.texts));
    // Round 0 warms the JIT up; then the best round, the one least disturbed by the machine's other processes.
    if (round > 0) {
      ingestS = Math.min(ingestS, ingest.seconds);
      parseS = Math.min(parseS, parse.seconds);
    }
  }
  const perCore = workload.events / ingestS;
  const parsePerCore = workload.events / parseS;
  const ratio = perCore / parsePerCore;
  console.log(`ingest work       ${Math.round(perCore).toLocaleString('en').padStart(12)} events/s per core`);
  console.log(
    `JSON.parse alone  ${Math.round(parsePerCore).toLocaleString('en').padStart(12)} events/s per core`,
  );
  console.log(
    `ratio             ${ratio.toFixed(3)} (best of ${rounds - 1} rounds; load average ${loadavg()[0]?.toFixed(2)})`,
  );
  const top = values.profile ? await profileIngest(workload) : [];
  console.log(
    `\nRESULT ingest_events_per_s_per_core=${Math.round(perCore)} (goal>=${GOAL_EVENTS_PER_S}) json_parse_ratio=${ratio.toFixed(3)} top_costs=${top.join(',') || '-'}`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`bench:ingest-cpu: ${error.message}`);
      process.exit(2);
    }
    console.error(`bench:ingest-cpu: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
