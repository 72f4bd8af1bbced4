/**
 * Server access logs of the stack's buckets (who read or wrote what, when): one bucket, a prefix per source
 * bucket, kept as long as the function logs.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import { PRIVATE_BUCKET } from './private-bucket.js';

export interface AccessLogsProps {
  readonly retentionDays: number;
  readonly removalPolicy: RemovalPolicy;
}

export class AccessLogs extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      // S3 delivers server access logs only to buckets with S3-managed keys.
      encryption: BucketEncryption.S3_MANAGED,
      ...PRIVATE_BUCKET,
      lifecycleRules: [{ expiration: Duration.days(props.retentionDays) }],
      removalPolicy: props.removalPolicy,
    });
    acknowledge(
      this.bucket,
      'This is the access log bucket itself: logging it into itself would loop.',
      'AwsSolutions-S1',
    );
  }
}
