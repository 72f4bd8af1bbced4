import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KinesisClient,
  PutRecordsCommand,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fullJitterBackoff, KinesisSink, type SinkOptions } from '../../gateway-agent/src/kinesis-sink.js';
import { Spool } from '../../gateway-agent/src/spool.js';
import { kinesisRecordSchema, type TelemetryEvent } from '../../shared/src/telemetry/events.js';

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
const STREAM = 'telemetry-test';

function beltEvent(treadmillId: string, seq: number, padding = 0): TelemetryEvent {
  return {
    type: 'belt',
    speedKmh: 5,
    id: String(seq).padStart(26, '0'),
    gymId: 'gym-a',
    treadmillId,
    seq,
    ts: T0 + seq,
    rxTs: T0 + seq,
    ...(padding > 0 ? { raw: 'ab'.repeat(padding) } : {}),
  };
}

interface SentEntry {
  readonly key: string;
  readonly bytes: number;
  readonly body: { v: number; gymId: string; treadmillId: string; epoch?: string; events: TelemetryEvent[] };
}

/** How the fake Kinesis answers one entry; a call-level failure is a thrown error instead. */
type EntryOutcome = 'ok' | 'throttle' | 'internal';

const kinesis = mockClient(KinesisClient);
let dir: string;
let spool: Spool;
let sink: KinesisSink | undefined;
let calls: SentEntry[][];
let logged: string[];
/** Decides each call: an error to throw, or one outcome per entry. Default: all ok. */
let answer: (entries: readonly SentEntry[], callIndex: number) => Error | EntryOutcome[];
/** Successfully stored entries' events per key, as Kinesis would hold them. */
let stored: Map<string, number[]>;
let inFlightPerKey: Map<string, number>;
let maxInFlightPerKey: number;
let responseDelayMs: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sink-test-'));
  spool = await Spool.open({ dir });
  calls = [];
  logged = [];
  stored = new Map();
  inFlightPerKey = new Map();
  maxInFlightPerKey = 0;
  responseDelayMs = 0;
  answer = (entries) => entries.map(() => 'ok');
  kinesis.reset();
  kinesis
    .on(PutRecordsCommand)
    .callsFake(async (input: PutRecordsCommandInput): Promise<PutRecordsCommandOutput> => {
      expect(input.StreamName).toBe(STREAM);
      const entries = (input.Records ?? []).map((record): SentEntry => {
        const text = Buffer.from(record.Data ?? new Uint8Array()).toString('utf8');
        return { key: record.PartitionKey ?? '', bytes: Buffer.byteLength(text), body: JSON.parse(text) };
      });
      const callIndex = calls.push(entries) - 1;
      for (const { key } of entries) {
        const count = (inFlightPerKey.get(key) ?? 0) + 1;
        inFlightPerKey.set(key, count);
        maxInFlightPerKey = Math.max(maxInFlightPerKey, count);
      }
      try {
        if (responseDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, responseDelayMs));
        const decision = answer(entries, callIndex);
        if (decision instanceof Error) throw decision;
        const results = entries.map((entry, index): PutRecordsResultEntry => {
          const outcome = decision[index];
          if (outcome === 'throttle')
            return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow' };
          if (outcome === 'internal') return { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' };
          stored.set(entry.key, [
            ...(stored.get(entry.key) ?? []),
            ...entry.body.events.map((event) => event.seq),
          ]);
          return { SequenceNumber: String(callIndex * 1000 + index), ShardId: 'shardId-000000000000' };
        });
        return {
          $metadata: {},
          FailedRecordCount: results.filter((result) => result.ErrorCode).length,
          Records: results,
        };
      } finally {
        for (const { key } of entries) inFlightPerKey.set(key, inFlightPerKey.get(key)! - 1);
      }
    });
});

afterEach(async () => {
  await sink?.stop(1000);
  sink = undefined;
  await spool.close();
  await rm(dir, { recursive: true, force: true });
});

function startSink(options: Partial<SinkOptions> = {}): KinesisSink {
  sink = new KinesisSink(spool, {
    client: new KinesisClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    }),
    streamName: STREAM,
    lingerMs: 5,
    retryBaseMs: 1,
    random: () => 0.5,
    log: (line) => logged.push(line),
    ...options,
  });
  sink.start();
  return sink;
}

async function appendRange(treadmillId: string, from: number, to: number, padding = 0): Promise<void> {
  const events = [];
  for (let seq = from; seq <= to; seq++) events.push(beltEvent(treadmillId, seq, padding));
  await spool.append(events);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function drained(): Promise<void> {
  await expect.poll(() => spool.stats().depthEvents, { timeout: 8000, interval: 10 }).toBe(0);
}

describe('KinesisSink records', () => {
  it("ships each treadmill's events as records in seq order, within the record size limit", async () => {
    for (const treadmill of ['tm-1', 'tm-2', 'tm-3']) await appendRange(treadmill, 1, 300);
    startSink({ maxRecordBytes: 4096 });
    await drained();

    const entries = calls.flat();
    for (const entry of entries) {
      expect(entry.bytes).toBeLessThanOrEqual(4096);
      expect(kinesisRecordSchema.safeParse(entry.body).success).toBe(true);
      expect(entry.key).toBe(`${entry.body.gymId}/${entry.body.treadmillId}`);
    }
    for (const treadmill of ['tm-1', 'tm-2', 'tm-3']) {
      const events = entries
        .filter((entry) => entry.key === `gym-a/${treadmill}`)
        .flatMap((entry) => entry.body.events);
      expect(events).toEqual(range(1, 300).map((seq) => beltEvent(treadmill, seq)));
    }
    // Many records per treadmill, never two of one treadmill in a call.
    expect(entries.length).toBeGreaterThan(30);
    for (const call of calls) expect(new Set(call.map((entry) => entry.key)).size).toBe(call.length);
    expect(sink!.stats()).toMatchObject({
      recordsOut: entries.length,
      eventsOut: 900,
      retries: 0,
      failedCalls: 0,
    });
  });

  it('keeps at most one record of a treadmill in flight', async () => {
    responseDelayMs = 15;
    startSink({ maxRecordBytes: 2048, maxCallsInFlight: 8, lingerMs: 0 });
    for (let seq = 1; seq <= 200; seq += 20) {
      await appendRange('tm-1', seq, seq + 19);
      await appendRange('tm-2', seq, seq + 19);
    }
    await drained();
    expect(calls.length).toBeGreaterThan(4);
    expect(maxInFlightPerKey).toBe(1);
    expect(stored.get('gym-a/tm-1')).toEqual(range(1, 200));
    expect(stored.get('gym-a/tm-2')).toEqual(range(1, 200));
  });

  it('lets records fill while they linger, even when 500 of them would make a full call', async () => {
    // 5,000 treadmills at 4 readings/s: a call of 500 one-reading records at once would make four times the
    // records (and their cost) of lingering (docs/architecture.md section 4.1).
    await spool.append(Array.from({ length: 620 }, (_, treadmill) => beltEvent(`tm-${treadmill}`, 1)));
    // A linger far longer than the pause below, so that a slow machine cannot end it before the second append.
    startSink({ lingerMs: 2_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toHaveLength(0);
    await spool.append(Array.from({ length: 620 }, (_, treadmill) => beltEvent(`tm-${treadmill}`, 2)));
    await drained();
    const entries = calls.flat();
    expect(entries).toHaveLength(620);
    expect(entries.every((entry) => entry.body.events.length === 2)).toBe(true);
    expect(calls[0]).toHaveLength(500);
  });

  it('sends a full record at once, without lingering', async () => {
    await appendRange('tm-1', 1, 100, 100);
    startSink({ lingerMs: 60_000, maxRecordBytes: 4096 });
    await expect.poll(() => calls.length, { interval: 10 }).toBeGreaterThan(0);
    expect(calls[0]![0]!.body.events[0]!.seq).toBe(1);
  });

  it('keeps a call within 5 MiB', async () => {
    // 7 treadmills with ~1.2 MiB each: records of up to 1 MiB, at most 5 of them per call.
    for (let treadmill = 0; treadmill < 7; treadmill++) {
      for (let seq = 1; seq <= 2400; seq += 600) await appendRange(`tm-${treadmill}`, seq, seq + 599, 200);
    }
    startSink({ maxRecordBytes: 1024 * 1024, lingerMs: 0 });
    await drained();
    for (const call of calls) {
      const callBytes = call.reduce((sum, entry) => sum + entry.bytes + Buffer.byteLength(entry.key), 0);
      expect(callBytes).toBeLessThanOrEqual(5 * 1024 * 1024);
    }
    // The first call stopped at 5 records of ~1 MiB: a sixth would not fit.
    expect(calls[0]).toHaveLength(5);
    expect(calls[0]!.every((entry) => entry.bytes > 900 * 1024)).toBe(true);
    for (let treadmill = 0; treadmill < 7; treadmill++)
      expect(stored.get(`gym-a/tm-${treadmill}`)).toEqual(range(1, 2400));
  });

  it('holds back calls while maxInFlightBytes are on their way, and ships everything in order', async () => {
    // A backlog after an outage: without the bound, 4 calls of 5 MiB (and the SDK's copies) would be in memory.
    for (let treadmill = 0; treadmill < 7; treadmill++) {
      for (let seq = 1; seq <= 2400; seq += 600) await appendRange(`tm-${treadmill}`, seq, seq + 599, 200);
    }
    let inFlightBytes = 0;
    let maxInFlightBytes = 0;
    answer = (entries) => entries.map(() => 'ok');
    kinesis.on(PutRecordsCommand).callsFake(async (input: PutRecordsCommandInput) => {
      const bytes = (input.Records ?? []).reduce(
        (sum, record) => sum + (record.Data?.length ?? 0) + Buffer.byteLength(record.PartitionKey ?? ''),
        0,
      );
      inFlightBytes += bytes;
      maxInFlightBytes = Math.max(maxInFlightBytes, inFlightBytes);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlightBytes -= bytes;
      for (const record of input.Records ?? []) {
        const body = JSON.parse(Buffer.from(record.Data ?? []).toString('utf8')) as SentEntry['body'];
        const key = record.PartitionKey ?? '';
        stored.set(key, [...(stored.get(key) ?? []), ...body.events.map((event) => event.seq)]);
      }
      return { $metadata: {}, FailedRecordCount: 0, Records: (input.Records ?? []).map(() => ({})) };
    });
    startSink({ maxRecordBytes: 1024 * 1024, lingerMs: 0, maxInFlightBytes: 2 * 1024 * 1024 });
    await drained();
    expect(maxInFlightBytes).toBeGreaterThan(0);
    expect(maxInFlightBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    for (let treadmill = 0; treadmill < 7; treadmill++)
      expect(stored.get(`gym-a/tm-${treadmill}`)).toEqual(range(1, 2400));
  });

  it('sends one call even when it alone exceeds maxInFlightBytes, so a large record cannot stall', async () => {
    await appendRange('tm-1', 1, 600, 200);
    startSink({ maxRecordBytes: 1024 * 1024, lingerMs: 0, maxInFlightBytes: 1024 });
    await drained();
    expect(stored.get('gym-a/tm-1')).toEqual(range(1, 600));
  });
});

describe('KinesisSink epochs', () => {
  it("names the spool's epoch in every record", async () => {
    for (const treadmill of ['tm-1', 'tm-2']) await appendRange(treadmill, 1, 50);
    startSink({ maxRecordBytes: 2048 });
    await drained();
    const entries = calls.flat();
    expect(entries.length).toBeGreaterThan(2);
    expect(spool.epoch).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    for (const entry of entries) {
      expect(entry.bytes).toBeLessThanOrEqual(2048);
      expect(entry.body.epoch).toBe(spool.epoch);
      expect(kinesisRecordSchema.parse(entry.body).epoch).toBe(spool.epoch);
    }
  });

  it('ships what an older gateway spooled without an epoch, never in a record with newer events', async () => {
    await appendRange('tm-1', 1, 30);
    await spool.close();
    // The spool as an older gateway left it: no epoch file.
    await rm(join(dir, 'epoch'));
    spool = await Spool.open({ dir });
    await appendRange('tm-1', 31, 60);
    startSink({ lingerMs: 0 });
    await drained();
    const entries = calls.flat();
    const epochOf = (seq: number) =>
      entries.find((entry) => entry.body.events.some((e) => e.seq === seq))!.body.epoch;
    for (const entry of entries) {
      const seqs = entry.body.events.map((event) => event.seq);
      expect(seqs.every((seq) => seq <= 30) || seqs.every((seq) => seq > 30)).toBe(true);
    }
    expect(
      range(1, 30)
        .map(epochOf)
        .every((epoch) => epoch === undefined),
    ).toBe(true);
    expect(
      range(31, 60)
        .map(epochOf)
        .every((epoch) => epoch === spool.epoch),
    ).toBe(true);
    expect(stored.get('gym-a/tm-1')).toEqual(range(1, 60));
  });

  it('parses records with and without an epoch, and refuses an epoch that is not a ULID', () => {
    const body = { v: 1, gymId: 'gym-a', treadmillId: 'tm-1', events: [beltEvent('tm-1', 1)] };
    expect(kinesisRecordSchema.safeParse(body).success).toBe(true);
    expect(kinesisRecordSchema.parse({ ...body, epoch: '01KAXRZ6S1V9MQ2B5G8J3N4P7T' }).epoch).toBe(
      '01KAXRZ6S1V9MQ2B5G8J3N4P7T',
    );
    for (const epoch of [
      '',
      'not-a-ulid',
      '01kaxrz6s1v9mq2b5g8j3n4p7t',
      'U1KAXRZ6S1V9MQ2B5G8J3N4P7T',
      '81KAXRZ6S1V9MQ2B5G8J3N4P7T',
      7,
    ])
      expect(kinesisRecordSchema.safeParse({ ...body, epoch }).success).toBe(false);
  });
});

describe('KinesisSink retries', () => {
  it('retries only the failed entries, and keeps per-treadmill order', async () => {
    let failuresLeft = 3;
    answer = (entries) =>
      entries.map((entry) => {
        if (entry.key === 'gym-a/tm-2' && failuresLeft > 0) {
          failuresLeft--;
          return failuresLeft === 0 ? 'internal' : 'throttle';
        }
        return 'ok';
      });
    startSink({ lingerMs: 20, maxRecordBytes: 2048 });
    for (let seq = 1; seq <= 100; seq += 10) {
      for (const treadmill of ['tm-1', 'tm-2', 'tm-3']) await appendRange(treadmill, seq, seq + 9);
    }
    await drained();

    for (const treadmill of ['tm-1', 'tm-2', 'tm-3'])
      expect(stored.get(`gym-a/${treadmill}`)).toEqual(range(1, 100));
    // Entries of the healthy treadmills were each sent once: nothing of theirs was retried.
    const sentSeqs = (key: string) =>
      calls
        .flat()
        .filter((entry) => entry.key === key)
        .flatMap((entry) => entry.body.events.map((event) => event.seq));
    expect(sentSeqs('gym-a/tm-1')).toEqual(range(1, 100));
    expect(sentSeqs('gym-a/tm-3')).toEqual(range(1, 100));
    // The failed record went again from its first event: 3 failed sends of tm-2's head, then delivery.
    const tm2Sends = calls.flat().filter((entry) => entry.key === 'gym-a/tm-2');
    expect(tm2Sends.slice(0, 4).map((entry) => entry.body.events[0]?.seq)).toEqual([1, 1, 1, 1]);
    expect(sink!.stats()).toMatchObject({ retries: 3, throttles: 2, failedCalls: 0 });
  });

  it('retries a failed call for as long as it takes while the events wait in the spool', async () => {
    answer = (entries, callIndex) =>
      callIndex < 6
        ? Object.assign(new Error('connect ECONNREFUSED'), { name: 'NetworkingError' })
        : entries.map(() => 'ok');
    await appendRange('tm-1', 1, 50);
    await appendRange('tm-2', 1, 50);
    startSink();
    await drained();
    expect(stored.get('gym-a/tm-1')).toEqual(range(1, 50));
    expect(stored.get('gym-a/tm-2')).toEqual(range(1, 50));
    expect(sink!.stats().failedCalls).toBe(6);
    expect(logged.filter((line) => line.includes('PutRecords failed'))).toHaveLength(1);
    expect(logged.some((line) => line.includes('recovered after 6 failed calls'))).toBe(true);
  });

  it('stop waits for in-flight puts up to its timeout and leaves unacked events in the spool', async () => {
    answer = () => new Error('never reached');
    kinesis.on(PutRecordsCommand).callsFake(
      (_input, getClient) =>
        new Promise(() => {
          // Hangs like a dead connection; only the sink's abort ends it.
          void getClient;
        }),
    );
    await appendRange('tm-1', 1, 10);
    const running = startSink({ lingerMs: 0 });
    await expect.poll(() => running.stats().inFlight).toBe(1);
    await running.stop(30);
    sink = undefined;
    expect(spool.stats().depthEvents).toBe(10);
    expect(running.stats().recordsOut).toBe(0);
  });
});

describe('fullJitterBackoff', () => {
  it('doubles the range each attempt up to the cap and scales it by the random draw', () => {
    const atTop = (attempt: number) => fullJitterBackoff(attempt, 100, 30_000, () => 1);
    expect([1, 2, 3, 4, 5].map(atTop)).toEqual([100, 200, 400, 800, 1600]);
    expect(atTop(9)).toBe(25_600);
    expect(atTop(10)).toBe(30_000);
    expect(atTop(200)).toBe(30_000);
    expect(fullJitterBackoff(4, 100, 30_000, () => 0.25)).toBe(200);
    expect(fullJitterBackoff(4, 100, 30_000, () => 0)).toBe(0);
  });
});
