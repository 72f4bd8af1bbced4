/**
 * Where failed work is parked for a person to look at: an encrypted, TLS-only SQS queue that serves as an
 * on-failure destination, for Kinesis batches ingest gave up on (event source mapping) or for scheduled
 * invocations that failed (asynchronous invocation). The grant to send is exactly what Lambda needs.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type {
  DestinationConfig,
  DlqDestinationConfig,
  IDestination,
  IEventSourceDlq,
  IFunction,
} from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { KEY_SEND, keyStatement } from '../iam.js';
import { acknowledge } from '../nag.js';

export interface FailureQueueProps {
  readonly key: IKey;
  readonly removalPolicy: RemovalPolicy;
}

export class FailureQueue extends Construct implements IDestination, IEventSourceDlq {
  readonly queue: Queue;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: FailureQueueProps,
  ) {
    super(scope, id);
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    acknowledge(
      this.queue,
      'This queue is the end of the line for failed work (alarmed on its depth); a queue behind it would only move the problem.',
      'AwsSolutions-SQS3',
      'Serverless-SQSRedrivePolicy',
    );
  }

  /** Lambda sends failures with the function's own role. */
  bind(_scope: IConstruct, fn: IFunction): DestinationConfig & DlqDestinationConfig {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
    fn.addToRolePolicy(keyStatement(this.props.key, 'sqs', KEY_SEND));
    return { destination: this.queue.queueArn };
  }
}
