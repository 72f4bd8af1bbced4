/**
 * The alert notifier (DESIGN.md section 7, the outbox): delivers the transitions marked `notifyPending` and
 * then clears the mark, conditionally on the alert being unchanged since it was read. A crash between the two
 * sends again on the next run, never loses; receivers drop repeats by alertId + version.
 *
 * Ingest calls `deliverPending` after a batch that produced transitions; `handler` runs every minute as the
 * backstop.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { StoredAlert } from '../../shared/src/alerts/index.js';
import { tableNames } from '../../shared/src/tables.js';
import { type AlertTransport, type TransportEnv, transportFromEnv } from '../lib/alert-transports.js';
import { AlertsRepo } from '../lib/alerts-repo.js';
import { dynamoDocumentClient } from '../lib/aws-clients.js';

export interface NotifierDeps {
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

async function deliverAlert(deps: NotifierDeps, alert: StoredAlert, report: DeliveryReport): Promise<void> {
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

/** Delivers every pending transition once or more, oldest first. */
export async function deliverPending(deps: NotifierDeps): Promise<DeliveryReport> {
  const alerts = await deps.repo.pendingNotifications(deps.maxAlerts ?? DEFAULT_MAX_ALERTS);
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

export interface NotifierEnv extends TransportEnv {
  TABLE_PREFIX?: string | undefined;
}

/** Dependencies from the environment: TABLE_PREFIX and at least one of the ALERT_* destinations. */
export function notifierDepsFromEnv(env: NotifierEnv): Omit<NotifierDeps, 'logger'> {
  if (!env.TABLE_PREFIX) throw new Error('TABLE_PREFIX is not set');
  const transport = transportFromEnv(env);
  if (!transport)
    throw new Error('no alert destination: set ALERT_TOPIC_ARN, ALERT_WEBHOOK_URL or ALERT_OUTBOX_FILE');
  return { repo: new AlertsRepo(dynamoDocumentClient(), tableNames(env.TABLE_PREFIX).alerts), transport };
}

const logger = new Logger({ serviceName: 'notifier' });
let deps: NotifierDeps | undefined;

/** Scheduled every minute: the backstop for deliveries ingest did not finish. */
export async function handler(): Promise<DeliveryReport> {
  deps ??= { ...notifierDepsFromEnv(process.env), logger };
  const report = await deliverPending(deps);
  if (report.alerts > 0) logger.info('alert notifications', { ...report });
  return report;
}
