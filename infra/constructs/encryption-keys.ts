/**
 * Customer-managed KMS keys (docs/architecture.md section 8): one for the telemetry stream (the only key a gateway may
 * use), one for members' personal data (the members table alone), one for everything else at rest (tables,
 * queues, topics, the export bucket, log groups). All rotate yearly.
 */
import { Aws, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface EncryptionKeysProps {
  readonly stage: string;
  readonly removalPolicy: RemovalPolicy;
}

export class EncryptionKeys extends Construct {
  readonly stream: Key;
  readonly data: Key;
  readonly members: Key;

  constructor(scope: Construct, id: string, props: EncryptionKeysProps) {
    super(scope, id);
    const key = (keyId: string, description: string) =>
      new Key(this, keyId, {
        alias: `alias/retrostride-${props.stage}-${keyId.toLowerCase()}`,
        description,
        enableKeyRotation: true,
        pendingWindow: Duration.days(30),
        removalPolicy: props.removalPolicy,
      });
    this.stream = key('Stream', 'Retrostride telemetry stream');
    this.data = key('Data', 'Retrostride tables, queues, topics, exports and logs');
    this.members = key('Members', "Retrostride members' personal data");

    // CloudWatch Logs encrypts this stack's log groups with the data key, and only them.
    this.data.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
          },
        },
      }),
    );
    // CloudWatch alarms publish to the (encrypted) alarm topic.
    this.data.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
  }
}
