import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { monotonicFactory } from 'ulid';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../shared/src/aws/clients.js';
import { kinesisClient } from '../../shared/src/aws/kinesis-client.js';
import { KinesisSink, type SinkOptions } from '../../gateway-agent/src/kinesis-sink.js';
import { Spool } from '../../gateway-agent/src/spool.js';
import { type EmbeddedAws, LOCAL_REGION, startEmbeddedAws } from '../../scripts/local/kit.js';
import { createStream } from '../../scripts/local/provision.js';
import {
  eventSchema,
  KINESIS_RECORD_MAX_BYTES,
  kinesisRecordSchema,
  type TelemetryEvent,
} from '../../shared/src/telemetry/events.js';
import { type KinesisProxy, startKinesisProxy } from '../support/kinesis-proxy.js';

const GYM = 'gym-it';
const nextId = monotonicFactory();

interface StoredRecord {
  readonly partitionKey: string;
  readonly bytes: number;
  readonly body: { v: number; gymId: string; treadmillId: string; events: TelemetryEvent[] };
}

/** Every record of the stream, shard by shard, in stream order. */
async function readStream(client: KinesisClient, streamName: string): Promise<StoredRecord[]> {
  const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamName: streamName }));
  const records: StoredRecord[] = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator: iterator } = await client.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    while (iterator) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
      for (const record of page.Records ?? []) {
        const text = Buffer.from(record.Data ?? new Uint8Array()).toString('utf8');
        records.push({
          partitionKey: record.PartitionKey ?? '',
          bytes: Buffer.byteLength(text),
          body: JSON.parse(text),
        });
      }
      iterator = (page.Records ?? []).length > 0 ? page.NextShardIterator : undefined;
    }
  }
  return records;
}

/** Per treadmill, the events in stream order. */
function eventsByTreadmill(records: readonly StoredRecord[]): Map<string, TelemetryEvent[]> {
  const byTreadmill = new Map<string, TelemetryEvent[]>();
  for (const record of records) {
    const list = byTreadmill.get(record.body.treadmillId) ?? [];
    list.push(...record.body.events);
    byTreadmill.set(record.body.treadmillId, list);
  }
  return byTreadmill;
}

/** A gym producing one event per treadmill per round, with seq per treadmill and ULIDs. */
class Producer {
  readonly produced = new Map<string, TelemetryEvent[]>();

  constructor(
    private readonly spool: Spool,
    readonly treadmills: readonly string[],
  ) {}

  async round(): Promise<void> {
    const now = Date.now();
    const events = this.treadmills.map((treadmillId) => {
      const list = this.produced.get(treadmillId) ?? [];
      const event: TelemetryEvent = {
        type: 'belt',
        speedKmh: 3 + (list.length % 40) / 10,
        inclinePct: 1,
        direction: list.length % 2 === 0 ? 'forward' : 'backward',
        id: nextId(now),
        gymId: GYM,
        treadmillId,
        seq: list.length + 1,
        ts: now,
        rxTs: now,
      };
      list.push(event);
      this.produced.set(treadmillId, list);
      return event;
    });
    await this.spool.append(events);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KinesisSink against the Kinesis emulator over HTTP', () => {
  let kit: EmbeddedAws;
  let dir: string;
  let spool: Spool;
  let sink: KinesisSink | undefined;
  let proxy: KinesisProxy | undefined;
  let streamName: string;
  let streams = 0;
  let logged: string[];

  beforeAll(async () => {
    kit = await startEmbeddedAws({ shards: 2 });
  });

  afterAll(async () => {
    await kit?.stop();
  });

  async function setUp(): Promise<void> {
    dir = await mkdtemp(join(tmpdir(), 'sink-it-'));
    spool = await Spool.open({ dir });
    streamName = `sink-it-${++streams}`;
    await createStream(kit.kinesis.client, streamName, 2);
    logged = [];
  }

  afterEach(async () => {
    await sink?.stop(2000);
    sink = undefined;
    await proxy?.close();
    proxy = undefined;
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  });

  function startSink(client: KinesisClient, options: Partial<SinkOptions> = {}): KinesisSink {
    sink = new KinesisSink(spool, {
      client,
      streamName,
      lingerMs: 20,
      retryBaseMs: 20,
      retryCapMs: 500,
      log: (line) => logged.push(line),
      ...options,
    });
    sink.start();
    return sink;
  }

  async function viaProxy(): Promise<KinesisClient> {
    proxy = await startKinesisProxy(kit.kinesis.endpoint);
    return kinesisClient({ endpoint: proxy.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  }

  async function drained(timeout = 15_000): Promise<void> {
    await expect.poll(() => spool.stats().depthEvents, { timeout, interval: 20 }).toBe(0);
  }

  it('delivers several treadmills in seq order per treadmill, in records within the size limits', async () => {
    await setUp();
    const producer = new Producer(spool, ['tm-1', 'tm-2', 'tm-3', 'tm-4', 'tm-5', 'tm-6']);
    startSink(kit.kinesis.client);
    for (let round = 0; round < 60; round++) {
      await producer.round();
      if (round % 10 === 0) await sleep(30);
    }
    await drained();

    const records = await readStream(kit.kinesis.client, streamName);
    expect(records.length).toBeGreaterThan(6);
    for (const record of records) {
      expect(record.bytes).toBeLessThanOrEqual(KINESIS_RECORD_MAX_BYTES);
      expect(kinesisRecordSchema.safeParse(record.body).success).toBe(true);
      expect(record.partitionKey).toBe(`${GYM}/${record.body.treadmillId}`);
      for (const event of record.body.events) expect(eventSchema.safeParse(event).success).toBe(true);
    }
    const stored = eventsByTreadmill(records);
    for (const [treadmill, produced] of producer.produced) expect(stored.get(treadmill)).toEqual(produced);
  });

  it('retries only the entries Kinesis failed, and keeps per-treadmill order', async () => {
    await setUp();
    const client = await viaProxy();
    const failuresLeft = new Map([
      [`${GYM}/tm-2`, 3],
      [`${GYM}/tm-5`, 2],
    ]);
    proxy!.failEntries((key) => {
      const left = failuresLeft.get(key) ?? 0;
      if (left > 0) failuresLeft.set(key, left - 1);
      return left > 0;
    });
    const producer = new Producer(spool, ['tm-1', 'tm-2', 'tm-3', 'tm-4', 'tm-5', 'tm-6']);
    const running = startSink(client);
    for (let round = 0; round < 40; round++) {
      await producer.round();
      if (round % 8 === 0) await sleep(30);
    }
    await drained();

    const entries = proxy!.putRequests.flat();
    const sentSeqs = (treadmill: string) =>
      entries
        .filter((entry) => entry.key === `${GYM}/${treadmill}`)
        .flatMap((entry) =>
          (JSON.parse(entry.data) as StoredRecord['body']).events.map((event) => event.seq),
        );
    // Healthy treadmills: every event went through the proxy exactly once.
    for (const treadmill of ['tm-1', 'tm-3', 'tm-4', 'tm-6'])
      expect(sentSeqs(treadmill)).toEqual(range(1, 40));
    // Failed entries, and nothing else, went again, each time from the same first event.
    expect(entries.filter((entry) => entry.failed)).toHaveLength(5);
    for (const [treadmill, failures] of [
      ['tm-2', 3],
      ['tm-5', 2],
    ] as const) {
      const sends = entries.filter((entry) => entry.key === `${GYM}/${treadmill}`);
      const firstSeqs = sends
        .slice(0, failures + 1)
        .map((entry) => (JSON.parse(entry.data) as StoredRecord['body']).events[0]?.seq);
      expect(sends.slice(0, failures).every((entry) => entry.failed)).toBe(true);
      expect(new Set(firstSeqs).size).toBe(1);
    }
    expect(running.stats()).toMatchObject({ throttles: 5, retries: 5, failedCalls: 0 });

    const stored = eventsByTreadmill(await readStream(kit.kinesis.client, streamName));
    for (const [treadmill, produced] of producer.produced) expect(stored.get(treadmill)).toEqual(produced);
  });

  // The outage lasts 30 s; 5 s proves the same property (calls fail while events pile up in the
  // spool, then everything drains) without a 30 s test, since the retry cap here is 500 ms.
  it('loses nothing while the endpoint is gone for 5 s, and drains the spool when it is back', async () => {
    await setUp();
    const client = await viaProxy();
    const producer = new Producer(spool, ['tm-1', 'tm-2', 'tm-3', 'tm-4']);
    const running = startSink(client);
    let producing = true;
    const production = (async () => {
      while (producing) {
        await producer.round();
        await sleep(10);
      }
    })();

    await sleep(1000);
    await proxy!.down();
    await sleep(5000);
    const depthDuringOutage = spool.stats().depthEvents;
    const failedDuringOutage = running.stats().failedCalls;
    await proxy!.up();
    await sleep(1000);
    producing = false;
    await production;
    await drained();

    expect(depthDuringOutage).toBeGreaterThan(100);
    expect(failedDuringOutage).toBeGreaterThan(0);
    expect(logged.some((line) => line.includes('PutRecords failed'))).toBe(true);
    expect(logged.some((line) => line.includes('recovered'))).toBe(true);

    const stored = eventsByTreadmill(await readStream(kit.kinesis.client, streamName));
    for (const [treadmill, produced] of producer.produced) {
      const received = stored.get(treadmill) ?? [];
      // At least once: a call cut by the outage may have been stored and sent again, as exact repeats.
      const firstOfEach = new Map<number, TelemetryEvent>();
      for (const event of received) {
        const first = firstOfEach.get(event.seq);
        if (first === undefined) firstOfEach.set(event.seq, event);
        else expect(event).toEqual(first);
      }
      expect([...firstOfEach.values()]).toEqual(produced);
    }
  }, 30_000);
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}
