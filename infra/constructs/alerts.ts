/**
 * Alert delivery (docs/architecture.md section 7, the outbox): the alerts topic, email subscriptions each filtered to
 * some gyms by the `gymId` message attribute the SNS transport sets, and the notifier, which runs every minute
 * as the backstop for deliveries ingest and the sweeper start themselves.
 */
import { Duration } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { SubscriptionFilter, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config.js';
import { KEY_SEND, keyStatement } from '../iam.js';
import { acknowledge } from '../nag.js';
import type { DataTables } from './data-tables.js';
import type { FailureQueue } from './failure-queue.js';
import { ScheduledInvocation } from './schedule.js';
import { ServiceFunction } from './service-function.js';

export interface AlertsProps {
  readonly config: Pick<DeployConfig, 'alertSubscriptions' | 'alertWebhookUrl'>;
  readonly tables: DataTables;
  readonly key: IKey;
  readonly logRetention: RetentionDays;
  readonly scheduledFailures: FailureQueue;
}

export class Alerts extends Construct {
  readonly topic: Topic;
  readonly notifier: ServiceFunction;
  /** The ALERT_* variables of every function that delivers alerts (functions/lib/alert-transports.ts). */
  readonly transportEnvironment: Record<string, string>;
  private readonly key: IKey;

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    this.key = props.key;
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Retrostride alerts',
      masterKey: props.key,
      enforceSSL: true,
    });
    for (const subscription of props.config.alertSubscriptions) {
      this.topic.addSubscription(
        new EmailSubscription(subscription.email, {
          filterPolicy: { gymId: SubscriptionFilter.stringFilter({ allowlist: subscription.gymIds }) },
        }),
      );
    }

    this.transportEnvironment = {
      ALERT_TOPIC_ARN: this.topic.topicArn,
      ...(props.config.alertWebhookUrl && { ALERT_WEBHOOK_URL: props.config.alertWebhookUrl }),
    };

    this.notifier = new ServiceFunction(this, 'Notifier', {
      name: 'notifier',
      description: 'Delivers pending alert transitions (the outbox) to SNS; every minute',
      environment: { TABLE_PREFIX: props.tables.prefix, ...this.transportEnvironment },
      memorySize: 256,
      timeout: Duration.seconds(50),
      logRetention: props.logRetention,
      logKey: props.key,
      // A failed run is made up by the next minute's.
      invocation: {
        kind: 'asynchronous',
        onFailure: props.scheduledFailures,
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      },
    });
    props.tables.grant(this.notifier.role, { alerts: ['Query@notifyPending', 'UpdateItem'] });
    this.grantPublish(this.notifier.role);
    new ScheduledInvocation(this, 'EveryMinute', {
      target: this.notifier.fn,
      description: 'Retrostride notifier, every minute',
      expression: 'rate(1 minute)',
      // A missed minute is made up by the next: no retries, no backlog.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(1),
    });
    acknowledge(
      this.topic,
      'Alert emails go to people; SNS retries email delivery itself, and every alert stays in the alerts table and the dashboard.',
      'Serverless-SNSRedrivePolicy',
    );
  }

  grantPublish(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(keyStatement(this.key, 'sns', KEY_SEND));
  }
}
