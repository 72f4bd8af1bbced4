/**
 * The spool epoch at ingest (docs/architecture.md sections 4.2 and 5.2): a gateway whose spool was wiped starts
 * seq at 1 again under a later epoch. Its events must be applied from a new watermark, not skipped below the
 * old one; events of an earlier epoch are skipped and counted. DynamoDB is mocked: the fleet item carries over
 * between invocations through the repository's per-container cache.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createProcessing } from '../../functions/lib/processing.js';
import { lambdaContext } from '../../scripts/local/lambda-shapes.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { StreamBuilder, T0 } from '../support/events.js';
import { kinesisEvent, kinesisRecord } from '../support/kinesis-records.js';
import { mockedIngest } from '../support/mocked-ingest.js';

const { ddb, printed, createIngestHandler, documents, emfMetrics } = mockedIngest('INFO');

/** ULIDs of two spools of the same gateway, the second made later (string order is time order). */
const EPOCH_A = '01JD0000000000000000000000';
const EPOCH_B = '01JE0000000000000000000000';

function handlerUnderTest() {
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
  );
  const processing = createProcessing(doc, 'test');
  const handler = createIngestHandler(() => processing);
  return (...records: Array<{ epoch?: string; events: TelemetryEvent[] }>) => {
    printed.length = 0;
    return handler(
      kinesisEvent(
        records.map(({ epoch, events }) =>
          kinesisRecord(
            { v: 1, gymId: 'gym-a', treadmillId: 'tm-01', ...(epoch !== undefined && { epoch }), events },
            'gym-a/tm-01',
            (events.at(-1)?.ts ?? T0) + 1_000,
          ),
        ),
      ),
      lambdaContext('ingest', 'us-east-1', '000000000000'),
    );
  };
}

const lastCommit = () =>
  ddb
    .commandCalls(UpdateCommand, { TableName: 'test-fleet' })
    .map((c) => c.args[0].input)
    .at(-1);

/** seq 1..n of one spool, one belt sample a second from `fromTs`. */
function spool(n: number, fromTs: number): TelemetryEvent[] {
  const b = new StreamBuilder('gym-a', 'tm-01');
  b.walk(fromTs, n, { speedKmh: 4 });
  return b.events;
}

describe('ingest: spool epochs', () => {
  const epochA = spool(100, T0);
  const epochB = spool(50, T0 + 200_000);

  it('applies a later epoch from seq 1 again, counts and logs the new epoch', async () => {
    const invoke = handlerUnderTest();
    await invoke({ epoch: EPOCH_A, events: epochA });
    expect(lastCommit()?.ExpressionAttributeValues?.[':seqWatermark']).toBe(100);
    expect(emfMetrics()).toMatchObject({ EventsApplied: 100 });
    // The first epoch a treadmill sees is taken as it is: nothing was counted before it.
    expect(emfMetrics()).toMatchObject({ SpoolEpochsStarted: 0 });

    const response = await invoke({ epoch: EPOCH_B, events: epochB });
    expect(response.batchItemFailures).toEqual([]);
    expect(emfMetrics()).toMatchObject({ EventsApplied: 50, EventsSkipped: 0 });
    expect(emfMetrics()).toMatchObject({ SpoolEpochsStarted: 1 });
    const commit = lastCommit();
    expect(commit?.ExpressionAttributeValues).toMatchObject({
      ':seqWatermark': 50,
      ':spoolEpoch': EPOCH_B,
      ':lastSeenTs': T0 + 249_000,
    });
    // The commit refuses a writer that is not behind in (epoch, seq) order.
    expect(commit?.ConditionExpression).toContain('#spoolEpoch < :spoolEpoch');
    const logged = documents().find((line) => String(line.message).includes('epoch'));
    expect(logged).toMatchObject({
      level: 'INFO',
      treadmill: 'gym-a/tm-01',
      previousEpoch: EPOCH_A,
      epoch: EPOCH_B,
    });

    // A replay of either batch changes nothing; epoch A's events are now of an earlier epoch.
    const commits = ddb.commandCalls(UpdateCommand, { TableName: 'test-fleet' }).length;
    await invoke({ epoch: EPOCH_B, events: epochB });
    expect(emfMetrics()).toMatchObject({ EventsApplied: 0, EventsSkipped: 50, StaleEpochEvents: 0 });
    await invoke({ epoch: EPOCH_A, events: epochA });
    expect(emfMetrics()).toMatchObject({ EventsApplied: 0, EventsSkipped: 100 });
    expect(emfMetrics()).toMatchObject({ StaleEpochEvents: 100 });
    expect(ddb.commandCalls(UpdateCommand, { TableName: 'test-fleet' })).toHaveLength(commits);
  });

  it('a record without epoch is of the legacy epoch, before every ULID', async () => {
    const invoke = handlerUnderTest();
    await invoke({ events: epochA });
    await invoke({ epoch: EPOCH_A, events: spool(10, T0 + 200_000) });
    expect(lastCommit()?.ExpressionAttributeValues).toMatchObject({
      ':seqWatermark': 10,
      ':spoolEpoch': EPOCH_A,
    });
    expect(emfMetrics()).toMatchObject({ EventsApplied: 10 });
    expect(emfMetrics()).toMatchObject({ SpoolEpochsStarted: 1 });
    await invoke({ events: spool(120, T0) });
    expect(emfMetrics()).toMatchObject({ EventsApplied: 0 });
    expect(emfMetrics()).toMatchObject({ StaleEpochEvents: 120 });
  });

  it('applies the epochs of one batch in epoch order, whatever the order of the records', async () => {
    const invoke = handlerUnderTest();
    const response = await invoke(
      { epoch: EPOCH_B, events: epochB.slice(0, 25) },
      { epoch: EPOCH_A, events: epochA },
      { epoch: EPOCH_B, events: epochB.slice(25) },
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(emfMetrics()).toMatchObject({ EventsApplied: 150 });
    expect(ddb.commandCalls(UpdateCommand, { TableName: 'test-fleet' })).toHaveLength(1);
    expect(lastCommit()?.ExpressionAttributeValues).toMatchObject({
      ':seqWatermark': 50,
      ':spoolEpoch': EPOCH_B,
    });
    expect(emfMetrics()).toMatchObject({ StaleEpochEvents: 0, SpoolEpochsStarted: 1 });
  });

  it('keeps seq 1 of two epochs apart within one batch (they are different events)', async () => {
    const invoke = handlerUnderTest();
    await invoke(
      { epoch: EPOCH_A, events: epochA.slice(0, 3) },
      { epoch: EPOCH_B, events: epochB.slice(0, 3) },
    );
    expect(emfMetrics()).toMatchObject({ EventsApplied: 6 });
  });
});
