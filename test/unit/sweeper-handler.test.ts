import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProcessing } from '../../functions/lib/processing.js';
import { packSession } from '../../functions/lib/state-codec.js';
import type { createSweeperHandler as CreateSweeperHandler } from '../../functions/sweeper/handler.js';
import { lambdaContext } from '../../scripts/local/lambda-shapes.js';
import { reduceSession, startSession } from '../../shared/src/metrics/session.js';
import { StreamBuilder, T0 } from '../support/events.js';

const ddb = mockClient(DynamoDBDocumentClient);
let createSweeperHandler: typeof CreateSweeperHandler;

beforeAll(async () => {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  ({ createSweeperHandler } = await import('../../functions/sweeper/handler.js'));
});

beforeEach(() => {
  ddb.reset();
  ddb.onAnyCommand().resolves({});
});

const walkedUntil = T0 + 120_000;
// 10:08 in Berlin: within the default opening hours, so the offline alert is raised.
const now = walkedUntil + 6 * 60_000;

function storedTreadmill() {
  const b = new StreamBuilder();
  b.add(T0, { type: 'session', action: 'start', userToken: 'member-a' });
  b.walk(T0 + 1_000, 119, { speedKmh: 4 });
  const session = reduceSession(
    startSession({
      sessionId: 'gym-a:tm-01:1',
      gymId: 'gym-a',
      treadmillId: 'tm-01',
      startTs: T0,
      userToken: 'member-a',
    }),
    b.events,
  ).state;
  return {
    pk: 'GYM#gym-a',
    sk: 'TM#tm-01',
    version: 3,
    seqWatermark: session.seqWatermark,
    lastSeenTs: session.lastEventTs,
    lastMovingTs: session.lastEventTs,
    offline: false,
    session: packSession(session),
  };
}

describe('sweeper handler (DynamoDB mocked)', () => {
  it('closes the idle session, marks the silent treadmill offline and raises the offline alert', async () => {
    ddb.on(QueryCommand, { TableName: 'test-sessions', IndexName: 'active' }).resolves({
      Items: [{ sessionId: 'gym-a:tm-01:1', gymId: 'gym-a', treadmillId: 'tm-01' }],
    });
    ddb.on(ScanCommand, { TableName: 'test-fleet' }).resolves({
      Items: [
        {
          pk: 'GYM#gym-a',
          sk: 'TM#tm-01',
          lastSeenTs: walkedUntil,
          offline: false,
          sessionId: 'gym-a:tm-01:1',
        },
        // Already offline with its alert open: nothing to do, not even a read.
        {
          pk: 'GYM#gym-a',
          sk: 'TM#tm-02',
          lastSeenTs: T0 - 3_600_000,
          offline: true,
          openAlertKinds: ['offline'],
        },
      ],
    });
    ddb.on(GetCommand, { TableName: 'test-fleet' }).resolves({ Item: storedTreadmill() });
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    );
    const processing = createProcessing(doc, 'test');
    const handler = createSweeperHandler(
      () => processing,
      () => now,
    );

    const report = await handler(undefined, lambdaContext('sweeper', 'us-east-1', '000000000000'));
    expect(report).toMatchObject({ candidates: 1, sessionsEnded: 1, wentOffline: 1, failed: 0 });
    expect(report.alertTransitions).toBeGreaterThan(0);

    const reads = ddb.commandCalls(GetCommand, { TableName: 'test-fleet' }).map((c) => c.args[0].input);
    expect(reads.map((r) => [r.Key?.sk, r.ConsistentRead])).toEqual([['TM#tm-01', true]]);

    const [commit, clear] = ddb
      .commandCalls(UpdateCommand, { TableName: 'test-fleet' })
      .map((c) => c.args[0].input);
    expect(commit?.ConditionExpression).toBe('#version = :expected');
    expect(commit?.ExpressionAttributeValues).toMatchObject({
      ':expected': 3,
      ':status': 'offline',
      ':version': 4,
    });
    expect(commit?.ExpressionAttributeValues?.[':pendingFinals']).toHaveLength(1);
    expect(commit?.UpdateExpression).toMatch(/REMOVE .*#session\b/);
    expect(clear?.ExpressionAttributeValues).toMatchObject({ ':expected': 4, ':version': 5 });
    expect(clear?.UpdateExpression).toMatch(/REMOVE .*#pendingFinals/);

    const sessionItems = ddb
      .commandCalls(PutCommand, { TableName: 'test-sessions' })
      .map((c) => c.args[0].input.Item);
    const summary = sessionItems.find((item) => item?.sk === 'SUMMARY');
    expect(summary).toMatchObject({
      sessionId: 'gym-a:tm-01:1',
      status: 'ended',
      endReason: 'idle',
      userToken: 'member-a',
    });
    expect(summary?.activeShard).toBeUndefined();
    // Gym day, member week, and the member's week at the gym (keyed by a hash of the token): each added, then
    // its entries marked (docs/architecture.md section 7.2).
    const rollups = ddb
      .commandCalls(UpdateCommand, { TableName: 'test-rollups' })
      .map((c) => c.args[0].input.Key?.sk);
    expect([...new Set(rollups)].sort()).toEqual([
      'DAY#2026-11-24',
      'GYM#gym-a#MEMBER#ebdf0b61d2fd169e',
      'WEEK#2026-W48',
    ]);
    expect(rollups).toHaveLength(6);
    const markers = ddb
      .commandCalls(PutCommand, { TableName: 'test-rollups' })
      .map((c) => c.args[0].input.Item?.sk);
    expect(markers.sort()).toEqual([
      'MEMBER#ebdf0b61d2fd169e',
      ...Array.from({ length: 3 }, () => 'SESSION#gym-a:tm-01:1'),
    ]);
    const alerts = ddb
      .commandCalls(PutCommand, { TableName: 'test-alerts' })
      .map((c) => c.args[0].input.Item);
    expect(alerts.some((item) => item?.kind === 'offline' && item?.status === 'open')).toBe(true);
  });
  it("reads a silent treadmill only once its gym's own offline threshold has passed", async () => {
    // Gym A waits an hour before an offline alert; tm-03 has been silent (and marked offline) for 10 minutes.
    ddb.on(GetCommand, { TableName: 'test-alerts' }).resolves({
      Item: { pk: 'GYM#gym-a', offlineAfterMinutes: 60 },
    });
    ddb.on(ScanCommand, { TableName: 'test-fleet' }).resolves({
      Items: [{ pk: 'GYM#gym-a', sk: 'TM#tm-03', lastSeenTs: now - 10 * 60_000, offline: true }],
    });
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    );
    const handler = createSweeperHandler(
      () => createProcessing(doc, 'test'),
      () => now,
    );

    const report = await handler(undefined, lambdaContext('sweeper', 'us-east-1', '000000000000'));
    expect(report).toMatchObject({ candidates: 0, alertTransitions: 0 });
    expect(ddb.commandCalls(GetCommand, { TableName: 'test-fleet' })).toHaveLength(0);
  });
});
