/**
 * The notifier Lambda, every minute (EventBridge Scheduler): the backstop that delivers the alert transitions
 * ingest and the sweeper did not (functions/lib/alert-delivery.ts).
 *
 * Environment: TABLE_PREFIX and at least one of ALERT_TOPIC_ARN, ALERT_WEBHOOK_URL, ALERT_OUTBOX_FILE.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { dynamoDocumentClient } from '../../shared/src/aws/clients.js';
import { tableNames } from '../../shared/src/tables.js';
import { type AlertDeliveryDeps, deliverPending } from '../lib/alert-delivery.js';
import { transportFromEnv } from '../lib/alert-transports.js';
import { AlertsRepo } from '../lib/alerts-repo.js';
import { ALERT_ENV, depsFromEnv, EnvironmentError, envSchema, TABLE_ENV } from '../lib/environment.js';
import { lambdaHandler } from '../lib/lambda-entry.js';

export const NOTIFIER_ENV = envSchema({ ...TABLE_ENV, ...ALERT_ENV });

export const handler = lambdaHandler(
  'notifier',
  depsFromEnv(NOTIFIER_ENV, (env): AlertDeliveryDeps => {
    const transport = transportFromEnv(env);
    if (!transport)
      throw new EnvironmentError(
        'no alert destination: set ALERT_TOPIC_ARN, ALERT_WEBHOOK_URL or ALERT_OUTBOX_FILE',
      );
    return { repo: new AlertsRepo(dynamoDocumentClient(), tableNames(env.TABLE_PREFIX).alerts), transport };
  }),
  async (_event: unknown, { deps, logger, metrics }) => {
    const report = await deliverPending({ ...deps, logger });
    metrics.addMetric('PendingAlerts', MetricUnit.Count, report.alerts);
    metrics.addMetric('NotificationsDelivered', MetricUnit.Count, report.delivered);
    metrics.addMetric('NotificationFailures', MetricUnit.Count, report.failed);
    if (report.alerts > 0) logger.info('alert notifications', { ...report });
    return report;
  },
);
