import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { createIngestHandler as CreateIngestHandler } from '../../functions/ingest/handler.js';
import { createProcessing } from '../../functions/lib/processing.js';
import { packSession } from '../../functions/lib/state-codec.js';
import { lambdaContext } from '../../scripts/local/lambda-shapes.js';
import { startSession } from '../../shared/src/metrics/session.js';
import { StreamBuilder, T0 } from '../support/events.js';
import { eventsRecord, kinesisEvent, kinesisRecord } from '../support/kinesis-records.js';

const ddb = mockClient(DynamoDBDocumentClient);
let createIngestHandler: typeof CreateIngestHandler;

beforeAll(async () => {
  // Powertools reads these when the handler is created.
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  ({ createIngestHandler } = await import('../../functions/ingest/handler.js'));
});

beforeEach(() => {
  ddb.reset();
  ddb.onAnyCommand().resolves({});
});

afterEach(() => {
  vi.useRealTimers();
});

function handlerUnderTest() {
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
  );
  const processing = createProcessing(doc, 'test');
  const handler = createIngestHandler(() => processing);
  return (records: Parameters<typeof kinesisEvent>[0]) =>
    handler(kinesisEvent(records), lambdaContext('ingest', 'us-east-1', '000000000000'));
}

const fleetUpdates = () => ddb.commandCalls(UpdateCommand, { TableName: 'test-fleet' });
const deadLetters = () =>
  ddb.commandCalls(PutCommand, { TableName: 'test-deadletter' }).map((c) => c.args[0].input.Item);

function walking(treadmillId: string, fromSeconds: number, seconds: number): StreamBuilder {
  const b = new StreamBuilder('gym-a', treadmillId);
  b.walk(T0 + fromSeconds * 1000, seconds, { speedKmh: 4 });
  return b;
}

describe('ingest handler (DynamoDB mocked)', () => {
  it('writes the fleet item once per treadmill per batch, however many records it has', async () => {
    const invoke = handlerUnderTest();
    const one = walking('tm-01', 0, 60).events;
    const two = walking('tm-02', 0, 60).events;
    const response = await invoke([
      eventsRecord(one.slice(0, 20)),
      eventsRecord(two.slice(0, 30)),
      eventsRecord(one.slice(20, 40)),
      eventsRecord(one.slice(40)),
      eventsRecord(two.slice(30)),
    ]);
    expect(response.batchItemFailures).toEqual([]);
    const updates = fleetUpdates().map((c) => c.args[0].input);
    expect(updates.map((u) => u.Key)).toEqual([
      { pk: 'GYM#gym-a', sk: 'TM#tm-01' },
      { pk: 'GYM#gym-a', sk: 'TM#tm-02' },
    ]);
    for (const update of updates) {
      expect(update.ConditionExpression).toContain('attribute_not_exists(#version)');
      expect(update.ConditionExpression).toContain('#seqWatermark < :seqWatermark');
      expect(update.ExpressionAttributeValues?.[':seqWatermark']).toBe(60);
      expect(update.ExpressionAttributeValues?.[':status']).toBe('in_use');
    }
    // The sessions that opened are listed (and in the active index) before the commit.
    const active = ddb
      .commandCalls(PutCommand, { TableName: 'test-sessions' })
      .map((c) => c.args[0].input.Item);
    expect(active.map((item) => [item?.sessionId, item?.status])).toEqual([
      ['gym-a:tm-01:1', 'active'],
      ['gym-a:tm-02:1', 'active'],
    ]);
  });

  it('sends a malformed record to the dead-letter table whole and does not fail it', async () => {
    const invoke = handlerUnderTest();
    const poison = kinesisRecord('{"v":1,"gymId":"gym-a"');
    const wrongShape = kinesisRecord({ v: 2, gymId: 'gym-a', treadmillId: 'tm-01', events: [] });
    const good = eventsRecord(walking('tm-01', 0, 5).events);
    const response = await invoke([poison, wrongShape, good]);
    expect(response.batchItemFailures).toEqual([]);
    const letters = deadLetters();
    expect(letters.map((l) => [l?.kind, l?.sequenceNumber])).toEqual([
      ['record', poison.kinesis.sequenceNumber],
      ['record', wrongShape.kinesis.sequenceNumber],
    ]);
    expect(letters[0]?.reason).toMatch(/^not JSON/);
    expect(letters[0]?.payload).toBe('{"v":1,"gymId":"gym-a"');
    expect(letters[1]?.reason).toMatch(/^not a telemetry record: v:/);
    expect(letters[0]?.pk).toBe('DLQ#ingest#2026-11-24');
    expect(fleetUpdates()).toHaveLength(1);
  });

  it('dead-letters a malformed event alone and applies the rest of its record', async () => {
    const invoke = handlerUnderTest();
    const events: unknown[] = walking('tm-01', 0, 5).events;
    events.splice(2, 0, { ...walking('tm-01', 0, 1).events[0], seq: 99, speedKmh: -3 });
    const response = await invoke([kinesisRecord({ v: 1, gymId: 'gym-a', treadmillId: 'tm-01', events })]);
    expect(response.batchItemFailures).toEqual([]);
    const [letter] = deadLetters();
    expect(letter).toMatchObject({ kind: 'event', eventIndex: 2, seq: 99, treadmillId: 'tm-01' });
    expect(letter?.reason).toMatch(/speedKmh/);
    expect(fleetUpdates()[0]?.args[0].input.ExpressionAttributeValues?.[':seqWatermark']).toBe(5);
  });

  it("fails all of a failing treadmill's records, and only those", async () => {
    const invoke = handlerUnderTest();
    ddb
      .on(UpdateCommand, { TableName: 'test-fleet', Key: { pk: 'GYM#gym-a', sk: 'TM#tm-02' } })
      .rejects(new Error('throttled'));
    const one = walking('tm-01', 0, 20).events;
    const two = walking('tm-02', 0, 20).events;
    const records = [
      eventsRecord(one.slice(0, 10)),
      eventsRecord(two.slice(0, 10)),
      eventsRecord(one.slice(10)),
      eventsRecord(two.slice(10)),
    ];
    const response = await invoke(records);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: records[1]?.kinesis.sequenceNumber },
      { itemIdentifier: records[3]?.kinesis.sequenceNumber },
    ]);
  });

  it('fails the whole invocation when every record fails', async () => {
    const invoke = handlerUnderTest();
    ddb.on(UpdateCommand).rejects(new Error('table gone'));
    await expect(invoke([eventsRecord(walking('tm-01', 0, 5).events)])).rejects.toThrow(/All records failed/);
  });

  it('fails a record whose dead letter cannot be written', async () => {
    const invoke = handlerUnderTest();
    ddb.on(PutCommand, { TableName: 'test-deadletter' }).rejects(new Error('throttled'));
    const poison = kinesisRecord('nope');
    const good = eventsRecord(walking('tm-01', 0, 5).events);
    const response = await invoke([good, poison]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: poison.kinesis.sequenceNumber }]);
  });

  it('reads the fleet item again and retries when the sweeper changed it meanwhile', async () => {
    const invoke = handlerUnderTest();
    const session = startSession({
      sessionId: 'gym-a:tm-01:1',
      gymId: 'gym-a',
      treadmillId: 'tm-01',
      startTs: T0,
    });
    const stored = {
      pk: 'GYM#gym-a',
      sk: 'TM#tm-01',
      version: 7,
      seqWatermark: 0,
      session: packSession(session),
    };
    ddb.on(GetCommand, { TableName: 'test-fleet' }).resolves({ Item: stored });
    ddb
      .on(UpdateCommand, { TableName: 'test-fleet' })
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'changed', $metadata: {} }))
      .resolves({});
    const response = await invoke([eventsRecord(walking('tm-01', 0, 5).events)]);
    expect(response.batchItemFailures).toEqual([]);
    const reads = ddb
      .commandCalls(GetCommand, { TableName: 'test-fleet' })
      .map((c) => c.args[0].input.ConsistentRead);
    expect(reads).toEqual([false, true]);
    const updates = fleetUpdates().map((c) => c.args[0].input);
    expect(updates).toHaveLength(2);
    expect(updates[1]?.ExpressionAttributeValues?.[':expected']).toBe(7);
    expect(updates[1]?.ExpressionAttributeValues?.[':sessionId']).toBe('gym-a:tm-01:1');
  });
});
