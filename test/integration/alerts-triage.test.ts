/**
 * Alert triage through the API against dynalite (docs/architecture.md section 7.3): a treadmill's history a page
 * at a time, bulk acknowledge, snooze, per-gym thresholds used by the rules, critical notifications first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDepsFor } from '../../functions/api/api-deps.js';
import { createApiHandler } from '../../functions/api/handler.js';
import { deliverPending } from '../../functions/lib/alert-delivery.js';
import { GymAlertConfigs } from '../../functions/lib/alert-configs.js';
import { AlertsRepo } from '../../functions/lib/alerts-repo.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import type { AlertItem, AlertSignal, AlertTransition } from '../../shared/src/alerts/index.js';
import { call, claimsOf } from '../support/api.js';
import { T0 } from '../support/events.js';

const NOW = T0 + 3_600_000;
const operatorA = claimsOf('operator-a');
const operatorB = claimsOf('operator-b');

const signal = (treadmillId: string, ts: number, extra: Partial<AlertSignal> = {}): AlertSignal => ({
  gymId: 'gym-a',
  treadmillId,
  kind: 'backward_overspeed',
  action: 'raise',
  severity: 'warning',
  ts,
  message: `too fast at ${ts}`,
  ...extra,
});

describe('alert triage through the API', () => {
  let kit: EmbeddedAws;
  let repo: AlertsRepo;
  let handler: ReturnType<typeof createApiHandler>;

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    kit = await startEmbeddedAws({ shards: 1, prefix: 'triage' });
    repo = new AlertsRepo(kit.dynamo.doc, kit.tables.alerts);
    handler = createApiHandler(() => apiDepsFor(kit.dynamo.doc, 'triage', () => NOW));
  });

  afterAll(async () => {
    await kit?.stop();
  });

  it("pages a treadmill's history, current and replaced alerts, newest change first, and only its own", async () => {
    for (let cycle = 0; cycle < 5; cycle++) {
      const ts = T0 + cycle * 60_000;
      await repo.apply([signal('tm-hist', ts), signal('tm-hist', ts + 1000, { action: 'clear' })]);
    }
    await repo.apply([signal('tm-other', T0)]);
    const seen: AlertItem[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `limit=2&cursor=${cursor}` : 'limit=2';
      const reply = await call(
        handler,
        'GET',
        `/api/gyms/gym-a/treadmills/tm-hist/alerts?${query}`,
        operatorA,
      );
      expect(reply.status).toBe(200);
      const alerts = reply.body.alerts as AlertItem[];
      expect(alerts.length).toBeLessThanOrEqual(2);
      seen.push(...alerts);
      cursor = reply.body.nextCursor as string | null;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(seen.every((alert) => alert.treadmillId === 'tm-hist')).toBe(true);
    expect(seen.map((a) => a.updatedTs)).toEqual(seen.map((a) => a.updatedTs).toSorted((a, b) => b - a));
    const bad = await call(handler, 'GET', '/api/gyms/gym-a/treadmills/tm-hist/alerts?limit=201', operatorA);
    expect(bad.status).toBe(400);
    const otherGym = await call(handler, 'GET', '/api/gyms/gym-a/treadmills/tm-hist/alerts', operatorB);
    expect(otherGym.status).toBe(403);
  });

  it('acknowledges several alerts in one action, idempotently, and says which it could not', async () => {
    await repo.apply([signal('tm-b1', T0), signal('tm-b2', T0), signal('tm-b3', T0)]);
    await repo.resolve('gym-a', 'tm-b3', 'backward_overspeed', 'op', T0 + 1);
    const target =
      '/api/gyms/gym-a/alerts/ack?alerts=tm-b1:backward_overspeed,tm-b2:backward_overspeed,tm-b3:backward_overspeed,tm-none:offline';
    for (let round = 0; round < 2; round++) {
      const reply = await call(handler, 'POST', target, operatorA);
      expect(reply.status).toBe(200);
      expect((reply.body.acknowledged as AlertItem[]).map((a) => `${a.treadmillId} ${a.status}`)).toEqual([
        'tm-b1 acknowledged',
        'tm-b2 acknowledged',
      ]);
      expect(reply.body.skipped).toEqual([
        { treadmillId: 'tm-b3', kind: 'backward_overspeed', reason: 'resolved' },
        { treadmillId: 'tm-none', kind: 'offline', reason: 'not_found' },
      ]);
    }
    expect(
      (await repo.get({ gymId: 'gym-a', treadmillId: 'tm-b1', kind: 'backward_overspeed' }))?.version,
    ).toBe(2);
    expect((await call(handler, 'POST', '/api/gyms/gym-a/alerts/ack?alerts=tm-b1', operatorA)).status).toBe(
      400,
    );
    expect((await call(handler, 'POST', target.replace('gym-a', 'gym-b'), operatorA)).status).toBe(403);
    const tooMany = Array.from({ length: 51 }, (_, i) => `tm-${i}:offline`).join(',');
    expect(
      (await call(handler, 'POST', `/api/gyms/gym-a/alerts/ack?alerts=${tooMany}`, operatorA)).status,
    ).toBe(400);
  });

  it('snoozes: no notification while snoozed, the snooze shown on the alert, bounded', async () => {
    await repo.apply([signal('tm-s', T0)]);
    const reply = await call(
      handler,
      'POST',
      '/api/gyms/gym-a/alerts/tm-s/backward_overspeed/snooze?minutes=60&scope=kind',
      operatorA,
    );
    expect(reply.status).toBe(200);
    expect(reply.body.alert).toMatchObject({
      snoozedUntil: NOW + 3_600_000,
      snoozeScope: 'kind',
      snoozedBy: 'operator-a',
    });
    await deliverPending({ repo, transport: { name: 'drain', deliver: async () => undefined } });
    // Escalated while snoozed: recorded, not queued.
    const [escalated] = await repo.apply([signal('tm-s', NOW + 60_000, { severity: 'critical' })]);
    expect(escalated).toMatchObject({ change: 'escalated', severity: 'critical' });
    const pending = (await repo.pendingNotifications(1000)).filter((a) => a.treadmillId === 'tm-s');
    expect(pending).toEqual([]);
    const tooLong = '/api/gyms/gym-a/alerts/tm-s/backward_overspeed/snooze?minutes=1441';
    expect((await call(handler, 'POST', tooLong, operatorA)).status).toBe(400);
    const ended = await call(handler, 'POST', tooLong.replace('1441', '0'), operatorA);
    expect(ended.body.alert).not.toHaveProperty('snoozedUntil');
  });

  it("keeps each gym's thresholds, bounded, changed by that gym's operators only, and the rules use them", async () => {
    const initial = await call(handler, 'GET', '/api/gyms/gym-a/alert-thresholds', operatorA);
    expect(initial.body.thresholds).toEqual({
      motorTempMaxC: 90,
      offlineAfterMinutes: 5,
      stumbleAlertCount: 3,
    });
    const changed = await call(
      handler,
      'POST',
      '/api/gyms/gym-a/alert-thresholds?motorTempMaxC=80',
      operatorA,
    );
    expect(changed.status).toBe(200);
    expect(changed.body.thresholds).toEqual({
      motorTempMaxC: 80,
      offlineAfterMinutes: 5,
      stumbleAlertCount: 3,
    });
    for (const query of ['motorTempMaxC=200', 'offlineAfterMinutes=1', 'stumbleAlertCount=2.5']) {
      const reply = await call(handler, 'POST', `/api/gyms/gym-a/alert-thresholds?${query}`, operatorA);
      expect(reply.status).toBe(400);
    }
    expect(
      (await call(handler, 'POST', '/api/gyms/gym-a/alert-thresholds?motorTempMaxC=70', operatorB)).status,
    ).toBe(403);
    const config = await new GymAlertConfigs(repo).configFor('gym-a');
    expect(config.motorTempMaxC).toBe(80);
    expect((await new GymAlertConfigs(repo).configFor('gym-b')).motorTempMaxC).toBe(90);
  });

  it('delivers critical alerts first, each message with its severity', async () => {
    const gymId = 'gym-order';
    await repo.apply([
      { ...signal('tm-1', T0), gymId, severity: 'warning' },
      { ...signal('tm-2', T0 + 1), gymId, severity: 'warning' },
      { ...signal('tm-3', T0 + 2), gymId, kind: 'safety_stop', severity: 'critical' },
    ]);
    const order: AlertTransition[] = [];
    await deliverPending({
      repo,
      concurrency: 1,
      transport: { name: 'order', deliver: async (t) => void order.push(t) },
    });
    expect(order.filter((t) => t.gymId === gymId).map((t) => `${t.severity} ${t.treadmillId}`)).toEqual([
      'critical tm-3',
      'warning tm-1',
      'warning tm-2',
    ]);
  });
});
