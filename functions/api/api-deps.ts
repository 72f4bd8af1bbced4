/**
 * The API's dependencies: the repos over the tables, and what the environment may add (the unsubscribe secret
 * or its ARN, the local outbox, the export bucket).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableNames } from '../../shared/src/tables.js';
import { AlertsRepo } from '../lib/alerts-repo.js';
import { FileOutbox } from '../lib/email-outbox.js';
import {
  type EnvOf,
  envSchema,
  optional,
  parseEnv,
  secret,
  secretSource,
  TABLE_ENV,
} from '../lib/environment.js';
import { S3ExportStore } from '../lib/export-store.js';
import { FleetRepo } from '../lib/fleet-repo.js';
import { MembersRepo } from '../lib/members-repo.js';
import { RollupsRepo } from '../lib/rollups-repo.js';
import { SessionsRepo } from '../lib/sessions-repo.js';
import { TreadmillStatusRepo } from '../lib/treadmill-status-repo.js';
import { MIN_SECRET_BYTES, unsubscribeTokensFrom } from '../lib/unsubscribe-tokens.js';
import type { ApiDeps } from './routes.js';

/**
 * What the API may be given besides its tables. The unsubscribe secret: its ARN in AWS (read from Secrets
 * Manager when the route first needs it), the value itself locally (.data/secrets/unsubscribe).
 */
const API_OPTIONS_ENV = envSchema({
  UNSUBSCRIBE_SECRET: optional(secret(MIN_SECRET_BYTES)),
  UNSUBSCRIBE_SECRET_ARN: optional(),
  EMAIL_OUTBOX_DIR: optional(),
  EXPORT_BUCKET: optional(),
});
export const API_ENV = envSchema({ ...TABLE_ENV, ...API_OPTIONS_ENV.shape });

/**
 * The repos over these tables; the rest from `env` (the process's unless given) where `overrides` does not
 * have it: no unsubscribe secret answers 503, no outbox directory or export bucket likewise.
 */
export function apiDepsFor(
  doc: DynamoDBDocumentClient,
  tablePrefix: string,
  now = Date.now,
  overrides: Partial<ApiDeps> = {},
  env: EnvOf<typeof API_OPTIONS_ENV> = parseEnv(API_OPTIONS_ENV),
): ApiDeps {
  const tables = tableNames(tablePrefix);
  const unsubscribeSecret = secretSource(
    'UNSUBSCRIBE_SECRET',
    { value: env.UNSUBSCRIBE_SECRET, arn: env.UNSUBSCRIBE_SECRET_ARN },
    MIN_SECRET_BYTES,
  );
  return {
    fleet: new FleetRepo(doc, tables.fleet),
    sessions: new SessionsRepo(doc, tables.sessions),
    alerts: new AlertsRepo(doc, tables.alerts),
    rollups: new RollupsRepo(doc, tables.rollups),
    statusHours: new TreadmillStatusRepo(doc, tables.rollups),
    members: new MembersRepo(doc, tables.members),
    unsubscribeTokens: unsubscribeSecret ? unsubscribeTokensFrom(unsubscribeSecret) : null,
    emailOutbox: env.EMAIL_OUTBOX_DIR ? new FileOutbox(env.EMAIL_OUTBOX_DIR) : null,
    exportStore: env.EXPORT_BUCKET ? new S3ExportStore(env.EXPORT_BUCKET) : null,
    now,
    ...overrides,
  };
}
