/**
 * Watching the pipeline: alarms to an (encrypted) operations topic, with an optional email subscription, and
 * a CloudWatch dashboard from the gateway's stream to the API.
 *
 * Alarms: the ingest consumer falling behind (iterator age), batches it gave up on (failure queue depth), its
 * errors and throttles, scheduled runs that failed, and dead-letter growth, read from the EMF metrics the
 * ingest handler emits (Powertools Metrics: namespace `Retrostride`, dimension `service`).
 */
import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import type { DataTables } from './data-tables.js';
import type { FailureQueue } from './failure-queue.js';
import type { ServiceFunction } from './service-function.js';
import type { TelemetryStream } from './telemetry-stream.js';
import { TABLE_NAMES } from '../../shared/src/tables.js';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';

/** What the ingest function emits (functions/lib/ingest-batch.ts; test/infra checks the handler against these names). */
export const INGEST_METRICS = {
  namespace: 'Retrostride',
  service: 'ingest',
  /** Records and single events the handler wrote to the dead-letter table. */
  deadLetters: ['MalformedRecords', 'MalformedEvents'],
  throughput: ['Records', 'EventsApplied', 'EventsSkipped'],
  outcomes: ['TreadmillsFailed', 'SessionsStarted', 'SessionsEnded', 'AlertTransitions'],
} as const;

export const SWEEPER_METRICS = {
  namespace: 'Retrostride',
  service: 'sweeper',
  names: ['SweepCandidates', 'SessionsClosedIdle', 'TreadmillsWentOffline', 'SweepFailures'],
} as const;

/** The ingest consumer is this far behind the stream's tip: dashboards are stale by as much. */
export const ITERATOR_AGE_ALARM_MS = 5 * 60 * 1000;
/** Dead letters per 15 minutes before anyone is told: a flaky sensor's odd frame is not news. */
export const DEAD_LETTER_ALARM_THRESHOLD = 20;

export interface MonitoringProps {
  readonly stage: string;
  readonly alarmEmail: string | undefined;
  readonly key: IKey;
  readonly stream: TelemetryStream;
  readonly ingest: ServiceFunction;
  readonly ingestFailures: FailureQueue;
  readonly scheduledFailures: FailureQueue;
  /** Every function, for the errors and duration graphs. */
  readonly functions: readonly ServiceFunction[];
  readonly tables: DataTables;
  readonly httpApi: HttpApi;
}

const emf = (namespace: string, service: string, metricName: string, period = Duration.minutes(1)): Metric =>
  new Metric({ namespace, metricName, dimensionsMap: { service }, statistic: 'Sum', period });

export class Monitoring extends Construct {
  readonly alarmTopic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Retrostride alarms',
      masterKey: props.key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    acknowledge(
      this.alarmTopic,
      'Alarm emails go to people; SNS retries email delivery itself and the alarm state stays in CloudWatch.',
      'Serverless-SNSRedrivePolicy',
    );

    const ingestFn = props.ingest.fn;
    const iteratorAge = ingestFn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) });
    const ingestErrors = ingestFn.metricErrors({ period: Duration.minutes(1) });
    const ingestThrottles = ingestFn.metricThrottles({ period: Duration.minutes(5) });
    const queueDepth = (queue: FailureQueue) =>
      queue.queue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: Duration.minutes(5),
      });
    const deadLetters = new MathExpression({
      label: 'Dead letters',
      expression: INGEST_METRICS.deadLetters.map((_, i) => `m${i}`).join(' + '),
      usingMetrics: Object.fromEntries(
        INGEST_METRICS.deadLetters.map((name, i) => [
          `m${i}`,
          emf(INGEST_METRICS.namespace, INGEST_METRICS.service, name, Duration.minutes(15)),
        ]),
      ),
      period: Duration.minutes(15),
    });

    this.alarm('IngestIteratorAge', iteratorAge, {
      threshold: ITERATOR_AGE_ALARM_MS,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      description: 'Ingest is more than 5 minutes behind the telemetry stream.',
    });
    this.alarm('IngestFailureQueueDepth', queueDepth(props.ingestFailures), {
      threshold: 0,
      evaluationPeriods: 1,
      description: 'Ingest gave up on stream records: they are in the ingest failure queue, not in DynamoDB.',
    });
    this.alarm('IngestErrors', ingestErrors, {
      threshold: 0,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      description: 'Ingest invocations fail as a whole (not single treadmills): batches are being retried.',
    });
    this.alarm('IngestThrottles', ingestThrottles, {
      threshold: 0,
      evaluationPeriods: 1,
      description: 'Ingest invocations are throttled: the account or function concurrency limit is reached.',
    });
    this.alarm('ScheduledFailureQueueDepth', queueDepth(props.scheduledFailures), {
      threshold: 0,
      evaluationPeriods: 1,
      description:
        'A scheduled run (sweeper, notifier, weekly email) failed: see the scheduled failure queue.',
    });
    this.alarm('DeadLetterGrowth', deadLetters, {
      threshold: DEAD_LETTER_ALARM_THRESHOLD,
      evaluationPeriods: 1,
      description: `More than ${DEAD_LETTER_ALARM_THRESHOLD} malformed records or events in 15 minutes went to the dead-letter table.`,
    });

    this.dashboard = this.buildDashboard(props, { iteratorAge, deadLetters, queueDepth });
  }

  private alarm(
    id: string,
    metric: IMetric,
    options: {
      threshold: number;
      evaluationPeriods: number;
      datapointsToAlarm?: number;
      description: string;
    },
  ): void {
    const alarm = new Alarm(this, id, {
      metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods,
      ...(options.datapointsToAlarm && { datapointsToAlarm: options.datapointsToAlarm }),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    const action = new SnsAction(this.alarmTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
  }

  private buildDashboard(
    props: MonitoringProps,
    metrics: {
      iteratorAge: IMetric;
      deadLetters: IMetric;
      queueDepth: (queue: FailureQueue) => IMetric;
    },
  ): Dashboard {
    const { stream } = props.stream;
    const ingestFn = props.ingest.fn;
    const ingestEmf = (name: string) =>
      emf(INGEST_METRICS.namespace, INGEST_METRICS.service, name, Duration.minutes(5));
    const sweeperEmf = (name: string) =>
      emf(SWEEPER_METRICS.namespace, SWEEPER_METRICS.service, name, Duration.minutes(5));
    const byFunction = (metric: (fn: ServiceFunction) => IMetric) => props.functions.map(metric);
    const fnLabel = (fn: ServiceFunction) => fn.node.id;
    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `Retrostride-${props.stage}`,
      defaultInterval: Duration.hours(3),
    });
    const wide = { width: 12, height: 6 };
    dashboard.addWidgets(
      new TextWidget({
        markdown: `# Retrostride ${props.stage}\ngateway → Kinesis → ingest → DynamoDB → API / notifier / sweeper`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 3 }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Stream: incoming records and bytes',
        left: [stream.metricIncomingRecords({ statistic: 'Sum', period: Duration.minutes(1) })],
        right: [stream.metricIncomingBytes({ statistic: 'Sum', period: Duration.minutes(1) })],
        ...wide,
      }),
      new GraphWidget({
        title: 'Stream: write throttling and ingest iterator age',
        left: [
          stream.metricWriteProvisionedThroughputExceeded({ statistic: 'Sum', period: Duration.minutes(1) }),
        ],
        right: [metrics.iteratorAge],
        ...wide,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Ingest: records, events applied and skipped (duplicates)',
        left: INGEST_METRICS.throughput.map(ingestEmf),
        ...wide,
      }),
      new GraphWidget({
        title: 'Ingest: sessions, alert transitions, failed treadmills',
        left: INGEST_METRICS.outcomes.map(ingestEmf),
        ...wide,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Ingest: invocations, errors, throttles, duration',
        left: [
          ingestFn.metricInvocations({ period: Duration.minutes(1) }),
          ingestFn.metricErrors({ period: Duration.minutes(1) }),
          ingestFn.metricThrottles({ period: Duration.minutes(1) }),
        ],
        right: [ingestFn.metricDuration({ statistic: 'p99', period: Duration.minutes(1) })],
        ...wide,
      }),
      new GraphWidget({
        title: 'Dead letters and failure queues',
        left: [metrics.deadLetters],
        right: [metrics.queueDepth(props.ingestFailures), metrics.queueDepth(props.scheduledFailures)],
        ...wide,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'DynamoDB: consumed write units by table',
        left: TABLE_NAMES.map((name) =>
          props.tables
            .table(name)
            .metricConsumedWriteCapacityUnits({ period: Duration.minutes(5), label: name }),
        ),
        ...wide,
      }),
      new GraphWidget({
        title: 'Sweeper: candidates, idle sessions closed, treadmills offline, failures',
        left: SWEEPER_METRICS.names.map(sweeperEmf),
        ...wide,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Functions: errors',
        left: byFunction((fn) => fn.fn.metricErrors({ period: Duration.minutes(5), label: fnLabel(fn) })),
        ...wide,
      }),
      new GraphWidget({
        title: 'API: requests, 4xx, 5xx and latency',
        left: [
          props.httpApi.metricCount({ period: Duration.minutes(5) }),
          props.httpApi.metricClientError({ period: Duration.minutes(5) }),
          props.httpApi.metricServerError({ period: Duration.minutes(5) }),
        ],
        right: [props.httpApi.metricLatency({ statistic: 'p95', period: Duration.minutes(5) })],
        ...wide,
      }),
    );
    return dashboard;
  }
}
