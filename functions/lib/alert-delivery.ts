/**
 * Alert delivery from the outbox (docs/architecture.md section 7): delivers the transitions marked `notifyPending` and then
 * clears the mark, conditionally on the alert being unchanged since it was read. A crash between the two sends
 * again on the next run, never loses; receivers drop repeats by alertId + version.
 *
 * Ingest and the sweeper deliver after a batch that produced transitions; the notifier runs it every minute as
 * the backstop. Critical alerts go first (section 7.3): a run that meets many alerts sends what stops a
 * treadmill before what only informs; every message carries its severity (alert-transports.ts).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { SEVERITY_RANK, type StoredAlert } from '../../shared/src/alerts/index.js';
import type { AlertTransport } from './alert-transports.js';
import type { AlertsRepo } from './alerts-repo.js';

export interface AlertDeliveryDeps {
  repo: AlertsRepo;
  transport: AlertTransport;
  /** Alerts handled per run; the rest wait for the next run. */
  maxAlerts?: number;
  /** Alerts delivered at the same time (each alert's own transitions go one after the other, in order). */
  concurrency?: number;
  logger?: Pick<Logger, 'warn'>;
}

export interface DeliveryReport {
  /** Alerts with pending transitions found. */
  alerts: number;
  /** Messages the transport accepted (repeats after a crash included). */
  delivered: number;
  /** Alerts whose outbox was cleared. */
  cleared: number;
  /** Alerts whose delivery failed: they stay pending for the next run. */
  failed: number;
  /** Alerts that changed while being delivered: they stay pending and are delivered again. */
  superseded: number;
}

const DEFAULT_MAX_ALERTS = 500;
const DEFAULT_CONCURRENCY = 8;

async function deliverAlert(
  deps: AlertDeliveryDeps,
  alert: StoredAlert,
  report: DeliveryReport,
): Promise<void> {
  let stage = 'deliver';
  try {
    // In version order: a receiver sees "opened" before "resolved".
    for (const transition of alert.pending) {
      await deps.transport.deliver(transition);
      report.delivered++;
    }
    stage = 'clear';
    if (await deps.repo.markDelivered(alert, alert.alertId, alert.version)) report.cleared++;
    else report.superseded++;
  } catch (error) {
    // Delivered but not cleared is fine: the next run sends again and receivers drop the repeat.
    report.failed++;
    deps.logger?.warn('alert notification failed; it stays pending', {
      alertId: alert.alertId,
      stage,
      transport: deps.transport.name,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** The worst severity among an alert's pending transitions. */
const worstPending = (alert: StoredAlert): number =>
  Math.max(...alert.pending.map((transition) => SEVERITY_RANK[transition.severity]), 0);

/** Delivers every pending transition once or more: critical alerts first, then oldest first. */
export async function deliverPending(deps: AlertDeliveryDeps): Promise<DeliveryReport> {
  const oldestFirst = await deps.repo.pendingNotifications(deps.maxAlerts ?? DEFAULT_MAX_ALERTS);
  // A stable sort: within a severity the outbox's order (oldest transition first) stays.
  const alerts = oldestFirst.toSorted((a, b) => worstPending(b) - worstPending(a));
  const report: DeliveryReport = {
    alerts: alerts.length,
    delivered: 0,
    cleared: 0,
    failed: 0,
    superseded: 0,
  };
  const queue = [...alerts];
  const worker = async (): Promise<void> => {
    for (let alert = queue.shift(); alert !== undefined; alert = queue.shift()) {
      await deliverAlert(deps, alert, report);
    }
  };
  await Promise.all(Array.from({ length: deps.concurrency ?? DEFAULT_CONCURRENCY }, worker));
  return report;
}
