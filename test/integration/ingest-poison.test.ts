import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_SOURCE } from '../../functions/lib/ingest-batch.js';
import { fleetKey } from '../../functions/lib/fleet-repo.js';
import type { OnFailureRecord } from '../../scripts/local/lambda-shapes.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { createStream } from '../../scripts/local/provision.js';
import { StreamBuilder, T0 } from '../support/events.js';
import { poisonedClient } from '../support/poisoned-client.js';
import { putRecords, startPipeline, toRecords } from '../support/pipeline.js';

describe('ingest: poison records', () => {
  let kit: EmbeddedAws;
  let dir: string;
  const walk = new StreamBuilder('gym-a', 'tm-01');
  walk.walk(T0, 100, { speedKmh: 4, hrBpm: 100 });
  const good = toRecords([walk.events], 20);

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    kit = await startEmbeddedAws({ shards: 1 });
    dir = await mkdtemp(join(tmpdir(), 'retrostride-poison-'));
  });

  afterAll(async () => {
    await kit?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('puts malformed records and events in the dead-letter table with their reason while the shard moves on', async () => {
    const badEvent = JSON.parse(Buffer.from(good[2]!.Data!).toString()) as {
      events: Record<string, unknown>[];
    };
    badEvent.events[3] = { ...badEvent.events[3], hrBpm: 999 };
    await putRecords(kit, kit.streamName, [
      good[0]!,
      { PartitionKey: 'gym-a/tm-01', Data: Buffer.from('{"v":1,"gymId":') },
      good[1]!,
      { PartitionKey: 'gym-a/tm-02', Data: good[1]!.Data },
      { PartitionKey: 'gym-a/tm-01', Data: Buffer.from(JSON.stringify(badEvent)) },
      ...good.slice(3),
    ]);
    const pipeline = await startPipeline(kit, { prefix: 'poison', runner: { maximumRetryAttempts: 2 } });
    await pipeline.runner.drain();
    await pipeline.runner.stop();

    const letters = await pipeline.processing.deadLetters.list(
      DEAD_LETTER_SOURCE,
      new Date().toISOString().slice(0, 10),
    );
    expect(letters.map((l) => [l.kind, l.reason.replace(/:.*/s, '')])).toEqual([
      ['record', 'not JSON'],
      ['record', 'partition key "gym-a/tm-02" is not "gym-a/tm-01"'],
      ['event', 'hrBpm'],
    ]);
    expect(letters[0]?.payload).toBe('{"v":1,"gymId":');
    expect(letters[2]).toMatchObject({ gymId: 'gym-a', treadmillId: 'tm-01', eventIndex: 3 });

    // Everything after the poison was applied: the watermark is the stream's last event.
    const { Item } = await pipeline.doc.send(
      new GetCommand({ TableName: pipeline.tables.fleet, Key: fleetKey('gym-a', 'tm-01') }),
    );
    expect(Item?.seqWatermark).toBe(walk.events.at(-1)?.seq);
    const [shard] = Object.values(pipeline.runner.checkpoints.all());
    expect(shard).toBe(await lastSequenceNumber(kit, kit.streamName));
  });

  it('isolates a record that crashes the function by bisecting, reports it to the on-failure destination, and moves on', async () => {
    await createStream(kit.kinesis.client, 'pill', 1);
    await putRecords(kit, 'pill', good);
    const pill = JSON.stringify(JSON.parse(Buffer.from(good[2]!.Data!).toString()));
    const failures: OnFailureRecord[] = [];
    const onFailureFile = join(dir, 'on-failure.jsonl');
    const pipeline = await startPipeline(kit, {
      prefix: 'pill',
      streamName: 'pill',
      // A bug in the function that only this record triggers.
      wrap: (handler) => async (event, context) => {
        if (event.Records.some((r) => Buffer.from(r.kinesis.data, 'base64').toString() === pill)) {
          throw new Error('function bug');
        }
        return handler(event, context);
      },
      runner: {
        batchSize: 5,
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 2,
        onFailure: (failure) => {
          failures.push(failure);
        },
        onFailureFile,
      },
    });
    await pipeline.runner.drain();
    await pipeline.runner.stop();

    expect(failures).toHaveLength(1);
    const info = failures[0]!.KinesisBatchInfo;
    expect(info.batchSize).toBe(1);
    expect(info.startSequenceNumber).toBe(info.endSequenceNumber);
    expect(failures[0]!.requestContext.condition).toBe('RetryAttemptsExhausted');
    const lines = (await readFile(onFailureFile, 'utf8')).trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as OnFailureRecord).KinesisBatchInfo)).toEqual([info]);

    // The records after the pill were applied.
    const { Item } = await pipeline.doc.send(
      new GetCommand({ TableName: pipeline.tables.fleet, Key: fleetKey('gym-a', 'tm-01') }),
    );
    expect(Item?.seqWatermark).toBe(walk.events.at(-1)?.seq);
  });

  it('sets a session whose final summary can never be written aside after 3 attempts, and the treadmill moves on', async () => {
    const poisoned = 'gym-a:tm-01:1';
    const one = new StreamBuilder('gym-a', 'tm-01');
    one.add(T0, { type: 'session', action: 'start', userToken: 'member-a' });
    one.walk(T0 + 1_000, 60, { speedKmh: 4, hrBpm: 100 });
    one.add(T0 + 61_000, { type: 'session', action: 'end' });
    const lastOfPoisoned = one.events.at(-1)!.seq;
    one.add(T0 + 200_000, { type: 'session', action: 'start', userToken: 'member-b' });
    one.walk(T0 + 201_000, 60, { speedKmh: 5, hrBpm: 110 });
    one.add(T0 + 261_000, { type: 'session', action: 'end' });
    const two = new StreamBuilder('gym-a', 'tm-02');
    two.walk(T0, 90, { speedKmh: 3 });
    two.add(T0 + 90_000, { type: 'session', action: 'end' });

    await createStream(kit.kinesis.client, 'finals', 1);
    await putRecords(kit, 'finals', toRecords([one.events, two.events], 20));
    const { client, refused } = poisonedClient(kit, poisoned);
    const failures: OnFailureRecord[] = [];
    const pipeline = await startPipeline(kit, {
      prefix: 'finals',
      streamName: 'finals',
      client,
      runner: { maximumRetryAttempts: 5, onFailure: (failure) => void failures.push(failure) },
    });
    await pipeline.runner.drain();
    await pipeline.runner.stop();

    // Nothing was given up by the event source: the treadmill moved on by itself.
    expect(failures).toEqual([]);
    expect(refused()).toBe(3);
    const nextId = `gym-a:tm-01:${lastOfPoisoned + 1}`;
    const next = await pipeline.processing.sessions.getSummary(nextId);
    expect(next).toMatchObject({ status: 'ended', userToken: 'member-b', endReason: 'session_end' });
    expect((await pipeline.processing.rollups.getMemberWeek('member-b', '2026-W48'))?.sessions).toBe(1);
    expect((await pipeline.processing.sessions.getSummary('gym-a:tm-02:1'))?.status).toBe('ended');
    expect(await pipeline.processing.rollups.getMemberWeek('member-a', '2026-W48')).toBeUndefined();

    const { Item } = await pipeline.doc.send(
      new GetCommand({ TableName: pipeline.tables.fleet, Key: fleetKey('gym-a', 'tm-01') }),
    );
    expect(Item?.seqWatermark).toBe(one.events.at(-1)?.seq);
    expect(Item?.pendingFinals).toBeUndefined();

    const letters = await pipeline.processing.deadLetters.list(DEAD_LETTER_SOURCE, '2026-11-24');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      kind: 'session',
      gymId: 'gym-a',
      treadmillId: 'tm-01',
      sessionId: poisoned,
      seqFrom: 1,
      seqTo: lastOfPoisoned,
      attempts: 3,
    });
    expect(letters[0]?.reason).toMatch(/Number overflow/);
    // The session's reducer state, so that it can be finalized by hand once the cause is fixed.
    const payload = JSON.parse(letters[0]!.payload) as { reason: string; state: { sessionId: string } };
    expect(payload).toMatchObject({ reason: 'session_end', state: { sessionId: poisoned } });
  });
});

async function lastSequenceNumber(kit: EmbeddedAws, streamName: string): Promise<string | undefined> {
  const { Shards } = await kit.kinesis.client.send(new ListShardsCommand({ StreamName: streamName }));
  const { ShardIterator } = await kit.kinesis.client.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: Shards?.[0]?.ShardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const { Records } = await kit.kinesis.client.send(new GetRecordsCommand({ ShardIterator }));
  return Records?.at(-1)?.SequenceNumber;
}
