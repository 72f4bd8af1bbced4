/**
 * The repositories and the treadmill processor over one DynamoDB client and table prefix, as ingest and the
 * sweeper use them (and the local stack, tests and the benchmark, with their own client).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlertConfig } from '../../shared/src/alerts/index.js';
import { dynamoDocumentClient } from '../../shared/src/aws/clients.js';
import { tableNames } from '../../shared/src/tables.js';
import { GymAlertConfigs } from './alert-configs.js';
import { deliverPending } from './alert-delivery.js';
import { type TransportEnv, transportFromEnv } from './alert-transports.js';
import { AlertsRepo } from './alerts-repo.js';
import { DeadLetterRepo } from './deadletter-repo.js';
import { ALERT_ENV, type EnvOf, envSchema, TABLE_ENV } from './environment.js';
import { FleetRepo } from './fleet-repo.js';
import { MembersRepo } from './members-repo.js';
import { RollupsRepo } from './rollups-repo.js';
import { SessionsRepo } from './sessions-repo.js';
import { TreadmillProcessor } from './treadmill-processor.js';
import { TreadmillStatusRepo } from './treadmill-status-repo.js';

export interface Processing {
  processor: TreadmillProcessor;
  fleet: FleetRepo;
  sessions: SessionsRepo;
  rollups: RollupsRepo;
  alerts: AlertsRepo;
  deadLetters: DeadLetterRepo;
  /** Delivers pending alert notifications; undefined when no destination is configured (the schedule does). */
  notify?: () => Promise<unknown>;
}

export function createProcessing(
  doc: DynamoDBDocumentClient,
  tablePrefix: string,
  options: { transportEnv?: TransportEnv; alertConfig?: AlertConfig } = {},
): Processing {
  const tables = tableNames(tablePrefix);
  const fleet = new FleetRepo(doc, tables.fleet);
  const sessions = new SessionsRepo(doc, tables.sessions);
  const rollups = new RollupsRepo(doc, tables.rollups);
  const alerts = new AlertsRepo(doc, tables.alerts);
  const members = new MembersRepo(doc, tables.members);
  const deadLetters = new DeadLetterRepo(doc, tables.deadletter);
  const transport = options.transportEnv ? transportFromEnv(options.transportEnv) : undefined;
  return {
    processor: new TreadmillProcessor({
      fleet,
      sessions,
      rollups,
      members,
      alerts,
      deadLetters,
      statusHours: new TreadmillStatusRepo(doc, tables.rollups),
      alertConfigs: new GymAlertConfigs(alerts, options.alertConfig),
    }),
    fleet,
    sessions,
    rollups,
    alerts,
    deadLetters,
    ...(transport && { notify: () => deliverPending({ repo: alerts, transport }) }),
  };
}

/** What ingest and the sweeper are configured by: the tables, and where their alert transitions go at once. */
export const PROCESSING_ENV = envSchema({ ...TABLE_ENV, ...ALERT_ENV });

/** The processing of the Lambda's environment (the SDK reads AWS_REGION and AWS_ENDPOINT_URL_* itself). */
export const processingFromEnv = (env: EnvOf<typeof PROCESSING_ENV>): Processing =>
  createProcessing(dynamoDocumentClient(), env.TABLE_PREFIX, { transportEnv: env });
