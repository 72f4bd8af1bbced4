/**
 * Deployment settings per environment, from CDK context: `cdk.json` holds the defaults (`retrostride.defaults`)
 * and each stage's differences (`retrostride.stages.<stage>`); `-c key=value` on the command line wins over
 * both, e.g. `npx cdk deploy -c stage=prod -c alarmEmail=ops@example.com`.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import * as z from 'zod';
import { replayWindowProblem } from './stream-retention.js';

/** `-c` values arrive as text: numbers, booleans and lists are read from it. */
const fromText = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    const text = value.trim();
    if (text === '') return undefined;
    if (/^(-?\d+(\.\d+)?|true|false)$/.test(text) || /^[[{]/.test(text)) return JSON.parse(text) as unknown;
    return text;
  }, schema);

const RETENTION_DAYS = new Set<number>(
  Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'),
);

const alertSubscriptionSchema = z
  .object({
    email: z.email(),
    /** Only these gyms' alerts (an SNS filter policy on the gymId message attribute). */
    gymIds: z.array(z.string().min(1)).min(1),
  })
  .strict();

export const deployConfigSchema = z
  .object({
    /** Names the stack (`Retrostride-<stage>`) and prefixes every table (`retrostride-<stage>-fleet`). */
    stage: z.string().regex(/^[a-z][a-z0-9-]{0,19}$/, 'lowercase letters, digits and hyphens, at most 20'),
    /**
     * How long the stream keeps records: how long ingest may be down before data is lost. At least ingest's
     * maximum record age plus a replay window (stream-retention.ts), so what it gives up on can be replayed.
     */
    streamRetentionHours: fromText(
      z
        .number()
        .int()
        .max(8760)
        .superRefine((hours, context) => {
          const problem = replayWindowProblem(hours);
          if (problem) context.addIssue({ code: 'custom', message: problem });
        }),
    ),
    logRetentionDays: fromText(
      z
        .number()
        .int()
        .refine(
          (days) => RETENTION_DAYS.has(days),
          'one of CloudWatch Logs retention periods (1, 3, 5, 7, 14, 30, 60, 90, ...)',
        ),
    ),
    /** Where alarms go (an SNS email subscription to confirm); none when empty. */
    alarmEmail: fromText(z.email().optional()),
    shardMode: fromText(z.enum(['on-demand', 'provisioned'])),
    /** Shards of a provisioned stream (1 MB/s or 1,000 records/s of writes each). */
    shardCount: fromText(z.number().int().min(1).max(500)),
    /** Lambda's batching window: longer means fewer, larger ingest batches (fewer writes) but later dashboards. */
    batchingWindowSeconds: fromText(z.number().int().min(0).max(300)),
    /** Who may assume the gateway role (an IAM user, role or account ARN); the account itself when empty. */
    gatewayPrincipalArn: fromText(
      z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:[^\s]+$/)
        .optional(),
    ),
    /** An external id the gateway must present when it assumes the role; none when empty. */
    gatewayExternalId: fromText(z.string().min(2).max(1224).optional()),
    /** Alert webhook beside SNS (ALERT_WEBHOOK_URL); none when empty. */
    alertWebhookUrl: fromText(z.url({ protocol: /^https$/ }).optional()),
    /** Email subscriptions to the alerts topic, each limited to some gyms. */
    alertSubscriptions: fromText(z.array(alertSubscriptionSchema)),
    /** The SES identity (a verified domain or address) progress emails are sent from; nothing else may be. */
    sesIdentity: fromText(z.string().min(3)),
    /** The From address of progress emails: the identity itself or an address of its domain. */
    emailFrom: fromText(z.email()),
    /** An SES configuration set for progress emails (event publishing, dedicated IPs); none when empty. */
    sesConfigurationSet: fromText(
      z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/)
        .optional(),
    ),
    /** When the weekly progress email runs (EventBridge Scheduler expression and time zone). */
    progressEmailSchedule: fromText(z.string().regex(/^(cron|rate)\(.+\)$/)),
    progressEmailTimezone: fromText(z.string().min(1)),
    /** Days research exports stay in the export bucket (their presigned links expire much sooner). */
    exportRetentionDays: fromText(z.number().int().min(1).max(365)),
    /** Keep tables, keys, buckets and the user pool when the stack is deleted (production data). */
    retainData: fromText(z.boolean()),
  })
  .strict()
  .refine(
    (config) =>
      config.emailFrom.endsWith(`@${config.sesIdentity}`) || config.emailFrom === config.sesIdentity,
    {
      message: 'emailFrom must be the SES identity or an address of its domain',
      path: ['emailFrom'],
    },
  );

export type DeployConfig = z.infer<typeof deployConfigSchema>;

export class ConfigError extends Error {}

const CONTEXT_ROOT = 'retrostride';

/**
 * The settings for the stage named by `-c stage=...` (cdk.json's `stage` by default): defaults, then the
 * stage's own values, then any `-c` override of a single key.
 */
export function deployConfigFrom(node: Node): DeployConfig {
  const root = (node.tryGetContext(CONTEXT_ROOT) ?? {}) as {
    defaults?: Record<string, unknown>;
    stages?: Record<string, Record<string, unknown>>;
  };
  const stage = String(node.tryGetContext('stage') ?? 'dev');
  const merged: Record<string, unknown> = { ...root.defaults, ...root.stages?.[stage], stage };
  for (const key of Object.keys(deployConfigSchema.shape)) {
    const override: unknown = node.tryGetContext(key);
    if (override !== undefined && key !== 'stage') merged[key] = override;
  }
  const result = deployConfigSchema.safeParse(merged);
  if (!result.success) {
    const reasons = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`,
    );
    throw new ConfigError(`invalid deployment context for stage "${stage}": ${reasons.join('; ')}`);
  }
  return result.data;
}

/** Physical table names are `<prefix>-<table>`; handlers get the prefix as TABLE_PREFIX. */
export const tablePrefixOf = (config: Pick<DeployConfig, 'stage'>): string => `retrostride-${config.stage}`;
