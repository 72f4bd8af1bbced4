/**
 * Stream-processing fixtures for integration tests: a recorded gym day of several treadmills as Kinesis
 * records, a way to put them on a stream, the ingest handler on its own tables behind the local event-source
 * runner, and a snapshot of what the tables hold, for comparing runs.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { type DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createIngestHandler } from '../../functions/ingest/handler.js';
import { documentClientFor } from '../../shared/src/aws/clients.js';
import { memberProfileKey } from '../../functions/lib/members-repo.js';
import { createProcessing, type Processing } from '../../functions/lib/processing.js';
import { EventSourceRunner, type EventSourceRunnerOptions } from '../../scripts/local/event-source-runner.js';
import type { EmbeddedAws } from '../../scripts/local/kit.js';
import type { KinesisBatchHandler } from '../../scripts/local/lambda-shapes.js';
import { createTables } from '../../scripts/local/provision.js';
import { type TableName, tableNames } from '../../shared/src/tables.js';
import { partitionKey, type TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { StreamBuilder, T0 } from './events.js';

export const MEMBERS = {
  'member-a': { weightKg: 68, birthYear: 1958, sex: 'female', email: 'a@example.org', consent: true },
  'member-b': { weightKg: 90, birthYear: 1991, sex: 'male', email: 'b@example.org', consent: true },
} as const;

/**
 * Three treadmills over an hour: a backward session with a stumble and a heart rate over the member's limit,
 * a change of member, an idle end, a machine-started session with a safety stop and an error code, an
 * anonymous walk, heartbeats between sessions.
 */
export function recordedDay(): TelemetryEvent[][] {
  const one = new StreamBuilder('gym-a', 'tm-01');
  one.add(T0, { type: 'session', action: 'start', userToken: 'member-a', program: 'backward' });
  one.walk(T0 + 1_000, 420, { speedKmh: 2.5, hrBpm: 118, strike: 'toe', inclinePct: 3 });
  one.add(T0 + 200_300, { type: 'step', foot: 'L', strike: 'toe', stumble: true });
  one.add(T0 + 300_500, { type: 'hr', hrBpm: 150 });
  one.add(T0 + 421_000, { type: 'session', action: 'start', userToken: 'member-b' });
  one.walk(T0 + 422_000, 300, { speedKmh: 5.5, hrBpm: 128, strike: 'heel' });
  one.walk(T0 + 722_000, 360, { speedKmh: 0, hrBpm: 95 });
  one.add(T0 + 1_100_000, { type: 'heartbeat', online: true });

  const two = new StreamBuilder('gym-a', 'tm-02');
  two.add(T0 + 30_000, { type: 'machine', state: 'started', odometerKm: 4999.8, beltHours: 700 });
  two.walk(T0 + 31_000, 240, { speedKmh: 6.2, hrBpm: 135, strike: 'heel' });
  two.add(T0 + 271_000, { type: 'machine', state: 'safety_stop' });
  two.add(T0 + 272_000, { type: 'machine', errorCode: 'E12', motorTempC: 95, odometerKm: 5000.3 });
  two.add(T0 + 400_000, { type: 'machine', state: 'started' });
  two.walk(T0 + 401_000, 200, { speedKmh: 4.8 });
  two.add(T0 + 601_000, { type: 'machine', state: 'stopped' });

  const three = new StreamBuilder('gym-b', 'tm-01');
  three.add(T0, { type: 'heartbeat', online: true, firmware: '3.0.1' });
  three.walk(T0 + 60_000, 500, { speedKmh: 3.8, hrBpm: 110 });
  three.add(T0 + 560_000, { type: 'session', action: 'end' });
  return [one.events, two.events, three.events];
}

/** Records of up to `perRecord` consecutive events per treadmill, interleaved by time as gateways send them. */
export function toRecords(streams: readonly TelemetryEvent[][], perRecord = 25): PutRecordsRequestEntry[] {
  const chunks = streams.flatMap((events) => {
    const out: TelemetryEvent[][] = [];
    for (let i = 0; i < events.length; i += perRecord) out.push(events.slice(i, i + perRecord));
    return out;
  });
  chunks.sort((a, b) => (a[0]?.ts ?? 0) - (b[0]?.ts ?? 0));
  return chunks.map((events) => {
    const { gymId, treadmillId } = events[0]!;
    return {
      PartitionKey: partitionKey(gymId, treadmillId),
      Data: Buffer.from(JSON.stringify({ v: 1, gymId, treadmillId, events })),
    };
  });
}

/** Puts in order, one call at a time: a treadmill's records keep their order on its shard. */
export async function putRecords(kit: EmbeddedAws, streamName: string, records: PutRecordsRequestEntry[]) {
  for (let i = 0; i < records.length; i += 200) {
    const result = await kit.kinesis.client.send(
      new PutRecordsCommand({ StreamName: streamName, Records: records.slice(i, i + 200) }),
    );
    if (result.FailedRecordCount) throw new Error(`${result.FailedRecordCount} records were not put`);
  }
}

export interface PipelineRun {
  processing: Processing;
  runner: EventSourceRunner;
  doc: DynamoDBDocumentClient;
  tables: Readonly<Record<TableName, string>>;
}

/**
 * Tables under `prefix` (with the member profiles), the ingest handler over `client` (so a test can add
 * middleware), optionally wrapped, and a started runner reading `streamName` from the start.
 */
export async function startPipeline(
  kit: EmbeddedAws,
  options: {
    prefix: string;
    streamName?: string;
    client?: DynamoDBClient;
    wrap?: (handler: KinesisBatchHandler) => KinesisBatchHandler;
    runner?: Partial<EventSourceRunnerOptions>;
  },
): Promise<PipelineRun> {
  const client = options.client ?? kit.dynamo.client;
  await createTables(kit.dynamo.client, options.prefix);
  const tables = tableNames(options.prefix);
  for (const [token, profile] of Object.entries(MEMBERS)) {
    await kit.dynamo.doc.send(
      new PutCommand({ TableName: tables.members, Item: { ...memberProfileKey(token), ...profile } }),
    );
  }
  const doc = documentClientFor(client);
  const processing = createProcessing(doc, options.prefix);
  const handler: KinesisBatchHandler = createIngestHandler(() => processing);
  const runner = new EventSourceRunner({
    kinesis: kit.kinesis.client,
    streamName: options.streamName ?? kit.streamName,
    handler: options.wrap ? options.wrap(handler) : handler,
    batchSize: 20,
    pollIntervalMs: 10,
    retryDelayMs: () => 1,
    ...options.runner,
  });
  await runner.start();
  return { processing, runner, doc, tables };
}

/**
 * Every item of the tables stream processing writes, sorted by key. The fleet item's `version` is left out: it
 * counts commits (a concurrency token), and how many there are depends on how the stream was cut into batches.
 */
export async function snapshot(
  doc: DynamoDBDocumentClient,
  tables: Readonly<Record<TableName, string>>,
  which: readonly TableName[] = ['fleet', 'sessions', 'rollups'],
): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const table of which) {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: tables[table], ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) {
        const { version: _version, ...rest } = item;
        items.push(table === 'fleet' ? rest : item);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    out[table] = items.sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
  }
  return out;
}
