/**
 * The whole cloud side of Retrostride in one stack (docs/architecture.md section 1), composed from one construct per
 * capability (infra/constructs/). Every setting comes from the deployment config (infra/config.ts).
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { EXPORT_ROUTES } from '../functions/api/export-routes.js';
import { ROUTES } from '../functions/api/routes.js';
import { type DeployConfig, tablePrefixOf } from './config.js';
import { AccessLogs } from './constructs/access-logs.js';
import { Alerts } from './constructs/alerts.js';
import { DashboardSite } from './constructs/dashboard-site.js';
import { DataTables } from './constructs/data-tables.js';
import { EdgeFirewall } from './constructs/edge-firewall.js';
import { EncryptionKeys } from './constructs/encryption-keys.js';
import { FailureQueue } from './constructs/failure-queue.js';
import { GatewayIdentity } from './constructs/gateway-identity.js';
import { Ingest } from './constructs/ingest.js';
import { Monitoring } from './constructs/monitoring.js';
import { DASHBOARD_SCOPES, OperatorAuth } from './constructs/operator-auth.js';
import { OperatorApi } from './constructs/operator-api.js';
import { ProgressEmail, UnsubscribeSecret } from './constructs/progress-email.js';
import { ResearchExports } from './constructs/research-exports.js';
import { Sweeper } from './constructs/sweeper.js';
import { TelemetryStream } from './constructs/telemetry-stream.js';

export interface RetrostrideStackProps extends StackProps {
  readonly config: DeployConfig;
}

export const stackNameOf = (config: Pick<DeployConfig, 'stage'>): string => `Retrostride-${config.stage}`;

export class RetrostrideStack extends Stack {
  readonly config: DeployConfig;
  readonly keys: EncryptionKeys;
  readonly stream: TelemetryStream;
  readonly tables: DataTables;
  readonly ingestFailures: FailureQueue;
  readonly scheduledFailures: FailureQueue;
  readonly alerts: Alerts;
  readonly ingest: Ingest;
  readonly sweeper: Sweeper;
  readonly auth: OperatorAuth;
  readonly api: OperatorApi;
  readonly dashboard: DashboardSite;
  readonly firewall: EdgeFirewall;
  readonly exports: ResearchExports;
  readonly progressEmail: ProgressEmail;
  readonly unsubscribe: UnsubscribeSecret;
  readonly gateway: GatewayIdentity;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: RetrostrideStackProps) {
    super(scope, id, {
      description: `Retrostride telemetry pipeline (${props.config.stage})`,
      terminationProtection: props.config.retainData,
      ...props,
    });
    const { config } = props;
    this.config = config;
    const retained = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = config.logRetentionDays as RetentionDays;

    this.keys = new EncryptionKeys(this, 'Keys', { stage: config.stage, removalPolicy: retained });
    const accessLogs = new AccessLogs(this, 'AccessLogs', {
      retentionDays: config.logRetentionDays,
      removalPolicy: retained,
    });
    this.stream = new TelemetryStream(this, 'Telemetry', {
      config,
      key: this.keys.stream,
      removalPolicy: retained,
    });
    this.tables = new DataTables(this, 'Tables', {
      prefix: tablePrefixOf(config),
      dataKey: this.keys.data,
      membersKey: this.keys.members,
      removalPolicy: retained,
      deletionProtection: config.retainData,
    });
    const failureQueue = (queueId: string) =>
      new FailureQueue(this, queueId, { key: this.keys.data, removalPolicy: RemovalPolicy.DESTROY });
    this.ingestFailures = failureQueue('IngestFailures');
    this.scheduledFailures = failureQueue('ScheduledFailures');
    const common = { logKey: this.keys.data, logRetention };

    this.alerts = new Alerts(this, 'Alerts', {
      config,
      tables: this.tables,
      key: this.keys.data,
      logRetention,
      scheduledFailures: this.scheduledFailures,
    });
    this.ingest = new Ingest(this, 'Ingest', {
      config,
      stream: this.stream,
      tables: this.tables,
      alerts: this.alerts,
      failures: this.ingestFailures,
      ...common,
    });
    this.sweeper = new Sweeper(this, 'Sweeper', {
      tables: this.tables,
      alerts: this.alerts,
      scheduledFailures: this.scheduledFailures,
      ...common,
    });

    this.auth = new OperatorAuth(this, 'Auth', {
      stage: config.stage,
      removalPolicy: retained,
      deletionProtection: config.retainData,
    });
    this.unsubscribe = new UnsubscribeSecret(this, 'Unsubscribe', {
      key: this.keys.data,
      removalPolicy: retained,
    });
    this.api = new OperatorApi(this, 'Api', {
      tables: this.tables,
      environment: this.unsubscribe.environment,
      ...common,
    });
    this.unsubscribe.grantRead(this.api.function);
    this.exports = new ResearchExports(this, 'Exports', {
      tables: this.tables,
      key: this.keys.data,
      retentionDays: config.exportRetentionDays,
      accessLogs: accessLogs.bucket,
      removalPolicy: retained,
      logRetention,
    });
    this.firewall = new EdgeFirewall(this, 'Edge', {
      publicRoutes: ROUTES.filter((route) => route.access === 'public'),
    });
    this.dashboard = new DashboardSite(this, 'Dashboard', {
      apiOriginDomain: this.api.originDomain,
      accessLogs: accessLogs.bucket,
      removalPolicy: retained,
      connectSources: [this.auth.domain.baseUrl()],
      webAclId: this.firewall.distributionWebAclId,
    });
    const dashboardClient = this.auth.addDashboardClient(this.dashboard.url);
    this.api.authorizeWith(this.auth.userPool, dashboardClient);
    this.api.route('Export', this.exports.function.fn, EXPORT_ROUTES);
    this.dashboard.deploy(
      DashboardSite.config(
        this.auth.domain.baseUrl(),
        dashboardClient.userPoolClientId,
        DASHBOARD_SCOPES.map((scope) => scope.scopeName),
      ),
    );
    this.progressEmail = new ProgressEmail(this, 'ProgressEmail', {
      config,
      tables: this.tables,
      unsubscribe: this.unsubscribe,
      publicBaseUrl: this.dashboard.url,
      scheduledFailures: this.scheduledFailures,
      ...common,
    });
    this.gateway = new GatewayIdentity(this, 'Gateway', { config, stream: this.stream });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      stage: config.stage,
      alarmEmail: config.alarmEmail,
      key: this.keys.data,
      stream: this.stream,
      ingest: this.ingest.function,
      ingestFailures: this.ingestFailures,
      scheduledFailures: this.scheduledFailures,
      functions: [
        this.ingest.function,
        this.sweeper.function,
        this.alerts.notifier,
        this.api.function,
        this.exports.function,
        this.progressEmail.function,
      ],
      tables: this.tables,
      httpApi: this.api.httpApi,
    });

    this.outputs({
      Region: [this.region, 'Region of the stream (the gateway config kinesis.region)'],
      StreamName: [this.stream.stream.streamName, 'Telemetry stream (the gateway config kinesis.streamName)'],
      GatewayRoleArn: [this.gateway.role.roleArn, "Role a gym's gateway assumes to put records"],
      DashboardUrl: [this.dashboard.url, 'The fleet dashboard'],
      ApiUrl: [
        this.api.httpApi.apiEndpoint,
        'The HTTP API (the dashboard reaches it at /api on its own origin)',
      ],
      UserPoolId: [this.auth.userPool.userPoolId, 'Cognito user pool: invite operators and researchers here'],
      DashboardClientId: [dashboardClient.userPoolClientId, "The dashboard's app client"],
      SignInUrl: [this.auth.domain.baseUrl(), 'Cognito hosted sign-in'],
      TablePrefix: [this.tables.prefix, 'DynamoDB table name prefix (TABLE_PREFIX)'],
      AlertTopicArn: [this.alerts.topic.topicArn, 'Alert notifications (filter by the gymId attribute)'],
      AlarmTopicArn: [this.monitoring.alarmTopic.topicArn, 'Pipeline alarms'],
      IngestFailureQueueUrl: [this.ingestFailures.queue.queueUrl, 'Stream batches ingest gave up on'],
      ExportBucketName: [this.exports.bucket.bucketName, 'Research exports'],
      AccessLogBucketName: [
        accessLogs.bucket.bucketName,
        'S3 server access logs (empty it before destroying)',
      ],
    });
  }

  private outputs(outputs: Record<string, [value: string, description: string]>): void {
    for (const [id, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, id, { value, description });
    }
  }
}
