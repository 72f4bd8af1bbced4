/**
 * The stack as cdk.json configures it (stage dev): what is deployed and its key settings, read from the
 * synthesized template.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { dashboardConfigSchema, dashboardContentSecurityPolicy } from '../../functions/api/dashboard-site.js';
import { API_BASE_PATH } from '../../functions/api/router.js';
import { EXPORT_ROUTES } from '../../functions/api/export-routes.js';
import { ROUTES } from '../../functions/api/routes.js';
import { roleSchema } from '../../functions/api/identity.js';
import { DashboardSite } from '../../infra/constructs/dashboard-site.js';
import { createTableInput } from '../../scripts/local/provision.js';
import { TABLE_NAMES, TABLES } from '../../shared/src/tables.js';
import { buildStack, logicalId } from './support.js';

const { stack, template } = buildStack();
const resources = template.toJSON().Resources as Record<
  string,
  { Type: string; Properties: Record<string, unknown> }
>;
const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const getAtt = (construct: Parameters<typeof logicalId>[1]) => ({
  'Fn::GetAtt': [logicalId(stack, construct), 'Arn'],
});

describe('telemetry stream and ingest', () => {
  it('the stream is on-demand (cdk.json default), keeps 48 h, encrypted with its own key', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      RetentionPeriodHours: 48,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: getAtt(stack.keys.stream) },
    });
  });

  it('the stream keeps a record a replay window (a day) beyond the age at which ingest gives up on it', () => {
    const hours = ofType('AWS::Kinesis::Stream').map(([, stream]) =>
      Number(stream.Properties.RetentionPeriodHours),
    );
    const maxAgeS = ofType('AWS::Lambda::EventSourceMapping').map(([, mapping]) =>
      Number(mapping.Properties.MaximumRecordAgeInSeconds),
    );
    expect(hours).toHaveLength(1);
    expect(maxAgeS).toHaveLength(1);
    expect(hours[0]! * 3600 - maxAgeS[0]!).toBeGreaterThanOrEqual(24 * 3600);
  });

  it('the event source mapping reports item failures, bisects, retries a bounded number of times, ages out', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(stack.stream.stream),
      FunctionName: { Ref: logicalId(stack, stack.ingest.function.fn) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 8,
      MaximumRecordAgeInSeconds: 24 * 3600,
      ParallelizationFactor: 1,
      MaximumBatchingWindowInSeconds: 5,
      StartingPosition: 'TRIM_HORIZON',
      DestinationConfig: { OnFailure: { Destination: getAtt(stack.ingestFailures.queue) } },
    });
  });

  it("closes a shard's batch by the batching window, not by a batch size a busy shard fills at once", () => {
    // 1,000 treadmills a shard send 1,000 records/s: a batch of 100 would commit each treadmill per record,
    // five times the writes of one commit per 5-s window (docs/architecture.md section 5.1).
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 10_000 });
  });

  it('every function is Node 22 on arm64, with memory, timeout and its own log group set', () => {
    const functions = ofType('AWS::Lambda::Function').filter(
      ([id]) => !id.startsWith('CustomCDKBucketDeployment'),
    );
    expect(functions).toHaveLength(6);
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: expect.any(Number),
        Timeout: expect.any(Number),
        LoggingConfig: { LogGroup: expect.anything() },
      });
    }
  });

  it('handlers get their configuration from the environment: table prefix and alert topic', () => {
    const topic = { Ref: logicalId(stack, stack.alerts.topic) };
    for (const fn of [stack.ingest.function, stack.sweeper.function, stack.alerts.notifier]) {
      expect(resources[logicalId(stack, fn.fn)]?.Properties.Environment).toEqual({
        Variables: { TABLE_PREFIX: 'retrostride-dev', ALERT_TOPIC_ARN: topic },
      });
    }
    // The unsubscribe secret is never a value in a function's configuration (readable with
    // lambda:GetFunctionConfiguration): the functions get its ARN and read it from Secrets Manager.
    const secretArn = { Ref: logicalId(stack, stack.unsubscribe.secret) };
    expect(resources[logicalId(stack, stack.api.function.fn)]?.Properties.Environment).toEqual({
      Variables: { TABLE_PREFIX: 'retrostride-dev', UNSUBSCRIBE_SECRET_ARN: secretArn },
    });
    expect(resources[logicalId(stack, stack.exports.function.fn)]?.Properties.Environment).toEqual({
      Variables: {
        TABLE_PREFIX: 'retrostride-dev',
        EXPORT_BUCKET: { Ref: logicalId(stack, stack.exports.bucket) },
      },
    });
    expect(resources[logicalId(stack, stack.progressEmail.function.fn)]?.Properties.Environment).toEqual({
      Variables: {
        TABLE_PREFIX: 'retrostride-dev',
        EMAIL_FROM: 'progress@example.com',
        PUBLIC_BASE_URL: {
          'Fn::Join': [
            '',
            ['https://', { 'Fn::GetAtt': [logicalId(stack, stack.dashboard.distribution), 'DomainName'] }],
          ],
        },
        UNSUBSCRIBE_SECRET_ARN: secretArn,
      },
    });
  });

  it('no function has a secret value in its environment, the unsubscribe secret least of all', () => {
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const variables = (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      expect(Object.keys(variables ?? {}), id).not.toContain('UNSUBSCRIBE_SECRET');
      // Not under another name either: no dynamic reference resolves a secret into the configuration.
      expect(JSON.stringify(variables ?? {}), id).not.toContain('resolve:secretsmanager');
    }
  });

  it('scheduled functions send failed runs to the scheduled failure queue and are not retried', () => {
    for (const fn of [stack.sweeper.function, stack.alerts.notifier]) {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(stack, fn.fn) },
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: getAtt(stack.scheduledFailures.queue) } },
      });
    }
  });

  it('the weekly email runs on its schedule, retried (it sends each member one email a week at most)', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 7 ? * MON *)',
      ScheduleExpressionTimezone: 'UTC',
      Target: Match.objectLike({ Arn: getAtt(stack.progressEmail.function.fn) }),
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack, stack.progressEmail.function.fn) },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: getAtt(stack.scheduledFailures.queue) } },
    });
  });

  it('the sweeper and the notifier run every minute on EventBridge Scheduler', () => {
    for (const fn of [stack.sweeper.function, stack.alerts.notifier]) {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Target: Match.objectLike({
          Arn: getAtt(fn.fn),
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        }),
      });
    }
  });
});

describe('tables', () => {
  it.each(TABLE_NAMES)('%s is the shared definition, as the local stack creates it', (name) => {
    const input = createTableInput(TABLES[name], 'retrostride-dev');
    const props = resources[logicalId(stack, stack.tables.table(name))]?.Properties ?? {};
    expect(props.TableName).toBe(input.TableName);
    expect(props.BillingMode).toBe(input.BillingMode);
    expect(props.KeySchema).toEqual(input.KeySchema);
    expect(props.AttributeDefinitions).toEqual(expect.arrayContaining(input.AttributeDefinitions ?? []));
    expect(props.AttributeDefinitions).toHaveLength(input.AttributeDefinitions?.length ?? 0);
    expect(props.GlobalSecondaryIndexes).toEqual(input.GlobalSecondaryIndexes);
    expect(props.Tags).toEqual(input.Tags);
    const ttl = TABLES[name].ttlAttribute;
    expect(props.TimeToLiveSpecification).toEqual(ttl ? { AttributeName: ttl, Enabled: true } : undefined);
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('personal data is encrypted with its own key, everything else with the data key', () => {
    for (const name of TABLE_NAMES) {
      const key = TABLES[name].personalData ? stack.keys.members : stack.keys.data;
      expect(resources[logicalId(stack, stack.tables.table(name))]?.Properties.SSESpecification).toEqual({
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: getAtt(key),
      });
    }
  });

  it('dev data goes with the stack (no retention, no deletion protection)', () => {
    for (const [, table] of ofType('AWS::DynamoDB::Table'))
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });
});

describe('encryption everywhere', () => {
  it('queues and topics use the data key; log groups too', () => {
    const dataKey = getAtt(stack.keys.data);
    for (const [, queue] of ofType('AWS::SQS::Queue'))
      expect(queue.Properties.KmsMasterKeyId).toEqual(dataKey);
    for (const [, topic] of ofType('AWS::SNS::Topic'))
      expect(topic.Properties.KmsMasterKeyId).toEqual(dataKey);
    const logGroups = ofType('AWS::Logs::LogGroup');
    expect(logGroups.length).toBeGreaterThanOrEqual(5);
    for (const [, logGroup] of logGroups) {
      expect(logGroup.Properties.KmsKeyId).toEqual(dataKey);
      expect(logGroup.Properties.RetentionInDays).toBe(30);
    }
  });

  it('every bucket is encrypted, private and TLS-only; exports with the data key and a lifecycle', () => {
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets).toHaveLength(3);
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties.BucketEncryption).toBeDefined();
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
    expect(resources[logicalId(stack, stack.exports.bucket)]?.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: getAtt(stack.keys.data),
            },
          },
        ],
      },
      LifecycleConfiguration: {
        Rules: [expect.objectContaining({ ExpirationInDays: 7, Status: 'Enabled' })],
      },
      LoggingConfiguration: expect.objectContaining({ LogFilePrefix: 'exports/' }),
    });
  });

  it('queues and topics refuse requests without TLS', () => {
    for (const type of ['AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy']) {
      const policies = ofType(type);
      expect(policies.length).toBeGreaterThanOrEqual(2);
      for (const [, policy] of policies) {
        expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
      }
    }
  });

  it('keys rotate', () => {
    const keys = ofType('AWS::KMS::Key');
    expect(keys).toHaveLength(3);
    for (const [, key] of keys) expect(key.Properties.EnableKeyRotation).toBe(true);
  });
});

describe('alerts and alarms', () => {
  it('alarms cover iterator age, failure queues, ingest errors and throttles, and dead-letter growth', () => {
    const alarmTopic = { Ref: logicalId(stack, stack.monitoring.alarmTopic) };
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([alarmTopic]);
    const ingest = [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, stack.ingest.function.fn) } }];
    expect(alarms).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          MetricName: 'IteratorAge',
          Namespace: 'AWS/Lambda',
          Dimensions: ingest,
          Threshold: 300_000,
        }),
        expect.objectContaining({ MetricName: 'Errors', Dimensions: ingest }),
        expect.objectContaining({ MetricName: 'Throttles', Dimensions: ingest }),
        ...[stack.ingestFailures, stack.scheduledFailures].map((failures) =>
          expect.objectContaining({
            MetricName: 'ApproximateNumberOfMessagesVisible',
            Dimensions: [
              { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, failures.queue), 'QueueName'] } },
            ],
            Threshold: 0,
          }),
        ),
      ]),
    );
    const deadLetters = alarms.find((alarm) => Array.isArray(alarm.Metrics));
    const watched = (
      deadLetters?.Metrics as Array<{ MetricStat?: { Metric: Record<string, unknown> } }>
    ).flatMap((metric) => (metric.MetricStat ? [metric.MetricStat.Metric] : []));
    expect(watched).toEqual([
      {
        Namespace: 'Retrostride',
        MetricName: 'MalformedRecords',
        Dimensions: [{ Name: 'service', Value: 'ingest' }],
      },
      {
        Namespace: 'Retrostride',
        MetricName: 'MalformedEvents',
        Dimensions: [{ Name: 'service', Value: 'ingest' }],
      },
    ]);
    expect(alarms).toHaveLength(6);
  });

  it('no alarm email and no alert subscription unless configured', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('a dashboard shows the pipeline', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(ofType('AWS::CloudWatch::Dashboard')[0]?.[1].Properties.DashboardBody);
    for (const metric of [
      'IncomingRecords',
      'IteratorAge',
      'EventsApplied',
      'MalformedRecords',
      'ConsumedWriteCapacityUnits',
    ])
      expect(body).toContain(metric);
  });
});

describe('operators: sign-in, API and dashboard', () => {
  it('the user pool is invite-only, requires MFA and carries the gyms attribute; groups are the API roles', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      Schema: [Match.objectLike({ Name: 'gyms', AttributeDataType: 'String', Mutable: true })],
    });
    const groups = ofType('AWS::Cognito::UserPoolGroup').map(([, group]) => group.Properties.GroupName);
    expect(groups.sort()).toEqual([...roleSchema.options].sort());
  });

  it('the dashboard client is public, code grant only, returns to the site, and cannot write custom:gyms', () => {
    const [[, client] = []] = ofType('AWS::Cognito::UserPoolClient');
    const site = {
      'Fn::Join': [
        '',
        ['https://', { 'Fn::GetAtt': [logicalId(stack, stack.dashboard.distribution), 'DomainName'] }, '/'],
      ],
    };
    expect(client?.Properties).toMatchObject({
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      CallbackURLs: [site],
      LogoutURLs: [site],
    });
    expect(client?.Properties.WriteAttributes).toBeDefined();
    expect(client?.Properties.WriteAttributes).not.toContain('custom:gyms');
  });

  it('API routes need a Cognito JWT unless the handler marks them public; exports go to their own function', () => {
    const integrationOf = (fn: Parameters<typeof logicalId>[1]) =>
      ofType('AWS::ApiGatewayV2::Integration').find(([, integration]) =>
        JSON.stringify(integration.Properties.IntegrationUri).includes(logicalId(stack, fn)),
      )?.[0];
    const target = (fn: Parameters<typeof logicalId>[1]) => ({
      'Fn::Join': ['', ['integrations/', { Ref: integrationOf(fn) }]],
    });
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, route]) => [
      route.Properties.RouteKey,
      route.Properties.AuthorizationType,
      route.Properties.Target,
    ]);
    const api = target(stack.api.function.fn);
    const publicRoutes = ROUTES.filter((route) => route.access === 'public');
    expect(publicRoutes.length).toBeGreaterThanOrEqual(2);
    expect(routes).toEqual(
      expect.arrayContaining([
        [`GET ${API_BASE_PATH}/{proxy+}`, 'JWT', api],
        [`POST ${API_BASE_PATH}/{proxy+}`, 'JWT', api],
        ...publicRoutes.map((route) => [`${route.method} ${API_BASE_PATH}${route.path}`, 'NONE', api]),
        ...EXPORT_ROUTES.map((route) => [
          `${route.method} ${API_BASE_PATH}${route.path}`,
          'JWT',
          target(stack.exports.function.fn),
        ]),
      ]),
    );
    expect(routes).toHaveLength(2 + publicRoutes.length + EXPORT_ROUTES.length);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Audience: [{ Ref: ofType('AWS::Cognito::UserPoolClient')[0]?.[0] }] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { Format: Match.stringLikeRegexp('^\\{.*\\$context.requestId') },
    });
  });

  it('CloudFront serves the private bucket through origin access control and /api/* uncached from the API', () => {
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    const distribution = ofType('AWS::CloudFront::Distribution')[0]?.[1].Properties.DistributionConfig as {
      Origins: Array<Record<string, unknown>>;
      CacheBehaviors: Array<Record<string, unknown>>;
      DefaultCacheBehavior: Record<string, unknown>;
    };
    expect(distribution.Origins.find((origin) => origin.S3OriginConfig)?.OriginAccessControlId).toBeDefined();
    expect(distribution.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(distribution.CacheBehaviors).toEqual([
      expect.objectContaining({
        PathPattern: `${API_BASE_PATH}/*`,
        // Managed policies: CachingDisabled and AllViewerExceptHostHeader.
        CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
        OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
        ViewerProtocolPolicy: 'https-only',
      }),
    ]);
    const api = distribution.Origins.find((origin) => origin.CustomOriginConfig);
    expect(JSON.stringify(api?.DomainName)).toContain(logicalId(stack, stack.api.httpApi));
  });

  it('config.json is generated from the user pool domain and client, in the shape the dashboard reads', () => {
    const config = DashboardSite.config(
      'https://retrostride-dev-1.auth.eu-west-1.amazoncognito.com',
      'client-1',
      ['openid'],
    );
    expect(dashboardConfigSchema.parse(config)).toMatchObject({
      apiBaseUrl: API_BASE_PATH,
      auth: { mode: 'cognito' },
    });
    const deployments = ofType('Custom::CDKBucketDeployment').map(([, deployment]) =>
      JSON.stringify(deployment.Properties),
    );
    const withConfig = deployments.filter((deployment) => deployment.includes('SourceMarkers'));
    expect(withConfig).toHaveLength(1);
    expect(withConfig[0]).toContain(logicalId(stack, stack.auth.domain));
    expect(withConfig[0]).toContain(ofType('AWS::Cognito::UserPoolClient')[0]?.[0]);
  });
});

/** A template string value with its references spelled `<logicalId>` (Fn::Join and Fn::Sub flattened). */
function spelled(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as Record<string, unknown>;
  if (typeof object.Ref === 'string') return `<${object.Ref}>`;
  const join = object['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(spelled).join(join[0]);
  const getAtt = object['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return `<${getAtt.join('.')}>`;
  return JSON.stringify(value);
}

describe('the edge: limits per client and the pages’ policy', () => {
  const distribution = () =>
    ofType('AWS::CloudFront::Distribution')[0]?.[1].Properties.DistributionConfig as Record<
      string,
      unknown
    > & {
      DefaultCacheBehavior: Record<string, unknown>;
    };

  it('a CloudFront web ACL limits requests per client IP, public routes more strictly, blocking with 429', () => {
    const acls = ofType('AWS::WAFv2::WebACL');
    expect(acls).toHaveLength(1);
    const [, acl] = acls[0] ?? [];
    expect(acl?.Properties).toMatchObject({
      Scope: 'CLOUDFRONT',
      DefaultAction: { Allow: {} },
      VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true },
    });
    type Rule = {
      Name: string;
      Action: unknown;
      Statement: {
        RateBasedStatement: { Limit: number; AggregateKeyType: string; ScopeDownStatement?: unknown };
      };
    };
    const rules = acl?.Properties.Rules as Rule[];
    for (const rule of rules) {
      expect(rule.Statement.RateBasedStatement.AggregateKeyType, rule.Name).toBe('IP');
      expect(rule.Action, rule.Name).toEqual({ Block: { CustomResponse: { ResponseCode: 429 } } });
    }
    const site = rules.find((rule) => !rule.Statement.RateBasedStatement.ScopeDownStatement);
    const publicRoutes = rules.find((rule) => rule.Statement.RateBasedStatement.ScopeDownStatement);
    expect(site).toBeDefined();
    // The public routes (no token needed): each one named in the scope, with a lower limit than the site's.
    const scope = JSON.stringify(publicRoutes?.Statement.RateBasedStatement.ScopeDownStatement);
    for (const route of ROUTES.filter((candidate) => candidate.access === 'public'))
      expect(scope).toContain(`${API_BASE_PATH}${route.path}`);
    expect(publicRoutes?.Statement.RateBasedStatement.Limit).toBeLessThan(
      site?.Statement.RateBasedStatement.Limit ?? 0,
    );
  });

  it('the web ACL exists where CloudFront can use one (us-east-1), and the distribution uses it there', () => {
    const [[aclId, acl] = []] = ofType('AWS::WAFv2::WebACL');
    const condition = (acl as { Condition?: string } | undefined)?.Condition;
    expect(condition).toBeDefined();
    const conditions = template.toJSON().Conditions as Record<string, unknown>;
    expect(conditions[condition ?? '']).toEqual({ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] });
    expect(distribution().WebACLId).toEqual({
      'Fn::If': [condition, { 'Fn::GetAtt': [aclId, 'Arn'] }, { Ref: 'AWS::NoValue' }],
    });
  });

  it('public API routes have their own stricter throttle on the stage, below the API-wide one', () => {
    const [[, stage] = []] = ofType('AWS::ApiGatewayV2::Stage');
    const settings = stage?.Properties.RouteSettings as Record<
      string,
      { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }
    >;
    const publicKeys = ROUTES.filter((route) => route.access === 'public').map(
      (route) => `${route.method} ${API_BASE_PATH}${route.path}`,
    );
    expect(Object.keys(settings).sort()).toEqual(publicKeys.sort());
    for (const key of publicKeys) {
      expect(settings[key]?.ThrottlingRateLimit, key).toBeLessThan(50);
      expect(settings[key]?.ThrottlingBurstLimit, key).toBeLessThan(100);
    }
    // Route settings name routes that must exist before the stage is updated.
    const routeIds = ofType('AWS::ApiGatewayV2::Route')
      .filter(([, route]) => publicKeys.includes(route.Properties.RouteKey as string))
      .map(([id]) => id);
    const dependsOn = (template.toJSON().Resources as Record<string, { DependsOn?: string[] }>)[
      ofType('AWS::ApiGatewayV2::Stage')[0]?.[0] ?? ''
    ]?.DependsOn;
    expect(dependsOn).toEqual(expect.arrayContaining(routeIds));
  });

  it("the dashboard's pages carry its Content-Security-Policy: the local server's, plus Cognito to sign in", () => {
    const policies = ofType('AWS::CloudFront::ResponseHeadersPolicy');
    const defaultPolicy = distribution().DefaultCacheBehavior.ResponseHeadersPolicyId as { Ref: string };
    const [, policy] = policies.find(([id]) => id === defaultPolicy.Ref) ?? [];
    const config = policy?.Properties.ResponseHeadersPolicyConfig as {
      SecurityHeadersConfig: Record<string, Record<string, unknown>>;
    };
    const headers = config.SecurityHeadersConfig;
    // Cognito's hosted domain (its prefix is the domain resource's Ref): the token exchange fetches from it.
    const cognito = `https://<${logicalId(stack, stack.auth.domain)}>.auth.<AWS::Region>.amazoncognito.com`;
    expect(headers.ContentSecurityPolicy?.Override).toBe(true);
    expect(spelled(headers.ContentSecurityPolicy?.ContentSecurityPolicy)).toBe(
      dashboardContentSecurityPolicy({ connectSources: [cognito] }),
    );
    // The rest of the managed security headers stay.
    expect(headers).toMatchObject({
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      StrictTransportSecurity: { Override: true },
      ReferrerPolicy: { Override: true },
    });
  });
});

describe('gateway identity and outputs', () => {
  it("the gateway role is assumable by the account's principals when no principal is configured", () => {
    const role = resources[logicalId(stack, stack.gateway.role)]?.Properties;
    expect(JSON.stringify(role?.AssumeRolePolicyDocument)).toContain(':root');
  });

  it('outputs what connecting a gateway needs, and where the dashboard is', () => {
    const outputs = Object.keys(template.toJSON().Outputs as object);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'Region',
        'StreamName',
        'GatewayRoleArn',
        'DashboardUrl',
        'UserPoolId',
        'TablePrefix',
      ]),
    );
  });
});
