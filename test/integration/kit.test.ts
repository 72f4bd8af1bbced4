import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dynamoDocumentClient } from '../../shared/src/aws/clients.js';
import { kinesisClient } from '../../shared/src/aws/kinesis-client.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';

describe('embedded AWS kit over real sockets', () => {
  let kit: EmbeddedAws;

  beforeAll(async () => {
    kit = await startEmbeddedAws({ shards: 1 });
  });

  afterAll(async () => {
    await kit?.stop();
  });

  it('returns from GetRecords the records PutRecords wrote, in order', async () => {
    const payloads = ['first', 'second', 'third'].map((word) => JSON.stringify({ v: 1, word }));
    const put = await kit.kinesis.client.send(
      new PutRecordsCommand({
        StreamName: kit.streamName,
        Records: payloads.map((payload) => ({ PartitionKey: 'gym-1/tm-1', Data: Buffer.from(payload) })),
      }),
    );
    expect(put.FailedRecordCount).toBe(0);
    const shardId = put.Records?.[0]?.ShardId;

    const { ShardIterator } = await kit.kinesis.client.send(
      new GetShardIteratorCommand({
        StreamName: kit.streamName,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const got = await kit.kinesis.client.send(new GetRecordsCommand({ ShardIterator }));
    const read = (got.Records ?? []).map((record) => Buffer.from(record.Data ?? []).toString('utf8'));
    expect(read).toEqual(payloads);
  });

  it('applies a seq-watermark conditional update once and rejects the replay', async () => {
    const advanceWatermark = (seq: number) =>
      kit.dynamo.doc.send(
        new UpdateCommand({
          TableName: kit.tables.fleet,
          Key: { pk: 'GYM#gym-1', sk: 'TM#tm-1' },
          UpdateExpression: 'SET seqWatermark = :seq, odometerM = :odometer',
          ConditionExpression: 'attribute_not_exists(seqWatermark) OR seqWatermark < :seq',
          ExpressionAttributeValues: { ':seq': seq, ':odometer': seq * 100 },
        }),
      );

    await advanceWatermark(7);
    await expect(advanceWatermark(7)).rejects.toBeInstanceOf(ConditionalCheckFailedException);

    const { Item } = await kit.dynamo.doc.send(
      new GetCommand({ TableName: kit.tables.fleet, Key: { pk: 'GYM#gym-1', sk: 'TM#tm-1' } }),
    );
    expect(Item).toMatchObject({ seqWatermark: 7, odometerM: 700 });
    await expect(advanceWatermark(8)).resolves.toBeDefined();
  });

  it('writes items with undefined nested attributes by leaving them out', async () => {
    const key = { pk: 'GYM#gym-1', sk: 'TM#tm-2' };
    const live = { status: 'online', sessionId: undefined };
    await kit.dynamo.doc.send(new PutCommand({ TableName: kit.tables.fleet, Item: { ...key, live } }));
    const { Item } = await kit.dynamo.doc.send(new GetCommand({ TableName: kit.tables.fleet, Key: key }));
    expect(Item).toEqual({ ...key, live: { status: 'online' } });
  });

  it('delivers an MQTT QoS 1 message from a publisher to a subscriber', async () => {
    const topic = 'gyms/gym-1/treadmills/tm-1/telemetry';
    const subscriber = await mqtt.connectAsync(kit.mqtt.url, { protocolVersion: 4, clientId: 'kit-sub' });
    const publisher = await mqtt.connectAsync(kit.mqtt.url, { protocolVersion: 4, clientId: 'kit-pub' });
    try {
      const received = new Promise<{ topic: string; payload: string; qos: number }>((resolve) => {
        subscriber.on('message', (t, payload, packet) =>
          resolve({ topic: t, payload: payload.toString('utf8'), qos: packet.qos }),
        );
      });
      await subscriber.subscribeAsync(topic, { qos: 1 });
      await publisher.publishAsync(topic, '{"speedKmh":4.2}', { qos: 1 });
      expect(await received).toEqual({ topic, payload: '{"speedKmh":4.2}', qos: 1 });
    } finally {
      await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
    }
  });
});

describe('clients configured only by the kit environment', () => {
  let kit: EmbeddedAws;

  beforeAll(async () => {
    kit = await startEmbeddedAws();
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  afterAll(async () => {
    await kit?.stop();
  });

  it('reach the emulators through the SDK standard endpoint variables', async () => {
    for (const [name, value] of Object.entries(kit.env)) vi.stubEnv(name, value);
    const kinesis = kinesisClient();
    const doc = dynamoDocumentClient();
    try {
      const stream = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: kit.streamName }));
      expect(stream.StreamDescriptionSummary?.OpenShardCount).toBe(2);
      const key = { pk: 'OPERATOR#op-1', sk: 'GYM#gym-1' };
      await doc.send(new PutCommand({ TableName: kit.tables.fleet, Item: key }));
      const { Item } = await kit.dynamo.doc.send(new GetCommand({ TableName: kit.tables.fleet, Key: key }));
      expect(Item).toEqual(key);
    } finally {
      kinesis.destroy();
      doc.destroy();
    }
  });
});

describe('embedded AWS kit with a data directory', () => {
  it('keeps stream records and items across a restart, provisioning idempotently', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'retrostride-kit-'));
    const key = { pk: 'GYM#gym-9', sk: 'TM#tm-9' };
    try {
      const first = await startEmbeddedAws({ dataDir, shards: 1 });
      const put = await first.kinesis.client.send(
        new PutRecordsCommand({
          StreamName: first.streamName,
          Records: [{ PartitionKey: 'gym-9/tm-9', Data: Buffer.from('kept') }],
        }),
      );
      await first.dynamo.doc.send(new PutCommand({ TableName: first.tables.fleet, Item: key }));
      await first.stop();

      const second = await startEmbeddedAws({ dataDir, shards: 1 });
      try {
        const { ShardIterator } = await second.kinesis.client.send(
          new GetShardIteratorCommand({
            StreamName: second.streamName,
            ShardId: put.Records?.[0]?.ShardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        const got = await second.kinesis.client.send(new GetRecordsCommand({ ShardIterator }));
        expect(got.Records?.map((r) => Buffer.from(r.Data ?? []).toString('utf8'))).toEqual(['kept']);
        const { Item } = await second.dynamo.doc.send(
          new GetCommand({ TableName: second.tables.fleet, Key: key }),
        );
        expect(Item).toEqual(key);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
