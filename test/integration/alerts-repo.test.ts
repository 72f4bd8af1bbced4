import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDepsFor } from '../../functions/api/api-deps.js';
import { createApiHandler } from '../../functions/api/handler.js';
import { AlertsRepo } from '../../functions/lib/alerts-repo.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import {
  type AlertItem,
  type AlertKind,
  type AlertSignal,
  alertIdFor,
  evaluateEventAlerts,
  evaluateOfflineAlert,
} from '../../shared/src/alerts/index.js';
import { call, claimsOf } from '../support/api.js';
import { StreamBuilder, T0 } from '../support/events.js';

const signal = (gymId: string, ts: number, extra: Partial<AlertSignal> = {}): AlertSignal => ({
  gymId,
  treadmillId: 'tm-01',
  kind: 'stumble',
  action: 'raise',
  severity: 'warning',
  ts,
  message: `stumble at ${ts}`,
  ...extra,
});

describe('alerts repo against dynalite', () => {
  let kit: EmbeddedAws;
  let repo: AlertsRepo;

  /** The stored item as it is, internal attributes included: a replay must leave it byte for byte alike. */
  const raw = async (gymId: string, treadmillId: string, kind: AlertKind) =>
    (
      await kit.dynamo.doc.send(
        new GetCommand({
          TableName: kit.tables.alerts,
          Key: { pk: `GYM#${gymId}`, sk: `ALERT#${treadmillId}#${kind}` },
          ConsistentRead: true,
        }),
      )
    ).Item;

  beforeAll(async () => {
    kit = await startEmbeddedAws({ shards: 1 });
    repo = new AlertsRepo(kit.dynamo.doc, kit.tables.alerts);
  });

  afterAll(async () => {
    await kit?.stop();
  });

  it('keeps one alert when 20 writers apply the same raise at once, counted once', async () => {
    const gymId = 'gym-same';
    const results = await Promise.all(
      Array.from({ length: 20 }, () => repo.apply([signal(gymId, T0 + 900, { firstTs: T0, count: 3 })])),
    );
    expect(results.flat()).toMatchObject([{ change: 'opened', version: 1, count: 3 }]);
    const open = await repo.listOpen(gymId);
    expect(open).toMatchObject([
      { alertId: alertIdFor(gymId, 'tm-01', 'stumble', T0), count: 3, version: 1 },
    ]);
    expect((await raw(gymId, 'tm-01', 'stumble'))?.pending).toHaveLength(1);
  });

  it('keeps one alert when 20 writers race with different raises: one opening, newest ts wins', async () => {
    const gymId = 'gym-race';
    const stamps = Array.from({ length: 20 }, (_, i) => T0 + (i + 1) * 1000);
    const results = await Promise.all(stamps.map((ts) => repo.apply([signal(gymId, ts)])));
    const transitions = results.flat();
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ change: 'opened', version: 1 });
    const [alert, ...others] = await repo.listOpen(gymId);
    expect(others).toEqual([]);
    expect(alert).toMatchObject({ version: 1, lastSeenTs: stamps.at(-1) });
    expect(alert?.alertId).toBe(transitions[0]?.alertId);
    // A raise older than the alert's last one reads as a replay, so racing writers can only lose counts, never
    // add any twice: the count is at least the opener and at most every writer.
    expect(alert?.count).toBeGreaterThanOrEqual(1);
    expect(alert?.count).toBeLessThanOrEqual(20);
    expect(await repo.history(gymId, 'tm-01')).toEqual([]);
  });

  it('counts raises applied in order exactly, also when 20 alerts are written at once', async () => {
    const gymId = 'gym-many';
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        repo.apply([1, 2, 3].map((n) => signal(gymId, T0 + n * 1000, { treadmillId: `tm-${i}`, count: n }))),
      ),
    );
    const open = await repo.listOpen(gymId);
    expect(open).toHaveLength(20);
    expect(open.every((a) => a.count === 6 && a.version === 1)).toBe(true);
  });

  it('changes nothing when a whole sequence of signals is replayed', async () => {
    const gymId = 'gym-replay';
    const sequence: AlertSignal[] = [
      signal(gymId, T0, { kind: 'error_code' }),
      signal(gymId, T0 + 1000, { kind: 'error_code', count: 2 }),
      signal(gymId, T0 + 2000, { kind: 'error_code', action: 'clear' }),
      signal(gymId, T0 + 3000, { kind: 'error_code' }),
      signal(gymId, T0 + 4000, { kind: 'error_code', severity: 'critical' }),
    ];
    const first = await repo.apply(sequence);
    expect(first.map((t) => `${t.change}@${t.version}`)).toEqual([
      'opened@1',
      'resolved@2',
      'opened@1',
      'escalated@2',
    ]);
    const before = await raw(gymId, 'tm-01', 'error_code');
    const history = await repo.history(gymId, 'tm-01');
    expect(await repo.apply(sequence)).toEqual([]);
    expect(await repo.apply(sequence.slice(1, 3))).toEqual([]);
    expect(await raw(gymId, 'tm-01', 'error_code')).toEqual(before);
    expect(await repo.history(gymId, 'tm-01')).toEqual(history);
    expect(history).toMatchObject([
      { alertId: alertIdFor(gymId, 'tm-01', 'error_code', T0), status: 'resolved', count: 3 },
    ]);
  });

  it('acknowledges and resolves for an operator, once each', async () => {
    const gymId = 'gym-ops';
    await repo.apply([signal(gymId, T0, { kind: 'safety_stop', severity: 'critical' })]);
    await repo.apply([signal(gymId, T0, { kind: 'maintenance_due', severity: 'info' })]);
    expect(await repo.openCount(gymId, 'tm-01')).toBe(2);

    const acked = await repo.acknowledge(gymId, 'tm-01', 'safety_stop', 'op-ann', T0 + 60_000);
    expect(acked).toMatchObject({ change: 'acknowledged', status: 'acknowledged', version: 2, by: 'op-ann' });
    expect(await repo.acknowledge(gymId, 'tm-01', 'safety_stop', 'op-bob', T0 + 61_000)).toBeUndefined();
    expect(await repo.openCount(gymId, 'tm-01')).toBe(2);

    const resolved = await repo.resolve(gymId, 'tm-01', 'safety_stop', 'op-bob', T0 + 120_000);
    expect(resolved).toMatchObject({ change: 'resolved', version: 3, by: 'op-bob' });
    expect(await repo.resolve(gymId, 'tm-01', 'safety_stop', 'op-bob', T0 + 121_000)).toBeUndefined();
    expect(await repo.resolve(gymId, 'tm-01', 'offline', 'op-bob')).toBeUndefined();
    expect(await repo.get({ gymId, treadmillId: 'tm-01', kind: 'safety_stop' })).toMatchObject({
      status: 'resolved',
      acknowledgedBy: 'op-ann',
      resolvedBy: 'op-bob',
    });
    expect(await repo.openKinds(gymId, 'tm-01')).toEqual(['maintenance_due']);
    expect((await repo.listOpen(gymId)).map((a) => a.kind)).toEqual(['maintenance_due']);
  });

  it('auto-resolves an offline alert when the treadmill is heard again', async () => {
    const gymId = 'gym-offline';
    const lastSeenTs = T0;
    const raise = evaluateOfflineAlert({
      gymId,
      treadmillId: 'tm-01',
      lastSeenTs,
      now: T0 + 7 * 60_000,
      offline: true,
    });
    expect(raise).toBeDefined();
    if (!raise) return;
    expect(await repo.apply([raise])).toMatchObject([{ change: 'opened', kind: 'offline' }]);
    // The sweeper runs again a minute later: same signal, nothing changes.
    const again = evaluateOfflineAlert({
      gymId,
      treadmillId: 'tm-01',
      lastSeenTs,
      now: T0 + 8 * 60_000,
      offline: true,
    });
    expect(again && (await repo.apply([again]))).toEqual([]);

    const events = new StreamBuilder(gymId, 'tm-01').add(T0 + 9 * 60_000, {
      type: 'heartbeat',
      online: true,
    }).events;
    const signals = evaluateEventAlerts({
      gymId,
      treadmillId: 'tm-01',
      events,
      direction: () => 'unknown',
      openKinds: await repo.openKinds(gymId, 'tm-01'),
    });
    expect(await repo.apply(signals)).toMatchObject([
      { change: 'resolved', kind: 'offline', by: 'auto', version: 2 },
    ]);
    expect(await repo.openCount(gymId, 'tm-01')).toBe(0);
  });

  it('lists pending notifications and clears them only while the alert is unchanged', async () => {
    const gymId = 'gym-outbox';
    const key = { gymId, treadmillId: 'tm-01', kind: 'stumble' as const };
    await repo.apply([signal(gymId, T0)]);
    const pending = (await repo.pendingNotifications(1000)).filter((a) => a.gymId === gymId);
    expect(pending).toMatchObject([{ version: 1, pending: [{ change: 'opened', version: 1 }] }]);
    const seen = pending[0];
    if (!seen) return;

    await repo.acknowledge(gymId, 'tm-01', 'stumble', 'op', T0 + 1000);
    expect(await repo.markDelivered(key, seen.alertId, seen.version)).toBe(false);
    expect((await raw(gymId, 'tm-01', 'stumble'))?.pending).toHaveLength(2);

    // A count bump is no transition: it does not stand in the way of clearing.
    await repo.apply([signal(gymId, T0 + 2000)]);
    expect(await repo.markDelivered(key, seen.alertId, 2)).toBe(true);
    const item = await raw(gymId, 'tm-01', 'stumble');
    expect(item).not.toHaveProperty('pending');
    expect(item).not.toHaveProperty('notifyPending');
    expect(item).toMatchObject({ count: 2, status: 'acknowledged' });
    expect((await repo.pendingNotifications(1000)).filter((a) => a.gymId === gymId)).toEqual([]);
  });
});

/**
 * A gym's alert history grows with time: `status=all` is read a page at a time (limit and an opaque cursor, newest
 * change first), and what is over (resolved, current or replaced) carries a TTL so that the table forgets it.
 */
describe('alert history through the API: paginated, and expiring', () => {
  const NOW = Date.UTC(2026, 10, 25, 12);
  const CYCLES = 8;
  const TREADMILLS = ['tm-01', 'tm-02', 'tm-03'];
  const operatorA = claimsOf('operator-a');
  const operatorB = claimsOf('operator-b');
  let kit: EmbeddedAws;
  let repo: AlertsRepo;
  let handler: ReturnType<typeof createApiHandler>;

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    kit = await startEmbeddedAws({ shards: 1, prefix: 'history' });
    repo = new AlertsRepo(kit.dynamo.doc, kit.tables.alerts);
    handler = createApiHandler(() => apiDepsFor(kit.dynamo.doc, 'history', () => NOW));
    // Each treadmill: a stumble raised and resolved by an operator, CYCLES times (each raise after a
    // resolution opens a new alert and archives the old one), then raised once more and left open.
    for (const [t, treadmillId] of TREADMILLS.entries()) {
      for (let cycle = 0; cycle <= CYCLES; cycle++) {
        const ts = T0 + cycle * 3_600_000 + t * 60_000;
        await repo.apply([signal('gym-a', ts, { treadmillId })]);
        if (cycle < CYCLES) await repo.resolve('gym-a', treadmillId, 'stumble', 'op-ann', ts + 1_000);
      }
    }
    await repo.apply([signal('gym-b', T0, { treadmillId: 'tm-01' })]);
  });

  afterAll(async () => {
    await kit?.stop();
  });

  const total = TREADMILLS.length * (CYCLES + 1);

  it(`reads ${total} alerts a page at a time, newest change first, each once`, async () => {
    const seen: AlertItem[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `status=all&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const reply = await call(handler, 'GET', `/api/gyms/gym-a/alerts?${query}`, operatorA);
      expect(reply.status).toBe(200);
      const page = reply.body.alerts as AlertItem[];
      expect(page.length).toBeLessThanOrEqual(5);
      seen.push(...page);
      cursor = reply.body.nextCursor as string | null;
      pages++;
    } while (cursor !== null && pages < 50);
    expect(pages).toBe(Math.ceil(total / 5));
    expect(new Set(seen.map((alert) => alert.alertId)).size).toBe(total);
    const times = seen.map((alert) => alert.updatedTs);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(seen.every((alert) => alert.gymId === 'gym-a')).toBe(true);
  });

  it('answers 50 by default and at most 200 a page', async () => {
    const reply = await call(handler, 'GET', '/api/gyms/gym-a/alerts?status=all', operatorA);
    expect((reply.body.alerts as AlertItem[]).length).toBe(total);
    expect(reply.body.nextCursor).toBeNull();
    expect(
      (await call(handler, 'GET', '/api/gyms/gym-a/alerts?status=all&limit=201', operatorA)).status,
    ).toBe(400);
  });

  it("refuses a cursor that is not the API's, or another gym's", async () => {
    const first = await call(handler, 'GET', '/api/gyms/gym-a/alerts?status=all&limit=2', operatorA);
    const cursor = encodeURIComponent(first.body.nextCursor as string);
    const elsewhere = await call(
      handler,
      'GET',
      `/api/gyms/gym-b/alerts?status=all&cursor=${cursor}`,
      operatorB,
    );
    expect(elsewhere.status).toBe(400);
    const forged = await call(
      handler,
      'GET',
      '/api/gyms/gym-a/alerts?status=all&cursor=eyJ4IjoxfQ',
      operatorA,
    );
    expect(forged.status).toBe(400);
  });

  it('gives what is over a TTL 90 days after its resolution, and nothing still active', async () => {
    const { Items: items = [] } = await kit.dynamo.doc.send(
      new QueryCommand({
        TableName: kit.tables.alerts,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'GYM#gym-a' },
      }),
    );
    const replaced = items.filter((item) => String(item.sk).startsWith('HIST#'));
    expect(replaced).toHaveLength(TREADMILLS.length * CYCLES);
    for (const item of replaced)
      expect(item.expiresAt).toBe(Math.floor(Number(item.resolvedTs) / 1000) + 90 * 86_400);
    const current = items.filter((item) => String(item.sk).startsWith('ALERT#'));
    expect(current.every((item) => item.status === 'open' && item.expiresAt === undefined)).toBe(true);
    // Resolved in place (not yet replaced): over, so it expires too; reopened, it would not.
    await repo.resolve('gym-a', 'tm-01', 'stumble', 'op-bob', NOW);
    const { Item: resolved } = await kit.dynamo.doc.send(
      new GetCommand({ TableName: kit.tables.alerts, Key: { pk: 'GYM#gym-a', sk: 'ALERT#tm-01#stumble' } }),
    );
    expect(resolved?.expiresAt).toBe(Math.floor(NOW / 1000) + 90 * 86_400);
    const listed = await call(handler, 'GET', '/api/gyms/gym-a/alerts?status=all&limit=1', operatorA);
    expect(listed.body.alerts).toMatchObject([{ treadmillId: 'tm-01', status: 'resolved' }]);
    expect(listed.body.alerts as AlertItem[]).not.toHaveProperty([0, 'expiresAt']);
  });
});
