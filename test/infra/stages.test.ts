/**
 * Context per environment: the prod stage's values from cdk.json, and `-c` overrides (which arrive as text)
 * winning over both; invalid context is refused with a message naming the key.
 */
import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigError, deployConfigFrom } from '../../infra/config.js';
import { buildStack, cdkJsonContext, logicalId, roleStatements } from './support.js';

const { stack, template } = buildStack({
  stage: 'prod',
  batchingWindowSeconds: '12',
  shardCount: '3',
  alarmEmail: 'ops@example.com',
  alertSubscriptions: '[{"email":"front-desk@gym-a.example","gymIds":["gym-a","gym-b"]}]',
  alertWebhookUrl: 'https://hooks.example.com/retrostride',
  gatewayPrincipalArn: 'arn:aws:iam::123456789012:role/gym-gateway',
  gatewayExternalId: 'gym-a-4c1f',
  sesConfigurationSet: 'progress-emails',
});

const configFor = (context: Record<string, unknown>) =>
  deployConfigFrom(new App({ context: { ...cdkJsonContext(), ...context } }).node);

describe('the prod stage with overrides', () => {
  it('names the stack and the tables after the stage, and protects them', () => {
    expect(stack.stackName).toBe('Retrostride-prod');
    expect(stack.terminationProtection).toBe(true);
    template.allResourcesProperties('AWS::DynamoDB::Table', {
      TableName: Match.stringLikeRegexp('^retrostride-prod-'),
      DeletionProtectionEnabled: true,
    });
    for (const [, table] of Object.entries(template.findResources('AWS::DynamoDB::Table')))
      expect(table.DeletionPolicy).toBe('Retain');
  });

  it('provisions the stream with the overridden shard count and the stage retention', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      ShardCount: 3,
      RetentionPeriodHours: 168,
    });
  });

  it('batches ingest over the overridden window and keeps logs a year', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumBatchingWindowInSeconds: 12 });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it('subscribes the alarm email, and the alert email filtered to its gyms', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: logicalId(stack, stack.monitoring.alarmTopic) },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'front-desk@gym-a.example',
      TopicArn: { Ref: logicalId(stack, stack.alerts.topic) },
      FilterPolicy: { gymId: ['gym-a', 'gym-b'] },
    });
  });

  it('delivers alerts to the webhook as well', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ ALERT_WEBHOOK_URL: 'https://hooks.example.com/retrostride' }),
      },
    });
  });

  it('sends progress emails through the configured SES configuration set, and may use only it', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SES_CONFIGURATION_SET: 'progress-emails' }) },
    });
    const statement = roleStatements(template, logicalId(stack, stack.progressEmail.function.role)).find(
      (candidate) => JSON.stringify(candidate.Action).includes('ses:SendEmail'),
    );
    const resources = (statement?.Resource as Array<{ 'Fn::Join': [string, unknown[]] }>).map((arn) =>
      arn['Fn::Join'][1].at(-1),
    );
    expect(resources.sort()).toEqual([':configuration-set/progress-emails', ':identity/example.com']);
  });

  it('lets only the configured principal assume the gateway role, with the external id', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::123456789012:role/gym-gateway' },
            Condition: { StringEquals: { 'sts:ExternalId': 'gym-a-4c1f' } },
          },
        ],
      },
    });
  });
});

describe('deployment config', () => {
  it('takes the defaults for dev, the stage values for prod, and -c values over both', () => {
    expect(configFor({})).toMatchObject({ stage: 'dev', shardMode: 'on-demand', retainData: false });
    expect(configFor({ stage: 'prod' })).toMatchObject({
      shardMode: 'provisioned',
      shardCount: 2,
      retainData: true,
    });
    expect(configFor({ stage: 'prod', shardMode: 'on-demand', retainData: 'false' })).toMatchObject({
      shardMode: 'on-demand',
      retainData: false,
    });
  });

  it('treats an empty -c value as unset', () => {
    expect(configFor({ alarmEmail: '' }).alarmEmail).toBeUndefined();
  });

  it.each([
    [{ batchingWindowSeconds: '301' }, /batchingWindowSeconds: .*300/],
    [{ shardMode: 'fast' }, /shardMode/],
    [{ logRetentionDays: '45' }, /logRetentionDays: one of CloudWatch Logs retention periods/],
    [{ stage: 'Prod_1' }, /stage: lowercase letters/],
    [{ emailFrom: 'someone@elsewhere.example' }, /emailFrom must be the SES identity/],
    [{ alertSubscriptions: '[{"email":"x@y.example"}]' }, /alertSubscriptions\.0\.gymIds/],
  ])('refuses %o, naming the key', (context, message) => {
    expect(() => configFor(context)).toThrow(ConfigError);
    expect(() => configFor(context)).toThrow(message);
  });

  it('refuses a stream retention that leaves no replay window after ingest gives up on a record', () => {
    // Ingest gives up on records older than 24 h; the stream must hold them a day longer, to replay them from it.
    expect(() => configFor({ streamRetentionHours: '24' })).toThrow(ConfigError);
    expect(() => configFor({ streamRetentionHours: '47' })).toThrow(
      /streamRetentionHours: must be at least 48 h: ingest's maximum record age \(24 h\) plus a 24 h replay window/,
    );
    expect(configFor({ streamRetentionHours: '48' }).streamRetentionHours).toBe(48);
    expect(configFor({ stage: 'prod' }).streamRetentionHours).toBe(168);
  });

  it('refuses an unknown key in cdk.json (a typo would otherwise be ignored)', () => {
    const context = cdkJsonContext() as { retrostride: { defaults: Record<string, unknown> } };
    const withTypo = { ...context.retrostride, defaults: { ...context.retrostride.defaults, shardCuont: 2 } };
    expect(() => deployConfigFrom(new App({ context: { ...context, retrostride: withTypo } }).node)).toThrow(
      /shardCuont/,
    );
  });
});
