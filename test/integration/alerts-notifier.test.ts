import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deliverPending } from '../../functions/lib/alert-delivery.js';
import {
  type AlertTransport,
  deliveryId,
  transportFromEnv,
  WebhookTransport,
} from '../../functions/lib/alert-transports.js';
import { type AlertKey, AlertsRepo } from '../../functions/lib/alerts-repo.js';
import { handler } from '../../functions/notifier/handler.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { lambdaContext } from '../../scripts/local/lambda-shapes.js';
import type { AlertSignal, AlertTransition } from '../../shared/src/alerts/index.js';
import { T0 } from '../support/events.js';

const signal = (gymId: string, ts: number, extra: Partial<AlertSignal> = {}): AlertSignal => ({
  gymId,
  treadmillId: 'tm-01',
  kind: 'error_code',
  action: 'raise',
  severity: 'warning',
  ts,
  message: `error at ${ts}`,
  ...extra,
});

/** A receiver as the docs ask for: it drops a message whose alertId + version it has seen. */
class DedupingReceiver implements AlertTransport {
  readonly name = 'receiver';
  readonly received: AlertTransition[] = [];
  readonly accepted = new Map<string, AlertTransition>();

  constructor(private readonly gymId: string) {}

  async deliver(transition: AlertTransition): Promise<void> {
    // Other tests' alerts share the table; this receiver stands for one gym's subscriber.
    if (transition.gymId !== this.gymId) return;
    this.received.push(transition);
    if (!this.accepted.has(deliveryId(transition))) this.accepted.set(deliveryId(transition), transition);
  }

  changes(): string[] {
    return [...this.accepted.values()].map((t) => `${t.alertId.split(':').at(-1)} ${t.change}@${t.version}`);
  }
}

/** Dies (throws) after delivering and before clearing the outbox, as a process killed at that point would. */
class CrashingRepo extends AlertsRepo {
  override async markDelivered(_key: AlertKey, _alertId: string, _version: number): Promise<boolean> {
    throw new Error('process died before clearing the outbox');
  }
}

describe('notifier against dynalite', () => {
  let kit: EmbeddedAws;
  let repo: AlertsRepo;
  let dir: string;

  beforeAll(async () => {
    kit = await startEmbeddedAws({ shards: 1 });
    repo = new AlertsRepo(kit.dynamo.doc, kit.tables.alerts);
    dir = await mkdtemp(join(tmpdir(), 'retrostride-notifier-'));
  });

  afterAll(async () => {
    await kit?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('delivers every transition at least once across a crash, and exactly once to a deduping receiver', async () => {
    const gymId = 'gym-crash';
    const receiver = new DedupingReceiver(gymId);
    const crashing = new CrashingRepo(kit.dynamo.doc, kit.tables.alerts);

    await repo.apply([signal(gymId, T0)]);
    expect(await deliverPending({ repo, transport: receiver })).toMatchObject({ cleared: 1, failed: 0 });

    await repo.acknowledge(gymId, 'tm-01', 'error_code', 'op-ann', T0 + 60_000);
    expect((await deliverPending({ repo: crashing, transport: receiver })).cleared).toBe(0);
    // The restarted notifier sends the acknowledgement again.
    expect(await deliverPending({ repo, transport: receiver })).toMatchObject({ cleared: 1 });

    // Resolved and reopened before the notifier runs: both transitions still go out, in order.
    await repo.apply([signal(gymId, T0 + 120_000, { action: 'clear' }), signal(gymId, T0 + 180_000)]);
    expect((await deliverPending({ repo: crashing, transport: receiver })).cleared).toBe(0);
    await deliverPending({ repo, transport: receiver });
    expect(await deliverPending({ repo, transport: receiver })).toMatchObject({ alerts: 0, delivered: 0 });

    expect(receiver.changes()).toEqual([
      `${T0} opened@1`,
      `${T0} acknowledged@2`,
      `${T0} resolved@3`,
      `${T0 + 180_000} opened@1`,
    ]);
    // The crashes made real repeats, which the receiver dropped.
    expect(receiver.received.length).toBe(receiver.accepted.size + 3);
    expect(receiver.accepted.get(`${gymId}:tm-01:error_code:${T0}#2`)).toMatchObject({ by: 'op-ann' });
  });

  it('keeps an alert pending when its delivery fails, and delivers the other alerts', async () => {
    const gymId = 'gym-partial';
    await repo.apply([
      signal(gymId, T0, { treadmillId: 'tm-ok' }),
      signal(gymId, T0, { treadmillId: 'tm-bad' }),
    ]);
    const delivered: string[] = [];
    const flaky: AlertTransport = {
      name: 'flaky',
      async deliver(transition) {
        if (transition.gymId !== gymId) return;
        if (transition.treadmillId === 'tm-bad') throw new Error('receiver down');
        delivered.push(transition.treadmillId);
      },
    };
    const warn = vi.fn();
    const report = await deliverPending({ repo, transport: flaky, logger: { warn } });
    expect(report.failed).toBe(1);
    expect(delivered).toEqual(['tm-ok']);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('failed'),
      expect.objectContaining({ transport: 'flaky', stage: 'deliver' }),
    );
    const still = (await repo.pendingNotifications(1000)).filter((a) => a.gymId === gymId);
    expect(still.map((a) => a.treadmillId)).toEqual(['tm-bad']);
  });

  describe('webhook to a local HTTP server', () => {
    let server: Server;
    let url: string;
    const requests: Array<{ headers: IncomingMessage['headers']; body: AlertTransition }> = [];
    let answer = 200;

    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        req.on('end', () => {
          if (req.url === '/hang') return; // never answers: the transport's timeout must end the wait
          requests.push({ headers: req.headers, body: JSON.parse(body) as AlertTransition });
          res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer === 200 ? 'ok' : 'busy');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
    });

    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('POSTs the transition as JSON and treats a non-2xx answer as a failure to retry', async () => {
      const gymId = 'gym-webhook';
      await repo.apply([signal(gymId, T0, { severity: 'critical', kind: 'safety_stop' })]);
      const transport = new WebhookTransport(url);
      // Only this gym's alerts: the shared table holds other tests' alerts too.
      const only: AlertTransport = {
        name: 'webhook',
        deliver: (t) => (t.gymId === gymId ? transport.deliver(t) : Promise.resolve()),
      };

      answer = 503;
      const failed = await deliverPending({ repo, transport: only });
      expect(failed.failed).toBeGreaterThanOrEqual(1);
      expect((await repo.pendingNotifications(1000)).some((a) => a.gymId === gymId)).toBe(true);

      answer = 200;
      await deliverPending({ repo, transport: only });
      expect((await repo.pendingNotifications(1000)).some((a) => a.gymId === gymId)).toBe(false);
      const mine = requests.filter((r) => r.body.gymId === gymId);
      expect(mine).toHaveLength(2);
      expect(mine[1]?.headers['content-type']).toBe('application/json');
      expect(mine[1]?.headers['idempotency-key']).toBe(`${gymId}:tm-01:safety_stop:${T0}#1`);
      expect(mine[1]?.body).toMatchObject({
        kind: 'safety_stop',
        severity: 'critical',
        change: 'opened',
        version: 1,
      });
    });

    it('gives up on a receiver that does not answer in time', async () => {
      const transport = new WebhookTransport(url.replace('/alerts', '/hang'), { timeoutMs: 200 });
      const [transition] = await repo.apply([signal('gym-hang', T0)]);
      if (!transition) throw new Error('no transition');
      await expect(transport.deliver(transition)).rejects.toThrow(/timeout|abort/i);
    });
  });

  it('appends to a local outbox file chosen by ALERT_OUTBOX_FILE, one JSON line per transition', async () => {
    const gymId = 'gym-file';
    const file = join(dir, 'nested', 'alerts.jsonl');
    const transport = transportFromEnv({ ALERT_OUTBOX_FILE: file });
    if (!transport) throw new Error('no transport from ALERT_OUTBOX_FILE');
    await repo.apply([signal(gymId, T0), signal(gymId, T0 + 1000, { action: 'clear' })]);
    await deliverPending({ repo, transport });
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const mine = lines.map((line) => JSON.parse(line) as AlertTransition).filter((t) => t.gymId === gymId);
    expect(mine.map((t) => `${t.change}@${t.version}`)).toEqual(['opened@1', 'resolved@2']);
  });

  it('runs as the scheduled handler, configured by the environment only', async () => {
    const file = join(dir, 'handler.jsonl');
    for (const [name, value] of Object.entries({ ...kit.env, ALERT_OUTBOX_FILE: file }))
      vi.stubEnv(name, value);
    try {
      await repo.apply([signal('gym-handler', T0)]);
      const report = await handler({}, lambdaContext('notifier', 'us-east-1', '000000000000'));
      expect(report.failed).toBe(0);
      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      expect(lines.some((line) => (JSON.parse(line) as AlertTransition).gymId === 'gym-handler')).toBe(true);
      expect((await repo.pendingNotifications(1000)).filter((a) => a.gymId === 'gym-handler')).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
