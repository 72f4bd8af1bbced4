/**
 * The weekly progress emails (EventBridge Scheduler, e.g. Mondays 06:00 UTC): last ISO week's email to every
 * member who consented and walked, each sent at most once (functions/lib/progress-emails.ts). The schedule may
 * pass `{ "week": "2026-W47" }` to send (or resend what is missing for) a given week.
 *
 * Environment: TABLE_PREFIX, EMAIL_FROM, PUBLIC_BASE_URL (https origin of the dashboard and /api, for the
 * unsubscribe links), the unsubscribe secret (at least 32 bytes) as UNSUBSCRIBE_SECRET_ARN in AWS (read from
 * Secrets Manager once per container) or UNSUBSCRIBE_SECRET; SES_CONFIGURATION_SET optional. With
 * EMAIL_OUTBOX_DIR set, emails go to .eml files there instead of SES (the local stack).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { dynamoDocumentClient } from '../../shared/src/aws/clients.js';
import { isIsoWeek, lastCompleteWeek } from '../../shared/src/iso-week.js';
import { SesTransport } from '../lib/email-delivery.js';
import { FileOutbox } from '../lib/email-outbox.js';
import {
  depsFromEnv,
  EnvironmentError,
  envSchema,
  optional,
  required,
  type SecretSource,
  secret,
  secretSource,
  TABLE_ENV,
} from '../lib/environment.js';
import { lambdaHandler } from '../lib/lambda-entry.js';
import { type ProgressEmailRun, progressEmailDeps, runProgressEmails } from '../lib/progress-emails.js';
import { MIN_SECRET_BYTES } from '../lib/unsubscribe-tokens.js';

export const PROGRESS_EMAIL_ENV = envSchema({
  ...TABLE_ENV,
  EMAIL_FROM: required(),
  PUBLIC_BASE_URL: required(),
  UNSUBSCRIBE_SECRET: optional(secret(MIN_SECRET_BYTES)),
  UNSUBSCRIBE_SECRET_ARN: optional(),
  SES_CONFIGURATION_SET: optional(),
  EMAIL_OUTBOX_DIR: optional(),
});

/** Every email carries an unsubscribe link: without the secret there is nothing to send. */
function requiredSecret(source: SecretSource | null): SecretSource {
  if (!source) throw new EnvironmentError('UNSUBSCRIBE_SECRET_ARN (or UNSUBSCRIBE_SECRET) is not set');
  return source;
}

export const handler = lambdaHandler(
  'progress-email',
  depsFromEnv(PROGRESS_EMAIL_ENV, (env) => ({
    run: progressEmailDeps(dynamoDocumentClient(), env.TABLE_PREFIX, {
      from: env.EMAIL_FROM,
      publicBaseUrl: env.PUBLIC_BASE_URL,
      unsubscribeSecret: requiredSecret(
        secretSource(
          'UNSUBSCRIBE_SECRET',
          { value: env.UNSUBSCRIBE_SECRET, arn: env.UNSUBSCRIBE_SECRET_ARN },
          MIN_SECRET_BYTES,
        ),
      ),
    }),
    transport: env.EMAIL_OUTBOX_DIR
      ? new FileOutbox(env.EMAIL_OUTBOX_DIR)
      : new SesTransport(env.SES_CONFIGURATION_SET),
  })),
  async (event: { week?: unknown } | undefined, { deps, logger, metrics }): Promise<ProgressEmailRun> => {
    const week = typeof event?.week === 'string' ? event.week : lastCompleteWeek(deps.run.now());
    if (!isIsoWeek(week)) throw new Error(`not an ISO week: ${week}`);
    const run = await runProgressEmails(deps.run, week, { send: true, transport: deps.transport });
    metrics.addMetric('ProgressEmailsSent', MetricUnit.Count, run.sent.length);
    metrics.addMetric('ProgressEmailFailures', MetricUnit.Count, run.failed.length);
    logger.info('progress emails', {
      week,
      consenting: run.consenting,
      sent: run.sent.length,
      alreadySent: run.alreadySent.length,
      noSessions: run.noSessions,
      failed: run.failed.length,
    });
    for (const failure of run.failed) logger.error('progress email failed', failure);
    return run;
  },
);
