/**
 * Members' weekly progress email (functions/progress-email) on a weekly schedule, sending through SES v2 from
 * the configured identity and From address only; and the secret that signs the one-click unsubscribe links,
 * which the API checks (RFC 8058: a POST without login, the signed token naming the member).
 *
 * Handlers are configured by environment variables only, so the secret reaches both functions as one,
 * resolved by CloudFormation at deploy time (it is generated there and never leaves AWS).
 */
import { Aws, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config.js';
import { acknowledge } from '../nag.js';
import type { DataTables, TableAccess } from './data-tables.js';
import type { FailureQueue } from './failure-queue.js';
import { ScheduledInvocation } from './schedule.js';
import { ServiceFunction } from './service-function.js';

/**
 * Consenting members with an address (a scan of the members table), their week rollups, and the per-member
 * per-week sent markers (rollups table: claimed, marked sent, released on failure).
 */
export const PROGRESS_EMAIL_ACCESS = {
  members: ['Scan'],
  rollups: ['Query', 'PutItem', 'UpdateItem', 'DeleteItem'],
} as const satisfies TableAccess;

export const SES_SEND_ACTIONS = ['ses:SendEmail', 'ses:SendRawEmail'];

export class UnsubscribeSecret extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: { key: IKey; removalPolicy: RemovalPolicy }) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      description: 'Retrostride: signs the unsubscribe links of progress emails',
      encryptionKey: props.key,
      // 64 characters: well over the 32 bytes functions/lib/unsubscribe-tokens.ts requires.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: props.removalPolicy,
    });
    acknowledge(
      this.secret,
      'Rotating the signing secret would break the unsubscribe link of every email already sent; it is replaced deliberately, by redeploying.',
      'AwsSolutions-SMG4',
    );
  }

  /** The environment variable the API and the progress email read (UNSUBSCRIBE_SECRET). */
  get environment(): Record<string, string> {
    return { UNSUBSCRIBE_SECRET: this.secret.secretValue.unsafeUnwrap() };
  }
}

export interface ProgressEmailProps {
  readonly config: Pick<
    DeployConfig,
    'sesIdentity' | 'emailFrom' | 'progressEmailSchedule' | 'progressEmailTimezone' | 'sesConfigurationSet'
  >;
  readonly tables: DataTables;
  readonly unsubscribe: UnsubscribeSecret;
  /** The https origin of the dashboard and /api, for the links in the email. */
  readonly publicBaseUrl: string;
  readonly scheduledFailures: FailureQueue;
  readonly logKey: IKey;
  readonly logRetention: RetentionDays;
}

export class ProgressEmail extends Construct {
  readonly function: ServiceFunction;
  readonly schedule: ScheduledInvocation;

  constructor(scope: Construct, id: string, props: ProgressEmailProps) {
    super(scope, id);
    const { config } = props;
    this.function = new ServiceFunction(this, 'ProgressEmail', {
      name: 'progress-email',
      description: "Members' weekly progress email through SES; weekly",
      environment: {
        TABLE_PREFIX: props.tables.prefix,
        EMAIL_FROM: config.emailFrom,
        PUBLIC_BASE_URL: props.publicBaseUrl,
        ...props.unsubscribe.environment,
        ...(config.sesConfigurationSet && { SES_CONFIGURATION_SET: config.sesConfigurationSet }),
      },
      memorySize: 512,
      timeout: Duration.minutes(15),
      logRetention: props.logRetention,
      logKey: props.logKey,
      // A member gets each week's email once (a conditional marker), so retries are safe.
      invocation: {
        kind: 'asynchronous',
        onFailure: props.scheduledFailures,
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
      },
    });
    props.tables.grant(this.function.role, PROGRESS_EMAIL_ACCESS);
    const ses = (resource: string) => `arn:${Aws.PARTITION}:ses:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    this.function.allow(
      new PolicyStatement({
        actions: SES_SEND_ACTIONS,
        resources: [
          ses(`identity/${config.sesIdentity}`),
          ...(config.sesConfigurationSet ? [ses(`configuration-set/${config.sesConfigurationSet}`)] : []),
        ],
        conditions: { StringEquals: { 'ses:FromAddress': config.emailFrom } },
      }),
    );
    this.schedule = new ScheduledInvocation(this, 'Weekly', {
      target: this.function.fn,
      description: 'Retrostride progress emails, weekly',
      expression: config.progressEmailSchedule,
      timezone: config.progressEmailTimezone,
      retryAttempts: 3,
      maxEventAge: Duration.hours(6),
    });
  }
}
