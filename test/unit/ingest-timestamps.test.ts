/**
 * A gateway whose clock jumps forward must not make a treadmill's `lastSeenTs` future for good (it would never
 * go offline, and its sessions would land on future days): ingest clamps an event's `ts` that is more than a
 * tolerance ahead of its record's Kinesis arrival time to that arrival time, and counts and logs what it
 * clamped (docs/architecture.md section 5.1).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { FUTURE_TS_TOLERANCE_MS } from '../../functions/lib/ingest-decode.js';
import { createProcessing } from '../../functions/lib/processing.js';
import { lambdaContext } from '../../scripts/local/lambda-shapes.js';
import { StreamBuilder, T0 } from '../support/events.js';
import { kinesisEvent, kinesisRecord } from '../support/kinesis-records.js';
import { mockedIngest } from '../support/mocked-ingest.js';

const { ddb, createIngestHandler, documents, emfMetrics } = mockedIngest('INFO');

const YEAR_MS = 365 * 86_400_000;
const ARRIVAL = T0 + 60_000;

function invoke(body: unknown) {
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
  );
  const processing = createProcessing(doc, 'test');
  return createIngestHandler(() => processing)(
    kinesisEvent([kinesisRecord(body, 'gym-a/tm-01', ARRIVAL)]),
    lambdaContext('ingest', 'us-east-1', '000000000000'),
  );
}

describe('ingest: event times from a gateway clock that jumped forward', () => {
  it('clamps a ts a year ahead to the arrival time, counts it and logs it', async () => {
    const b = new StreamBuilder('gym-a', 'tm-01');
    b.walk(T0, 30, { speedKmh: 4 });
    const events = b.events.map((event, index) =>
      index === b.events.length - 1
        ? { ...event, ts: event.ts + YEAR_MS, rxTs: event.rxTs + YEAR_MS }
        : event,
    );
    const response = await invoke({ v: 1, gymId: 'gym-a', treadmillId: 'tm-01', events });
    expect(response.batchItemFailures).toEqual([]);

    const [update] = ddb.commandCalls(UpdateCommand, { TableName: 'test-fleet' }).map((c) => c.args[0].input);
    expect(update?.ExpressionAttributeValues?.[':lastSeenTs']).toBeLessThanOrEqual(ARRIVAL + 5 * 60_000);
    expect(update?.ExpressionAttributeValues?.[':lastSeenTs']).toBe(ARRIVAL);
    expect(update?.ExpressionAttributeValues?.[':lastMovingTs']).toBe(ARRIVAL);
    // One session, not split by the idle rule at the clamped time.
    const active = ddb
      .commandCalls(PutCommand, { TableName: 'test-sessions' })
      .map((c) => c.args[0].input.Item)
      .filter((item) => item?.sk === 'SUMMARY');
    expect(active.map((item) => [item?.sessionId, item?.status, item?.startTs])).toEqual([
      ['gym-a:tm-01:1', 'active', T0],
    ]);

    expect(emfMetrics()).toMatchObject({ FutureTimestampsClamped: 1, EventsApplied: 30 });
    const logged = documents().find((line) => String(line.message).includes('clamped'));
    expect(logged).toMatchObject({ level: 'WARN', treadmill: 'gym-a/tm-01', clamped: 1 });
    expect(logged?.maxAheadMs).toBe(T0 + 29_000 + YEAR_MS - ARRIVAL);
  });

  it('leaves a ts within the tolerance as the gateway sent it', async () => {
    const b = new StreamBuilder('gym-a', 'tm-01');
    b.add(ARRIVAL + FUTURE_TS_TOLERANCE_MS, { type: 'belt', speedKmh: 4 });
    await invoke({ v: 1, gymId: 'gym-a', treadmillId: 'tm-01', events: b.events });
    const [update] = ddb.commandCalls(UpdateCommand, { TableName: 'test-fleet' }).map((c) => c.args[0].input);
    expect(update?.ExpressionAttributeValues?.[':lastSeenTs']).toBe(ARRIVAL + 5 * 60_000);
    expect(FUTURE_TS_TOLERANCE_MS).toBe(5 * 60_000);
    expect(emfMetrics()).toMatchObject({ FutureTimestampsClamped: 0 });
  });
});
