/**
 * The telemetry stream (docs/architecture.md section 4): Kinesis, on-demand or provisioned by context, encrypted with
 * its own customer key, so that a gateway's role reaches that key and nothing else.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config.js';
import { keyStatement } from '../iam.js';
import { acknowledge } from '../nag.js';

export interface TelemetryStreamProps {
  readonly config: Pick<DeployConfig, 'shardMode' | 'shardCount' | 'streamRetentionHours'>;
  readonly key: IKey;
  readonly removalPolicy: RemovalPolicy;
}

/** What a producer needs: put records (one or a batch) and read the stream's summary (its mode and status). */
export const PRODUCER_ACTIONS = ['kinesis:PutRecord', 'kinesis:PutRecords', 'kinesis:DescribeStreamSummary'];
/** What Lambda's event source mapping reads with the function's role (shared polling, no enhanced fan-out). */
export const CONSUMER_ACTIONS = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
];

export class TelemetryStream extends Construct {
  readonly stream: Stream;
  readonly key: IKey;

  constructor(scope: Construct, id: string, props: TelemetryStreamProps) {
    super(scope, id);
    const { config } = props;
    this.key = props.key;
    this.stream = new Stream(this, 'Stream', {
      encryption: StreamEncryption.KMS,
      encryptionKey: props.key,
      // At least ingest's maximum record age plus a replay window (config.ts checks; docs/architecture.md 5.5).
      retentionPeriod: Duration.hours(config.streamRetentionHours),
      ...(config.shardMode === 'on-demand'
        ? { streamMode: StreamMode.ON_DEMAND }
        : { streamMode: StreamMode.PROVISIONED, shardCount: config.shardCount }),
      removalPolicy: props.removalPolicy,
    });
    acknowledge(
      this.stream,
      'A customer key instead of aws/kinesis: the key policy and rotation are ours, and a gateway role can be granted this key alone.',
      'AwsSolutions-KDS3',
    );
  }

  grantProduce(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: PRODUCER_ACTIONS, resources: [this.stream.streamArn] }),
    );
    // Kinesis encrypts each put with a data key generated under the stream's key.
    grantee.grantPrincipal.addToPrincipalPolicy(keyStatement(this.key, 'kinesis', ['kms:GenerateDataKey']));
  }

  grantConsume(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: CONSUMER_ACTIONS, resources: [this.stream.streamArn] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(keyStatement(this.key, 'kinesis', ['kms:Decrypt']));
  }
}
