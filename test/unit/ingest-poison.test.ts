/**
 * The poison guard on the commit (docs/architecture.md section 5.2): a treadmill whose batch can never be
 * committed (here: the sessions table refuses every write of one session) fails its records twice, and on the
 * third attempt the events are set aside in the dead-letter table with the open session, the watermark moves
 * past them, and the treadmill's next events are applied as usual. DynamoDB is mocked; the fleet item carries
 * over between invocations through the repository's per-container cache.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createProcessing } from '../../functions/lib/processing.js';
import { lambdaContext } from '../../scripts/local/lambda-shapes.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { StreamBuilder, T0 } from '../support/events.js';
import { eventsRecord, kinesisEvent } from '../support/kinesis-records.js';
import { mockedIngest } from '../support/mocked-ingest.js';

const { ddb, printed, createIngestHandler, documents, emfMetrics } = mockedIngest('WARN');

const tm01Updates = () =>
  ddb.commandCalls(UpdateCommand, { TableName: 'test-fleet', Key: { pk: 'GYM#gym-a', sk: 'TM#tm-01' } });

function handlerUnderTest() {
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
  );
  const processing = createProcessing(doc, 'test');
  const handler = createIngestHandler(() => processing);
  // A healthy treadmill beside it, so that a batch is never all failed (which fails the whole invocation).
  const healthy = new StreamBuilder('gym-a', 'tm-02');
  healthy.walk(T0, 100, { speedKmh: 3 });
  let invocation = 0;
  return (events: TelemetryEvent[]) => {
    printed.length = 0;
    const beside = healthy.events.slice(invocation * 10, ++invocation * 10);
    return handler(
      kinesisEvent([eventsRecord(events), eventsRecord(beside)]),
      lambdaContext('ingest', 'us-east-1', '000000000000'),
    );
  };
}

describe('ingest: a commit that always fails', () => {
  it('is retried twice, then set aside with its reason, and the next events are applied', async () => {
    const poisoned = 'gym-a:tm-01:1';
    const error = new Error('Item size has exceeded the maximum allowed size');
    error.name = 'ValidationException';
    ddb.on(PutCommand, { TableName: 'test-sessions', Item: { pk: `SESSION#${poisoned}` } }).rejects(error);
    const walk = new StreamBuilder('gym-a', 'tm-01');
    walk.walk(T0, 120, { speedKmh: 4 });
    const first = walk.events.slice(0, 60);
    const invoke = handlerUnderTest();

    for (const attempt of [1, 2]) {
      const response = await invoke(first);
      expect(response.batchItemFailures, `attempt ${attempt}`).toHaveLength(1);
      expect(emfMetrics()).toMatchObject({ TreadmillsFailed: 1 });
    }
    const third = await invoke(first);
    expect(third.batchItemFailures).toEqual([]);
    expect(emfMetrics()).toMatchObject({ TreadmillsFailed: 0, EventsApplied: 10 });
    expect(emfMetrics()).toMatchObject({ PoisonSetAside: 1 });
    // The count of failed attempts is kept on the fleet item, where a retry in another container finds it.
    const counted = tm01Updates().map(
      (c) => c.args[0].input.ExpressionAttributeValues?.[':commitFailures'] as { attempts: number },
    );
    expect(counted.map((c) => c?.attempts).slice(0, 2)).toEqual([1, 2]);

    const letters = ddb
      .commandCalls(PutCommand, { TableName: 'test-deadletter' })
      .map((c) => c.args[0].input.Item);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      source: 'ingest',
      kind: 'events',
      gymId: 'gym-a',
      treadmillId: 'tm-01',
      seqFrom: 1,
      seqTo: 60,
      attempts: 3,
    });
    expect(letters[0]?.reason).toMatch(/Item size has exceeded/);
    expect((JSON.parse(String(letters[0]?.payload)) as TelemetryEvent[]).map((e) => e.seq)).toEqual(
      first.map((e) => e.seq),
    );
    const logged = documents().find((line) => String(line.message).includes('set aside'));
    expect(logged).toMatchObject({
      level: 'ERROR',
      treadmill: 'gym-a/tm-01',
      kind: 'batch',
      attempts: 3,
      sessionIds: [],
      ranges: [{ epoch: '', seqFrom: 1, seqTo: 60 }],
    });
    const commit = tm01Updates()
      .map((c) => c.args[0].input)
      .at(-1);
    expect(commit?.ExpressionAttributeValues?.[':seqWatermark']).toBe(60);
    expect(commit?.UpdateExpression).toMatch(/REMOVE .*#commitFailures/);

    // The treadmill moves on: its next events open a session of their own.
    const next = await invoke(walk.events.slice(60));
    expect(next.batchItemFailures).toEqual([]);
    expect(emfMetrics()).toMatchObject({ TreadmillsFailed: 0, SessionsStarted: 1 });
    const active = ddb
      .commandCalls(PutCommand, { TableName: 'test-sessions', Item: { treadmillId: 'tm-01' } })
      .map((c) => c.args[0].input.Item?.pk)
      .at(-1);
    expect(active).toBe('SESSION#gym-a:tm-01:61');
  });

  it('does not count a throttled write as poison', async () => {
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
      name: 'ThrottlingException',
      $fault: 'client',
      $retryable: { throttling: true },
    });
    ddb.on(PutCommand, { TableName: 'test-sessions', Item: { treadmillId: 'tm-01' } }).rejects(throttled);
    const walk = new StreamBuilder('gym-a', 'tm-01');
    walk.walk(T0, 30, { speedKmh: 4 });
    const invoke = handlerUnderTest();
    for (let attempt = 0; attempt < 4; attempt++) {
      expect((await invoke(walk.events)).batchItemFailures).toHaveLength(1);
    }
    expect(ddb.commandCalls(PutCommand, { TableName: 'test-deadletter' })).toEqual([]);
    expect(tm01Updates()).toEqual([]);
  });
});
