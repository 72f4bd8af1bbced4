/**
 * Alert noise (issue 13 point 7): the notifications a simulated gym raises over 17 minutes, as the dev stack
 * runs it (2 gyms x 12 treadmills, seed 1, live rates), through the real ingest handler and the sweeper.
 * Before the change: 34 notifications here (69 in the dev stack), all "warning"; after: 12. The bound below is what dedup, cooldown and
 * session-bound stumbles bring it to (docs/architecture.md section 7.3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertTransport } from '../../functions/lib/alert-transports.js';
import { deliverPending } from '../../functions/lib/alert-delivery.js';
import { createProcessing } from '../../functions/lib/processing.js';
import { sweep } from '../../functions/lib/sweep.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import type { AlertTransition } from '../../shared/src/alerts/index.js';
import { SimulatedGyms } from '../support/sim-feed.js';

const MINUTES = 17;

class CountingTransport implements AlertTransport {
  readonly name = 'counting';
  readonly delivered: AlertTransition[] = [];
  async deliver(transition: AlertTransition): Promise<void> {
    this.delivered.push(transition);
  }
}

describe('alert noise of the simulated gym over 17 minutes', () => {
  let kit: EmbeddedAws;
  const transport = new CountingTransport();

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    kit = await startEmbeddedAws({ shards: 1 });
    const base = createProcessing(kit.dynamo.doc, kit.tablePrefix);
    const notify = () => deliverPending({ repo: base.alerts, transport });
    const processing = { ...base, notify };
    const startTs = Date.now() - MINUTES * 60_000;
    const gyms = new SimulatedGyms(processing, { seed: 1 }, startTs);
    for (let minute = 1; minute <= MINUTES; minute++) {
      await gyms.advanceTo(startTs + minute * 60_000);
      await sweep(processing, gyms.clock);
    }
    await notify();
  }, 600_000);

  afterAll(async () => {
    await kit?.stop();
  });

  it('notifies a few times, critical ones with their severity', () => {
    const byKindChange = new Map<string, number>();
    for (const t of transport.delivered) {
      const key = `${t.severity} ${t.kind} ${t.change}`;
      byKindChange.set(key, (byKindChange.get(key) ?? 0) + 1);
    }
    const critical = transport.delivered.filter((t) => t.severity === 'critical');
    expect(
      transport.delivered.length,
      `notifications by severity, kind and change: ${JSON.stringify(Object.fromEntries(byKindChange))}`,
    ).toBeLessThanOrEqual(15);
    expect(critical.length).toBeGreaterThan(0);
  });
});
