/**
 * `npm run bench:ingest`: the ingest handler against dynalite at the reference load (50 treadmills x ~4 events/s,
 * Lambda batching window 5 s), beside a naive baseline that writes per event, and the AWS cost per
 * treadmill-month modelled from the measured counts.
 *
 * - events/s per core: events over the CPU time of this process while the handler runs (handler, SDK and
 *   HTTP included); dynalite runs in a child process so that its CPU is not counted.
 * - Write units: ReturnConsumedCapacity TOTAL on every write. dynalite reports the table's units only, so the
 *   units of global secondary index writes are added by DynamoDB's rule (the projected item's size rounded
 *   up to 1 KB, per index the item is in; 1 unit to leave an index), and so are failed conditional writes
 *   (which DynamoDB charges and dynalite does not).
 * - Naive baseline: per event, one UpdateItem of the session state item (the reducer state as JSON) and one of
 *   the fleet item, both conditional on the seq watermark. It runs on a subset of the same load (its cost per
 *   event does not depend on the fleet size) because it is slow by design.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { createIngestHandler } from '../../functions/ingest/handler.js';
import { documentClientFor, dynamoClient, LOCAL_CREDENTIALS } from '../../shared/src/aws/clients.js';
import { mapWithConcurrency } from '../../functions/lib/concurrency.js';
import { memberProfileKey } from '../../functions/lib/members-repo.js';
import { createProcessing } from '../../functions/lib/processing.js';
import { scanAll } from '../../functions/lib/dynamo-paging.js';
import { INGEST_BATCH_SIZE, INGEST_RETRY_ATTEMPTS } from '../../infra/constructs/ingest.js';
import {
  advanceTreadmill,
  emptyTreadmill,
  type TreadmillState,
  treadmillStatus,
} from '../../shared/src/metrics/treadmill.js';
import { TABLES, type TableName, tableNames } from '../../shared/src/tables.js';
import { partitionKey, type TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { StreamBuilder, T0 } from '../../test/support/events.js';
import { lambdaContext, toLambdaRecord } from '../local/lambda-shapes.js';
import { LOCAL_REGION } from '../local/kit.js';
import { createTables } from '../local/provision.js';

const HELP = `Usage: npm run bench:ingest [-- --treadmills N --minutes M --fleet F --window-s W --record-ms R
                                  --kinesis provisioned|on-demand]

Replays M simulated minutes (default 20) of N treadmills (default 50) walking at about 4 events/s through the
ingest handler against dynalite, in Lambda batches of a W s batching window (default 5), the gateway sending a
record per treadmill every R ms (default 1000), then a naive per-event writer on a subset. Prints write
requests and write units per 1,000 events for both and the modelled AWS cost per treadmill-month (F treadmills
share one shard or on-demand stream, default 1,000; Kinesis provisioned by default, as a fleet at scale runs).
Ends with:
RESULT events_per_s=N wcu_per_1000_events=N naive_wcu_per_1000_events=N reduction=R usd_per_treadmill_month=N`;

const NAIVE_TREADMILLS = 10;
const NAIVE_MINUTES = 6;

const LAMBDA_MEMORY_GB = 1;

// Public on-demand prices, us-east-1.
const PRICE = {
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  kinesisStreamHour: 0.04,
  kinesisIngestGb: 0.08,
  kinesisRetrievalGb: 0.04,
  kinesisShardHour: 0.015,
  kinesisPutPayloadUnit: 0.014 / 1e6,
  lambdaRequest: 0.2 / 1e6,
  lambdaArmGbSecond: 0.0000133334,
  dynamoStorageGbMonth: 0.25,
  /** Retention beyond 24 h, up to 7 days (provisioned streams). */
  kinesisExtendedRetentionShardHour: 0.02,
} as const;

/**
 * The figures before issue 15, per component of the table below: this bench's defaults on 2026-12-06 (commit
 * 784e848 and the working tree of that day, load average 8-15 on 2 cores; Lambda compute from the run's CPU
 * time as below). The issue's own figure, on a quieter machine, is ISSUE_BASELINE.
 */
const BEFORE: Readonly<Record<string, number>> = {
  'DynamoDB writes': 0.102,
  'DynamoDB reads': 0.0022,
  'Kinesis shards': 0.0109,
  'Kinesis PUT units': 0.0092,
  'Lambda requests': 0.0005,
  'Lambda compute': 0.0077,
};
const BEFORE_TOTAL = Object.values(BEFORE).reduce((n, x) => n + x, 0);
const BEFORE_WCU_PER_1000 = 62.1;
const ISSUE_BASELINE = 0.1215;
/** Lambda gives a function a vCPU share in proportion to its memory: a whole vCPU at 1,769 MB. */
const LAMBDA_VCPU = (LAMBDA_MEMORY_GB * 1024) / 1769;
/** Kinesis limits per shard (writes) and Lambda's per invocation (a Kinesis batch's payload). */
const SHARD_RECORDS_PER_S = 1_000;
const SHARD_BYTES_PER_S = 1024 * 1024;
const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** The retention the provisioned (prod) stream is deployed with (cdk.json), which prices extended retention. */
const PROD_RETENTION_HOURS = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: { retrostride: { stages: { prod: { streamRetentionHours: number } } } };
  }
).context.retrostride.stages.prod.streamRetentionHours;
/** Sample the fleet items' sizes once a simulated minute (invocations of 5 s). */
const FLEET_SAMPLE_EVERY = 12;
const ACTIVE_SECONDS_PER_MONTH = 6 * 3600 * (365 / 12);
const HOURS_PER_MONTH = 730;
const REFERENCE_EVENTS_PER_S = 4;

function flag(argv: string[], name: string, fallback: number, min: number): number {
  const at = argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(argv[at + 1]);
  if (!Number.isInteger(value) || value < min) {
    console.error(`bench:ingest: --${name} must be a whole number >= ${min}`);
    process.exit(2);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// The reference load

/**
 * One treadmill at about 4 events/s: sessions of 10-15 minutes (a belt and a heart-rate sample per second, a
 * step every 0.5 s; members walking forwards or backwards), 20 s between sessions with a heartbeat.
 */
function treadmillStream(index: number, minutes: number): TelemetryEvent[] {
  const b = new StreamBuilder('gym-bench', `tm-${String(index).padStart(3, '0')}`);
  const end = T0 + minutes * 60_000;
  let t = T0 + ((index * 7_919) % 5_000);
  for (let k = 0; t < end; k++) {
    const backward = (index + k) % 2 === 1;
    const walkS = Math.min(600 + ((index * 37 + k * 101) % 300), Math.floor((end - t) / 1000) - 2);
    if (walkS < 10) break;
    b.add(t, {
      type: 'session',
      action: 'start',
      userToken: `member-${index}-${k % 3}`,
      program: backward ? 'backward' : 'forward',
    });
    b.walk(t + 1_000, walkS, {
      speedKmh: backward ? 2.8 : 5.2,
      hrBpm: 100 + (index % 30),
      strike: backward ? 'toe' : 'heel',
      stepMs: 500,
    });
    t += (walkS + 1) * 1_000;
    b.add(t, { type: 'session', action: 'end' });
    if (t + 10_000 < end) b.add(t + 10_000, { type: 'heartbeat', online: true });
    t += 20_000;
  }
  return b.events;
}

interface Load {
  streams: TelemetryEvent[][];
  invocations: KinesisStreamEvent[];
  events: number;
  records: number;
  recordBytes: number;
  /** The records as Lambda hands them over (base64 data and metadata): what counts against its 6 MB. */
  lambdaRecordBytes: number;
  /** Kinesis on-demand bills each record rounded up to 1 KB. */
  billedKb: number;
}

/**
 * The gateway sends a record per treadmill every `recordMs` (the events of that stretch); Lambda delivers the
 * records that arrived in each batching window (batch size large enough for the whole window).
 */
function referenceLoad(treadmills: number, minutes: number, windowMs: number, recordMs: number): Load {
  const streams = Array.from({ length: treadmills }, (_, i) => treadmillStream(i, minutes));
  const windows = new Map<number, { ts: number; record: ReturnType<typeof toLambdaRecord> }[]>();
  let sequence = 49_000_000_000_000_000_000n;
  let records = 0;
  let recordBytes = 0;
  let billedKb = 0;
  let lambdaRecordBytes = 0;
  for (const events of streams) {
    // Cut the seq-ordered events where a record's stretch ends: a treadmill's records stay in seq order.
    let chunk: TelemetryEvent[] = [];
    const flush = () => {
      const first = chunk[0];
      if (!first) return;
      const data = Buffer.from(
        JSON.stringify({ v: 1, gymId: first.gymId, treadmillId: first.treadmillId, events: chunk }),
      );
      records++;
      recordBytes += data.length;
      billedKb += Math.ceil(data.length / 1024);
      sequence += 1n;
      const record = toLambdaRecord(
        {
          Data: data,
          PartitionKey: partitionKey(first.gymId, first.treadmillId),
          SequenceNumber: sequence.toString(),
          ApproximateArrivalTimestamp: new Date(first.ts),
        },
        {
          shardId: 'shardId-000000000000',
          streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/bench',
          region: 'us-east-1',
          invokeIdentityArn: 'arn:aws:iam::000000000000:role/ingest',
        },
      );
      lambdaRecordBytes += Buffer.byteLength(JSON.stringify(record));
      const window = Math.floor((first.ts - T0) / windowMs);
      windows.set(window, [...(windows.get(window) ?? []), { ts: first.ts, record }]);
      chunk = [];
    };
    for (const event of events) {
      if (chunk.length > 0 && Math.floor(event.ts / recordMs) > Math.floor(chunk[0]!.ts / recordMs)) flush();
      chunk.push(event);
    }
    flush();
  }
  const invocations = [...windows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, entries]) => ({ Records: entries.sort((a, b) => a.ts - b.ts).map((e) => e.record) }));
  return {
    streams,
    invocations,
    events: streams.reduce((n, s) => n + s.length, 0),
    records,
    recordBytes,
    lambdaRecordBytes,
    billedKb,
  };
}

/**
 * How many treadmills one provisioned shard takes at most: `target`, or fewer where a limit binds first. Past
 * Lambda's, a shard's batch fills before the batching window ends and treadmills commit more often than here.
 */
function treadmillsPerShard(
  load: Load,
  options: { target: number; recordMs: number; windowMs: number },
): { treadmills: number; limit: string; batchBytes: number } {
  const recordsPerTreadmillS = 1000 / options.recordMs;
  const recordsPerWindow = (options.windowMs / 1000) * recordsPerTreadmillS;
  const bounds: Array<[string, number]> = [
    ['the fleet per stream asked for', options.target],
    [`${SHARD_RECORDS_PER_S} records/s`, SHARD_RECORDS_PER_S / recordsPerTreadmillS],
    ['1 MiB/s', SHARD_BYTES_PER_S / ((load.recordBytes / load.records) * recordsPerTreadmillS)],
    [
      "Lambda's 6 MB batch",
      LAMBDA_PAYLOAD_BYTES / ((load.lambdaRecordBytes / load.records) * recordsPerWindow),
    ],
    [`batch size ${INGEST_BATCH_SIZE}`, INGEST_BATCH_SIZE / recordsPerWindow],
  ];
  const [limit, bound] = bounds.reduce((a, b) => (b[1] < a[1] ? b : a));
  const treadmills = Math.max(1, Math.floor(bound));
  const batchBytes = (load.lambdaRecordBytes / load.records) * recordsPerWindow * treadmills;
  return { treadmills, limit: `bound by ${limit}`, batchBytes };
}

// ---------------------------------------------------------------------------------------------------------
// Metering

/** DynamoDB's item size: attribute names plus values (numbers by significant digits, binaries by length). */
function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') {
    const digits = String(Math.abs(value)).replace('.', '').replace(/^0+/, '').replace(/e.*$/, '').length;
    return Math.ceil(Math.max(digits, 1) / 2) + 1;
  }
  if (value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return 3 + value.reduce<number>((n, v) => n + 1 + valueSize(v), 0);
  if (value instanceof Set) return [...value].reduce<number>((n, v) => n + valueSize(v), 0);
  return 3 + itemSize(value as Record<string, unknown>) + Object.keys(value as object).length;
}

const itemSize = (item: Record<string, unknown>): number =>
  Object.entries(item).reduce((n, [name, value]) => n + Buffer.byteLength(name) + valueSize(value), 0);

interface Meter {
  writeRequests: number;
  readRequests: number;
  tableWriteUnits: number;
  indexWriteUnits: number;
  conditionalFailures: number;
  readUnits: number;
  /** Write requests and table write units per logical table: where the units go. */
  writesByTable: Partial<Record<TableName, { requests: number; units: number }>>;
}

const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);
const READ_COMMANDS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand']);

const emptyMeter = (): Meter => ({
  writeRequests: 0,
  readRequests: 0,
  tableWriteUnits: 0,
  indexWriteUnits: 0,
  conditionalFailures: 0,
  readUnits: 0,
  writesByTable: {},
});

function tableOf(physicalName: string, prefix: string): TableName | undefined {
  const names = tableNames(prefix);
  return (Object.keys(names) as TableName[]).find((table) => names[table] === physicalName);
}

/** Asks DynamoDB for consumed capacity on every call and adds it up (plus the index writes dynalite omits). */
function meterClient(client: DynamoDBClient, prefixes: () => string): Meter {
  const meter = emptyMeter();
  const inActiveIndex = new Set<string>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      const isWrite = WRITE_COMMANDS.has(command);
      if (!isWrite && !READ_COMMANDS.has(command)) return next(args);
      const input = args.input as {
        TableName?: string;
        Item?: Record<string, unknown>;
        ReturnConsumedCapacity?: string;
      };
      input.ReturnConsumedCapacity = 'TOTAL';
      if (isWrite) meter.writeRequests++;
      else meter.readRequests++;
      let result: Awaited<ReturnType<typeof next>>;
      try {
        result = await next(args);
      } catch (error) {
        if (
          error instanceof ConditionalCheckFailedException ||
          (error as Error).name === 'ConditionalCheckFailedException'
        ) {
          meter.conditionalFailures++;
          meter.tableWriteUnits += 1;
        }
        throw error;
      }
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
      const units = consumed?.CapacityUnits ?? 0;
      if (isWrite) meter.tableWriteUnits += units;
      else meter.readUnits += units;
      const table = input.TableName ? tableOf(input.TableName, prefixes()) : undefined;
      if (isWrite && table) {
        const byTable = (meter.writesByTable[table] ??= { requests: 0, units: 0 });
        byTable.requests++;
        byTable.units += units;
      }
      if (isWrite && table && input.Item && command === 'PutItemCommand') {
        const item = input.Item;
        const units = Math.ceil(itemSize(item) / 1024);
        for (const index of TABLES[table].indexes) {
          if (
            item[index.partitionKey.name] !== undefined &&
            (!index.sortKey || item[index.sortKey.name] !== undefined)
          ) {
            meter.indexWriteUnits += units;
          }
        }
        const key = `${input.TableName}|${String(item.pk)}|${String(item.sk)}`;
        if (item.activeShard !== undefined) inActiveIndex.add(key);
        else if (inActiveIndex.delete(key)) meter.indexWriteUnits += 1;
      }
      return result;
    },
    { step: 'initialize', name: 'benchMeter' },
  );
  return meter;
}

const writeUnits = (m: Meter): number => m.tableWriteUnits + m.indexWriteUnits;

// ---------------------------------------------------------------------------------------------------------
// Item sizes: a write costs one unit per started KB of the item, so the hot items' sizes set the bill.

/** What an item is, told by its keys (docs/architecture.md section 7.1). */
function itemKind(table: TableName, item: Record<string, unknown>): string {
  const pk = String(item.pk);
  const sk = String(item.sk);
  if (table === 'fleet')
    return item.session === undefined ? 'fleet item, no open session' : 'fleet item, open session';
  if (table === 'sessions') {
    if (sk === 'SUMMARY') return 'session summary';
    if (sk === 'DETAIL') return 'session detail';
    if (sk.startsWith('TL#')) return 'timeline chunk';
  }
  if (table === 'rollups') {
    if (pk.startsWith('ADDED#')) return 'rollup marker';
    if (pk.startsWith('MEMBER#') && sk.startsWith('WEEK#')) return 'rollup member week';
    if (pk.startsWith('GYM#') && sk.startsWith('DAY#')) return 'rollup gym day';
    if (pk.startsWith('WEEK#')) return 'rollup member at gym week';
  }
  return `${table} ${sk.replace(/[#:].*$/, '')}`;
}

type SizeStats = Map<string, { count: number; bytes: number; max: number }>;

function addSize(stats: SizeStats, kind: string, bytes: number): void {
  const entry = stats.get(kind) ?? { count: 0, bytes: 0, max: 0 };
  stats.set(kind, { count: entry.count + 1, bytes: entry.bytes + bytes, max: Math.max(entry.max, bytes) });
}

/** Adds the size of every item of `tables` to `stats` (an unmetered client: sampling costs nothing). */
async function sampleSizes(
  doc: DynamoDBDocumentClient,
  prefix: string,
  tables: readonly TableName[],
  stats: SizeStats,
): Promise<void> {
  for (const table of tables) {
    for (const item of await scanAll(doc, { TableName: tableNames(prefix)[table] }))
      addSize(stats, itemKind(table, item), itemSize(item));
  }
}

// ---------------------------------------------------------------------------------------------------------
// The naive baseline

async function runNaive(
  doc: DynamoDBDocumentClient,
  prefix: string,
  streams: TelemetryEvent[][],
): Promise<number> {
  const tables = tableNames(prefix);
  const cutoff = T0 + NAIVE_MINUTES * 60_000;
  const subset = streams.slice(0, NAIVE_TREADMILLS).map((events) => events.filter((e) => e.ts < cutoff));
  await mapWithConcurrency(subset, NAIVE_TREADMILLS, async (events) => {
    let state: TreadmillState = emptyTreadmill(events[0]!.gymId, events[0]!.treadmillId);
    for (const event of events) {
      state = advanceTreadmill(state, [event]).state;
      const watermark = {
        ConditionExpression: 'attribute_not_exists(seqWatermark) OR seqWatermark < :seq',
      };
      if (state.session) {
        await doc.send(
          new UpdateCommand({
            TableName: tables.sessions,
            Key: { pk: `SESSION#${state.session.sessionId}`, sk: 'STATE' },
            UpdateExpression: 'SET #state = :state, seqWatermark = :seq',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':state': JSON.stringify(state.session), ':seq': event.seq },
            ...watermark,
          }),
        );
      }
      await doc.send(
        new UpdateCommand({
          TableName: tables.fleet,
          Key: { pk: `GYM#${state.gymId}`, sk: `TM#${state.treadmillId}` },
          UpdateExpression:
            'SET #status = :status, lastSeenTs = :ts, seqWatermark = :seq, sessionId = :session',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': treadmillStatus(state),
            ':ts': state.lastSeenTs,
            ':seq': event.seq,
            ':session': state.session?.sessionId ?? 'none',
          },
          ...watermark,
        }),
      );
    }
  });
  return subset.reduce((n, events) => n + events.length, 0);
}

// ---------------------------------------------------------------------------------------------------------

async function startDynalite(): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['node_modules/dynalite/cli.js', '--host', '127.0.0.1', '--port', '0', '--createTableMs', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = /:(\d+)\s*$/.exec(chunk.toString().trim())?.[1];
  if (!port) throw new Error(`dynalite did not report its port: ${chunk.toString()}`);
  return { endpoint: `http://127.0.0.1:${port}`, child };
}

const fmt = (x: number, digits = 2): string => x.toFixed(digits);
const usd = (x: number): string => `$${x.toFixed(4)}`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return;
  }
  const treadmills = flag(argv, 'treadmills', 50, 1);
  const minutes = flag(argv, 'minutes', 20, 2);
  const fleetPerStream = flag(argv, 'fleet', 1_000, 1);
  const windowMs = flag(argv, 'window-s', 5, 1) * 1000;
  const recordMs = flag(argv, 'record-ms', 1000, 50);
  const kinesisAt = argv.indexOf('--kinesis');
  const kinesisMode = kinesisAt === -1 ? 'provisioned' : argv[kinesisAt + 1];
  if (kinesisMode !== 'provisioned' && kinesisMode !== 'on-demand') {
    console.error('bench:ingest: --kinesis must be provisioned or on-demand');
    process.exit(2);
  }
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';

  const dynalite = await startDynalite();
  let prefix = 'bench';
  const client = dynamoClient({
    endpoint: dynalite.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const meter = meterClient(client, () => prefix);
  const doc = documentClientFor(client);
  const samplerClient = dynamoClient({
    endpoint: dynalite.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const sampler = documentClientFor(samplerClient);
  try {
    await createTables(client, prefix);
    const members = tableNames(prefix).members;
    for (let i = 0; i < treadmills; i++) {
      for (let k = 0; k < 3; k++) {
        await doc.send(
          new PutCommand({
            TableName: members,
            Item: {
              ...memberProfileKey(`member-${i}-${k}`),
              weightKg: 60 + ((i * 7 + k) % 40),
              birthYear: 1950 + ((i + k * 13) % 50),
            },
          }),
        );
      }
    }

    const load = referenceLoad(treadmills, minutes, windowMs, recordMs);
    const eventsPerTreadmillS = load.events / treadmills / (minutes * 60);
    console.log(
      `reference load: ${treadmills} treadmills x ${fmt(eventsPerTreadmillS)} events/s for ${minutes} min: ${load.events} events in ${load.records} records, ${load.invocations.length} invocations (window ${windowMs / 1000} s, a record per treadmill every ${recordMs} ms)`,
    );

    Object.assign(meter, emptyMeter());
    // One container for the whole run, as Lambda keeps one per shard: its caches live across invocations.
    const processing = createProcessing(doc, prefix);
    const handler = createIngestHandler(() => processing);
    const sizes: SizeStats = new Map();
    let wallS = 0;
    let cpuS = 0;
    let retries = 0;
    for (const [index, event] of load.invocations.entries()) {
      // As the mapping does: a batch with failed records is retried from the first of them, up to 8 times.
      let records = event.Records;
      for (let attempt = 0; records.length > 0; attempt++) {
        if (attempt > INGEST_RETRY_ATTEMPTS)
          throw new Error('a batch failed more often than the mapping retries');
        retries += attempt > 0 ? 1 : 0;
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        // A context per invocation, as Lambda gives: its deadline counts from this invocation's start.
        // A batch whose every record failed is an error (the whole batch is retried).
        const response = await handler(
          { Records: records },
          lambdaContext('ingest', LOCAL_REGION, '000000000000'),
        ).catch(() => ({ batchItemFailures: [{ itemIdentifier: records[0]!.kinesis.sequenceNumber }] }));
        wallS += (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpuBefore);
        cpuS += (cpu.user + cpu.system) / 1e6;
        const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        const first = records.findIndex((record) => failed.has(record.kinesis.sequenceNumber));
        records = first === -1 ? [] : records.slice(first);
      }
      // The hot item as sessions grow, once a simulated minute, outside the timing and the meter.
      if (index % FLEET_SAMPLE_EVERY === 0) await sampleSizes(sampler, prefix, ['fleet'], sizes);
    }
    const ours = { ...meter };
    await sampleSizes(sampler, prefix, ['sessions', 'rollups'], sizes);

    prefix = 'naive';
    await createTables(client, prefix);
    Object.assign(meter, emptyMeter());
    const naiveEvents = await runNaive(doc, prefix, load.streams);
    const naive = { ...meter };

    const per1000 = (x: number, events: number) => (x / events) * 1000;
    const oursWcu = per1000(writeUnits(ours), load.events);
    const naiveWcu = per1000(writeUnits(naive), naiveEvents);
    const eventsPerCoreS = load.events / cpuS;
    console.log('\nper 1,000 events          write requests  write units (table + index)  read units');
    console.log(
      `ingest (batched)          ${fmt(per1000(ours.writeRequests, load.events)).padStart(14)}  ${fmt(oursWcu).padStart(11)} (${fmt(per1000(ours.tableWriteUnits, load.events))} + ${fmt(per1000(ours.indexWriteUnits, load.events))})  ${fmt(per1000(ours.readUnits, load.events)).padStart(10)}`,
    );
    for (const [table, { requests, units }] of Object.entries(ours.writesByTable))
      console.log(
        `  ${table.padEnd(23)} ${fmt(per1000(requests, load.events)).padStart(14)}  ${fmt(per1000(units, load.events)).padStart(11)}  (${fmt(units / requests)} units a write)`,
      );
    console.log(
      `naive (per event)         ${fmt(per1000(naive.writeRequests, naiveEvents)).padStart(14)}  ${fmt(naiveWcu).padStart(11)} (${fmt(per1000(naive.tableWriteUnits, naiveEvents))} + ${fmt(per1000(naive.indexWriteUnits, naiveEvents))})  ${fmt(per1000(naive.readUnits, naiveEvents)).padStart(10)}`,
    );
    console.log(
      `  (naive on ${NAIVE_TREADMILLS} treadmills x ${NAIVE_MINUTES} min = ${naiveEvents} events; ingest conditional failures: ${ours.conditionalFailures}, batches retried: ${retries})`,
    );
    console.log(
      "\nitem sizes (DynamoDB's measure; a write costs a unit per started KB)   items   mean B   max B",
    );
    for (const [kind, { count, bytes, max }] of [...sizes.entries()].sort(([a], [b]) => a.localeCompare(b)))
      console.log(
        `  ${kind.padEnd(66)} ${String(count).padStart(7)} ${fmt(bytes / count, 0).padStart(8)} ${String(max).padStart(7)}`,
      );
    console.log(
      `\nthroughput: ${fmt(eventsPerCoreS, 0)} events/s per core (${fmt(cpuS)} s CPU), ${fmt(load.events / wallS, 0)} events/s wall (${fmt(wallS)} s, dynalite in its own process; load average ${loadavg()[0]!.toFixed(1)})`,
    );

    // Cost per treadmill-month.
    const events = REFERENCE_EVENTS_PER_S * ACTIVE_SECONDS_PER_MONTH;
    const gb = 1024 ** 3;
    const kbPerEvent = load.billedKb / load.events;
    const recordsPerMonth = ACTIVE_SECONDS_PER_MONTH / (recordMs / 1000);
    const shard = treadmillsPerShard(load, {
      target: fleetPerStream,
      recordMs,
      windowMs,
    });
    console.log(
      `\ntreadmills per shard: ${shard.treadmills} (${shard.limit}); a shard's Lambda batch of ${windowMs / 1000} s then holds ${fmt((shard.treadmills * windowMs) / recordMs, 0)} records, ${fmt(shard.batchBytes / 1e6)} MB of ${fmt(LAMBDA_PAYLOAD_BYTES / 1e6)} MB`,
    );
    const invocationsPerMonth = ACTIVE_SECONDS_PER_MONTH / (windowMs / 1000) / shard.treadmills;
    // Billed time from CPU time at the function's vCPU share: wall time on a shared 2-core machine measures
    // the neighbours (and dynalite) more than the handler.
    const lambdaSPerEvent = cpuS / load.events / LAMBDA_VCPU;
    const storedBytesPerEvent =
      [...sizes.entries()]
        .filter(([kind]) => !kind.startsWith('fleet'))
        .reduce((n, [, { bytes }]) => n + bytes, 0) / load.events;
    const lines: Array<[string, string, number]> = [
      [
        'DynamoDB writes',
        `E x ${fmt(writeUnits(ours) / load.events, 4)} WRU/event x $0.625/M`,
        events * (writeUnits(ours) / load.events) * PRICE.dynamoWriteUnit,
      ],
      [
        'DynamoDB reads',
        `E x ${fmt(ours.readUnits / load.events, 4)} RRU/event x $0.125/M`,
        events * (ours.readUnits / load.events) * PRICE.dynamoReadUnit,
      ],
      [
        'DynamoDB storage',
        `E x ${fmt(storedBytesPerEvent, 1)} B/event kept (sessions, rollups) x $0.25/GB-month, per month kept`,
        ((events * storedBytesPerEvent) / gb) * PRICE.dynamoStorageGbMonth,
      ],
      ...(kinesisMode === 'on-demand'
        ? ([
            [
              'Kinesis ingest',
              `E x ${fmt(kbPerEvent, 4)} KB/event (records rounded up to 1 KB) x $0.08/GB`,
              ((events * kbPerEvent * 1024) / gb) * PRICE.kinesisIngestGb,
            ],
            [
              'Kinesis retrieval',
              `E x ${fmt(kbPerEvent, 4)} KB/event x $0.04/GB`,
              ((events * kbPerEvent * 1024) / gb) * PRICE.kinesisRetrievalGb,
            ],
            [
              'Kinesis stream',
              `$0.04/stream-hour x ${HOURS_PER_MONTH} h / ${fleetPerStream} treadmills per stream`,
              (PRICE.kinesisStreamHour * HOURS_PER_MONTH) / fleetPerStream,
            ],
          ] as Array<[string, string, number]>)
        : ([
            [
              'Kinesis shards',
              `$0.015/shard-hour x ${HOURS_PER_MONTH} h / ${shard.treadmills} treadmills per shard`,
              (PRICE.kinesisShardHour * HOURS_PER_MONTH) / shard.treadmills,
            ],
            [
              'Kinesis retention',
              `$0.02/shard-hour beyond 24 h (prod keeps ${PROD_RETENTION_HOURS} h) / ${shard.treadmills} treadmills per shard`,
              PROD_RETENTION_HOURS > 24
                ? (PRICE.kinesisExtendedRetentionShardHour * HOURS_PER_MONTH) / shard.treadmills
                : 0,
            ],
            [
              'Kinesis PUT units',
              `${fmt(recordsPerMonth, 0)} records (one per ${recordMs} ms, each under 25 KB) x $0.014/M`,
              recordsPerMonth * PRICE.kinesisPutPayloadUnit,
            ],
          ] as Array<[string, string, number]>)),
      [
        'Lambda requests',
        `${fmt(invocationsPerMonth, 0)} invocations (${windowMs / 1000} s window, ${shard.treadmills} treadmills each) x $0.20/M`,
        invocationsPerMonth * PRICE.lambdaRequest,
      ],
      [
        'Lambda compute',
        `E x ${fmt((cpuS / load.events) * 1e6, 1)} us CPU/event (measured) / ${fmt(LAMBDA_VCPU)} vCPU x ${LAMBDA_MEMORY_GB} GB x $0.0000133334/GB-s (arm64)`,
        events * lambdaSPerEvent * LAMBDA_MEMORY_GB * PRICE.lambdaArmGbSecond,
      ],
    ];
    const total = lines.reduce((n, [, , cost]) => n + cost, 0);
    // The issue's baseline had neither storage nor on-demand lines: compare like with like.
    const comparable = lines
      .filter(([name]) => BEFORE[name] !== undefined)
      .reduce((n, [, , cost]) => n + cost, 0);
    console.log(
      `\ncost per treadmill-month (us-east-1; DynamoDB on-demand, Kinesis ${kinesisMode}): E = ${REFERENCE_EVENTS_PER_S} events/s x 6 h/day x 30.4 days = ${fmt(events / 1e6)}M events`,
    );
    console.log(`  ${'component'.padEnd(18)} ${'before'.padStart(9)} ${'after'.padStart(9)}`);
    for (const [name, formula, cost] of lines) {
      const before = BEFORE[name];
      console.log(
        `  ${name.padEnd(18)} ${(before === undefined ? '-' : usd(before)).padStart(9)} ${usd(cost).padStart(9)}  = ${formula}`,
      );
    }
    console.log(`  ${'total'.padEnd(18)} ${usd(BEFORE_TOTAL).padStart(9)} ${usd(total).padStart(9)}`);
    console.log(
      `  ${'(same components)'.padEnd(18)} ${usd(BEFORE_TOTAL).padStart(9)} ${usd(comparable).padStart(9)}`,
    );

    const largest = (prefixOf: string) =>
      Math.max(
        0,
        ...[...sizes.entries()].filter(([kind]) => kind.startsWith(prefixOf)).map(([, v]) => v.max),
      );
    console.log(
      `\nRESULT cost_per_treadmill_month_usd=${fmt(total, 4)} (goal<=0.06, was ${ISSUE_BASELINE}; ${fmt(BEFORE_TOTAL, 4)} -> ${fmt(comparable, 4)} on the components measured before) wcu_per_1000_events=${fmt(oursWcu, 1)} (was ${BEFORE_WCU_PER_1000}) fleet_item_max_bytes=${largest('fleet item, open')} session_item_max_bytes=${largest('session detail')} rollup_item_max_bytes=${largest('rollup ')} events_per_s=${fmt(eventsPerCoreS, 0)} naive_wcu_per_1000_events=${fmt(naiveWcu, 1)} load=${loadavg()[0]!.toFixed(1)}`,
    );
  } finally {
    client.destroy();
    samplerClient.destroy();
    dynalite.child.kill();
  }
}

await main();
