import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FanOutTransport,
  FileOutboxTransport,
  SnsTransport,
  transportFromEnv,
  WebhookTransport,
} from '../../functions/lib/alert-transports.js';
import type { AlertTransition } from '../../shared/src/alerts/index.js';
import { T0 } from '../support/events.js';

const transition: AlertTransition = {
  alertId: `gym-a:tm-01:backward_overspeed:${T0}`,
  version: 2,
  change: 'acknowledged',
  gymId: 'gym-a',
  treadmillId: 'tm-01',
  kind: 'backward_overspeed',
  severity: 'warning',
  status: 'acknowledged',
  message: 'Backward walking at 4.2 km/h, over the cap of 3.5 km/h',
  count: 4,
  firstSeenTs: T0,
  lastSeenTs: T0 + 3000,
  updatedTs: T0 + 60_000,
  by: 'op-ann',
  sessionId: 's-1',
  detail: { speedKmh: 4.2, capKmh: 3.5 },
};

describe('SNS transport', () => {
  const sns = mockClient(SNSClient);
  afterEach(() => sns.reset());

  it('publishes the transition as JSON with attributes for subscription filter policies', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    await new SnsTransport(new SNSClient({}), 'arn:aws:sns:eu-central-1:123456789012:alerts').deliver(
      transition,
    );
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.TopicArn).toBe('arn:aws:sns:eu-central-1:123456789012:alerts');
    expect(JSON.parse(input?.Message ?? '')).toEqual(transition);
    expect(input?.MessageAttributes).toEqual({
      gymId: { DataType: 'String', StringValue: 'gym-a' },
      kind: { DataType: 'String', StringValue: 'backward_overspeed' },
      severity: { DataType: 'String', StringValue: 'warning' },
      status: { DataType: 'String', StringValue: 'acknowledged' },
    });
    expect(input?.Subject).toBe('[warning] backward_overspeed acknowledged on gym-a/tm-01');
    expect(input).not.toHaveProperty('MessageDeduplicationId');
  });

  it('lets a FIFO topic drop repeats by alertId and version, with short ids even for long names', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const transport = new SnsTransport(
      new SNSClient({}),
      'arn:aws:sns:eu-central-1:123456789012:alerts.fifo',
    );
    const long = { ...transition, gymId: 'g'.repeat(64), treadmillId: 't'.repeat(64) };
    await transport.deliver(long);
    await transport.deliver(long);
    await transport.deliver({ ...long, version: 3 });
    const ids = sns.commandCalls(PublishCommand).map((c) => c.args[0].input.MessageDeduplicationId ?? '');
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(ids.every((id) => id.length > 0 && id.length <= 128)).toBe(true);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Subject?.length).toBeLessThanOrEqual(100);
  });

  it('fails the delivery when SNS refuses it', async () => {
    sns.on(PublishCommand).rejects(new Error('AuthorizationError'));
    await expect(
      new SnsTransport(new SNSClient({}), 'arn:aws:sns:x:1:t').deliver(transition),
    ).rejects.toThrow('AuthorizationError');
  });
});

describe('transport from the environment', () => {
  it('picks SNS, webhook or file by the variables set, and all of them when several are', () => {
    expect(transportFromEnv({})).toBeUndefined();
    expect(transportFromEnv({ ALERT_TOPIC_ARN: 'arn:aws:sns:x:1:t' })).toBeInstanceOf(SnsTransport);
    expect(transportFromEnv({ ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/a' })).toBeInstanceOf(WebhookTransport);
    expect(transportFromEnv({ ALERT_OUTBOX_FILE: '/tmp/x.jsonl' })).toBeInstanceOf(FileOutboxTransport);
    const both = transportFromEnv({
      ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/a',
      ALERT_OUTBOX_FILE: '/tmp/x.jsonl',
    });
    expect(both).toBeInstanceOf(FanOutTransport);
    expect(both?.name).toBe('webhook+file');
  });

  it('rejects a webhook timeout that is not a positive number', () => {
    expect(() =>
      transportFromEnv({ ALERT_WEBHOOK_URL: 'http://h/a', ALERT_WEBHOOK_TIMEOUT_MS: 'soon' }),
    ).toThrow(/ALERT_WEBHOOK_TIMEOUT_MS/);
  });

  it('fails a fan-out when one destination fails, after trying all of them', async () => {
    const reached: string[] = [];
    const ok = { name: 'ok', deliver: async () => void reached.push('ok') };
    const down = { name: 'down', deliver: () => Promise.reject(new Error('down')) };
    await expect(new FanOutTransport([down, ok]).deliver(transition)).rejects.toThrow(/1 alert transport/);
    expect(reached).toEqual(['ok']);
  });
});
