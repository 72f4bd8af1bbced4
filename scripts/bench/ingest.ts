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
import { performance } from 'node:perf_hooks';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { createIngestHandler } from '../../functions/ingest/handler.js';
import { documentClientFor, dynamoClient, LOCAL_CREDENTIALS } from '../../shared/src/aws/clients.js';
import { mapWithConcurrency } from '../../functions/lib/concurrency.js';
import { memberProfileKey } from '../../functions/lib/members-repo.js';
import { createProcessing } from '../../functions/lib/processing.js';
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
} as const;
const ACTIVE_SECONDS_PER_MONTH = 6 * 3600 * (365 / 12);
const HOURS_PER_MONTH = 730;
const REFERENCE_EVENTS_PER_S = 4;
const LAMBDA_MEMORY_GB = 1;

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
    billedKb,
  };
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
      if (isWrite) meter.tableWriteUnits += consumed?.CapacityUnits ?? 0;
      else meter.readUnits += consumed?.CapacityUnits ?? 0;
      const table = input.TableName ? tableOf(input.TableName, prefixes()) : undefined;
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
    const context = lambdaContext('ingest', LOCAL_REGION, '000000000000');
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (const event of load.invocations) {
      const response = await handler(event, context);
      if (response.batchItemFailures.length > 0) throw new Error('the handler reported failed records');
    }
    const wallS = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const ours = { ...meter };

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
    console.log(
      `naive (per event)         ${fmt(per1000(naive.writeRequests, naiveEvents)).padStart(14)}  ${fmt(naiveWcu).padStart(11)} (${fmt(per1000(naive.tableWriteUnits, naiveEvents))} + ${fmt(per1000(naive.indexWriteUnits, naiveEvents))})  ${fmt(per1000(naive.readUnits, naiveEvents)).padStart(10)}`,
    );
    console.log(
      `  (naive on ${NAIVE_TREADMILLS} treadmills x ${NAIVE_MINUTES} min = ${naiveEvents} events; ingest conditional failures: ${ours.conditionalFailures})`,
    );
    console.log(
      `\nthroughput: ${fmt(eventsPerCoreS, 0)} events/s per core (${fmt(cpuS)} s CPU), ${fmt(load.events / wallS, 0)} events/s wall (${fmt(wallS)} s, dynalite in its own process)`,
    );

    // Cost per treadmill-month.
    const events = REFERENCE_EVENTS_PER_S * ACTIVE_SECONDS_PER_MONTH;
    const gb = 1024 ** 3;
    const kbPerEvent = load.billedKb / load.events;
    const recordsPerMonth = ACTIVE_SECONDS_PER_MONTH / (recordMs / 1000);
    const invocationsPerMonth = ACTIVE_SECONDS_PER_MONTH / (windowMs / 1000) / treadmills;
    const lambdaSPerEvent = wallS / load.events;
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
              // A shard takes 1,000 records/s: one record a second from each of 1,000 treadmills.
              `$0.015/shard-hour x ${HOURS_PER_MONTH} h / ${fleetPerStream} treadmills per shard`,
              (PRICE.kinesisShardHour * HOURS_PER_MONTH) / fleetPerStream,
            ],
            [
              'Kinesis PUT units',
              `${fmt(recordsPerMonth, 0)} records (one per ${recordMs} ms, each under 25 KB) x $0.014/M`,
              recordsPerMonth * PRICE.kinesisPutPayloadUnit,
            ],
          ] as Array<[string, string, number]>)),
      [
        'Lambda requests',
        `${fmt(invocationsPerMonth, 0)} invocations (${windowMs / 1000} s window, ${treadmills} treadmills each) x $0.20/M`,
        invocationsPerMonth * PRICE.lambdaRequest,
      ],
      [
        'Lambda compute',
        `E x ${fmt(lambdaSPerEvent * 1e6, 1)} us/event (wall, measured) x ${LAMBDA_MEMORY_GB} GB x $0.0000133334/GB-s (arm64)`,
        events * lambdaSPerEvent * LAMBDA_MEMORY_GB * PRICE.lambdaArmGbSecond,
      ],
    ];
    const total = lines.reduce((n, [, , cost]) => n + cost, 0);
    console.log(
      `\ncost per treadmill-month (us-east-1; DynamoDB on-demand, Kinesis ${kinesisMode}): E = ${REFERENCE_EVENTS_PER_S} events/s x 6 h/day x 30.4 days = ${fmt(events / 1e6)}M events`,
    );
    for (const [name, formula, cost] of lines)
      console.log(`  ${name.padEnd(18)} ${usd(cost).padStart(9)}  = ${formula}`);
    console.log(`  ${'total'.padEnd(18)} ${usd(total).padStart(9)}`);

    console.log(
      `\nRESULT events_per_s=${fmt(eventsPerCoreS, 0)} wcu_per_1000_events=${fmt(oursWcu, 1)} naive_wcu_per_1000_events=${fmt(naiveWcu, 1)} reduction=${fmt(naiveWcu / oursWcu, 1)} usd_per_treadmill_month=${fmt(total, 4)}`,
    );
  } finally {
    client.destroy();
    dynalite.child.kill();
  }
}

await main();
