/**
 * Where the notifier delivers alert transitions: an SNS topic (AWS), a webhook, or a JSONL outbox file (local
 * stack). Delivery is at least once; every message carries alertId and version so a receiver can drop repeats.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { AlertTransition } from '../../shared/src/alerts/index.js';

export interface AlertTransport {
  readonly name: string;
  /** Resolves once the receiver has the message; throws when it may not have. */
  deliver(transition: AlertTransition): Promise<void>;
}

/** What a receiver dedupes by. */
export const deliveryId = (transition: AlertTransition): string =>
  `${transition.alertId}#${transition.version}`;

// SNS subjects are ASCII only and at most 100 characters; the message itself carries the details.
const SNS_SUBJECT_MAX = 100;

export class SnsTransport implements AlertTransport {
  readonly name = 'sns';
  private readonly fifo: boolean;

  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {
    this.fifo = topicArn.endsWith('.fifo');
  }

  async deliver(transition: AlertTransition): Promise<void> {
    const { gymId, treadmillId, kind, severity, status, change } = transition;
    const text = (value: string) => ({ DataType: 'String', StringValue: value });
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: `[${severity}] ${kind} ${change} on ${gymId}/${treadmillId}`.slice(0, SNS_SUBJECT_MAX),
        Message: JSON.stringify(transition),
        // For subscription filter policies (e.g. only critical alerts of one gym to its on-call phone).
        MessageAttributes: {
          gymId: text(gymId),
          kind: text(kind),
          severity: text(severity),
          status: text(status),
        },
        // A FIFO topic drops a repeat within its 5-minute window by itself; one alert's messages stay in order.
        ...(this.fifo
          ? {
              MessageGroupId: `${gymId}/${treadmillId}/${kind}`,
              // At most 128 characters: long gym and treadmill ids would not fit as they are.
              MessageDeduplicationId: createHash('sha256').update(deliveryId(transition)).digest('hex'),
            }
          : {}),
      }),
    );
  }
}

export interface WebhookOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class WebhookTransport implements AlertTransport {
  readonly name = 'webhook';
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(
    private readonly url: string,
    options: WebhookOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.fetch = options.fetch ?? fetch;
  }

  async deliver(transition: AlertTransition): Promise<void> {
    const response = await this.fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': deliveryId(transition) },
      body: JSON.stringify(transition),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    // Read the body either way: it frees the connection for reuse.
    const body = await response.text();
    if (!response.ok) {
      throw new Error(`webhook ${this.url} answered ${response.status}: ${body.slice(0, 200)}`);
    }
  }
}

export class FileOutboxTransport implements AlertTransport {
  readonly name = 'file';
  private ready: Promise<unknown> | undefined;

  constructor(private readonly path: string) {}

  async deliver(transition: AlertTransition): Promise<void> {
    this.ready ??= mkdir(dirname(this.path), { recursive: true });
    await this.ready;
    await appendFile(this.path, `${JSON.stringify(transition)}\n`, 'utf8');
  }
}

/** Delivers to every transport; fails if any fails (the retry then repeats the others too: receivers dedupe). */
export class FanOutTransport implements AlertTransport {
  readonly name: string;

  constructor(private readonly transports: readonly AlertTransport[]) {
    this.name = transports.map((t) => t.name).join('+');
  }

  async deliver(transition: AlertTransition): Promise<void> {
    const results = await Promise.allSettled(this.transports.map((t) => t.deliver(transition)));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    if (failures.length > 0)
      throw new AggregateError(failures, `${failures.length} alert transport(s) failed`);
  }
}

export interface TransportEnv {
  ALERT_TOPIC_ARN?: string | undefined;
  ALERT_WEBHOOK_URL?: string | undefined;
  ALERT_OUTBOX_FILE?: string | undefined;
  ALERT_WEBHOOK_TIMEOUT_MS?: string | undefined;
}

/** The transports the environment configures (all of them, when several are set); undefined when none is. */
export function transportFromEnv(
  env: TransportEnv,
  sns: () => SNSClient = () => new SNSClient({}),
): AlertTransport | undefined {
  const transports: AlertTransport[] = [];
  if (env.ALERT_TOPIC_ARN) transports.push(new SnsTransport(sns(), env.ALERT_TOPIC_ARN));
  if (env.ALERT_WEBHOOK_URL) {
    const timeoutMs = env.ALERT_WEBHOOK_TIMEOUT_MS ? Number(env.ALERT_WEBHOOK_TIMEOUT_MS) : undefined;
    if (timeoutMs !== undefined && !(timeoutMs > 0)) {
      throw new Error(
        `ALERT_WEBHOOK_TIMEOUT_MS must be a positive number of milliseconds, got "${env.ALERT_WEBHOOK_TIMEOUT_MS}"`,
      );
    }
    transports.push(new WebhookTransport(env.ALERT_WEBHOOK_URL, timeoutMs ? { timeoutMs } : {}));
  }
  if (env.ALERT_OUTBOX_FILE) transports.push(new FileOutboxTransport(env.ALERT_OUTBOX_FILE));
  if (transports.length <= 1) return transports[0];
  return new FanOutTransport(transports);
}
