/**
 * The weekly progress emails (EventBridge Scheduler, e.g. Mondays 06:00 UTC): last ISO week's email to every
 * member who consented and walked, each sent at most once (functions/lib/progress-emails.ts).
 *
 * Environment: TABLE_PREFIX, EMAIL_FROM, PUBLIC_BASE_URL (https origin of the dashboard and /api, for the
 * unsubscribe links), UNSUBSCRIBE_SECRET (at least 32 bytes); SES_CONFIGURATION_SET optional. With
 * EMAIL_OUTBOX_DIR set, emails go to .eml files there instead of SES (the local stack).
 * The schedule may pass `{ "week": "2026-W47" }` to send (or resend what is missing for) a given week.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { shiftWeek } from '../../shared/src/email/progress-report.js';
import { isIsoWeek } from '../../shared/src/export/research-export.js';
import { isoWeekKey } from '../../shared/src/metrics/rollups.js';
import { tableNames } from '../../shared/src/tables.js';
import { dynamoDocumentClient } from '../lib/aws-clients.js';
import { SesTransport } from '../lib/email-delivery.js';
import { type EmailTransport, FileOutbox } from '../lib/email-outbox.js';
import { EmailMarkersRepo } from '../lib/email-markers-repo.js';
import { MembersRepo } from '../lib/members-repo.js';
import { requireTablePrefix } from '../lib/processing.js';
import { type ProgressEmailDeps, type ProgressEmailRun, runProgressEmails } from '../lib/progress-emails.js';
import { RollupsRepo } from '../lib/rollups-repo.js';
import { UnsubscribeTokens } from '../lib/unsubscribe-tokens.js';

const logger = new Logger({ serviceName: 'progress-email' });

export interface ProgressEmailConfig {
  from: string;
  publicBaseUrl: string;
  unsubscribeSecret: string;
}

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export function progressEmailConfigFromEnv(env: Record<string, string | undefined>): ProgressEmailConfig {
  return {
    from: required(env, 'EMAIL_FROM'),
    publicBaseUrl: required(env, 'PUBLIC_BASE_URL'),
    unsubscribeSecret: required(env, 'UNSUBSCRIBE_SECRET'),
  };
}

export function progressEmailDeps(
  doc: DynamoDBDocumentClient,
  tablePrefix: string,
  config: ProgressEmailConfig,
  now: () => number = Date.now,
): ProgressEmailDeps {
  const tables = tableNames(tablePrefix);
  return {
    members: new MembersRepo(doc, tables.members),
    rollups: new RollupsRepo(doc, tables.rollups),
    markers: new EmailMarkersRepo(doc, tables.rollups),
    tokens: new UnsubscribeTokens(config.unsubscribeSecret),
    publicBaseUrl: config.publicBaseUrl,
    from: config.from,
    now,
  };
}

/** The week a run at `now` reports on: the last complete ISO week. */
export const lastCompleteWeek = (now: number): string => shiftWeek(isoWeekKey(now), -1);

let cached: { deps: ProgressEmailDeps; transport: EmailTransport } | undefined;

export async function handler(event: { week?: unknown } = {}): Promise<ProgressEmailRun> {
  if (!cached) {
    const env = process.env;
    cached = {
      deps: progressEmailDeps(
        dynamoDocumentClient(),
        requireTablePrefix(env),
        progressEmailConfigFromEnv(env),
      ),
      transport: env.EMAIL_OUTBOX_DIR
        ? new FileOutbox(env.EMAIL_OUTBOX_DIR)
        : new SesTransport(new SESv2Client({}), env.SES_CONFIGURATION_SET),
    };
  }
  const week = typeof event.week === 'string' ? event.week : lastCompleteWeek(cached.deps.now());
  if (!isIsoWeek(week)) throw new Error(`not an ISO week: ${week}`);
  const run = await runProgressEmails(cached.deps, week, { send: true, transport: cached.transport });
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
}
