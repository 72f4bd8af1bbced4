/**
 * Research exports (functions/export): the export routes on a function of their own, so that only it may
 * write the export bucket and read every week's rollups; never the members table. The bucket is private,
 * encrypted with the data key, TLS only, access-logged, and forgets exports after the configured days
 * (their presigned links, signed with this function's role, expire after minutes).
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket, BucketEncryption, type CfnBucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { KEY_SEND, keyStatement } from '../iam.js';
import { acknowledge } from '../nag.js';
import type { DataTables, TableAccess } from './data-tables.js';
import { ServiceFunction } from './service-function.js';
import { PRIVATE_BUCKET } from './private-bucket.js';

/** Member-gym-week aggregates, by week (functions/lib/research-export-job.ts). */
export const EXPORT_ACCESS = { rollups: ['Query'] } as const satisfies TableAccess;

export interface ResearchExportsProps {
  readonly tables: DataTables;
  readonly key: IKey;
  readonly retentionDays: number;
  readonly accessLogs: IBucket;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: RetentionDays;
}

export class ResearchExports extends Construct {
  readonly bucket: Bucket;
  readonly function: ServiceFunction;

  constructor(scope: Construct, id: string, props: ResearchExportsProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: props.key,
      // One data key per bucket rather than per object: fewer KMS calls.
      bucketKeyEnabled: true,
      ...PRIVATE_BUCKET,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'exports/',
      lifecycleRules: [
        {
          expiration: Duration.days(props.retentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: props.removalPolicy,
    });

    this.function = new ServiceFunction(this, 'Export', {
      name: 'export',
      description: 'Research export (researcher group): aggregates to the export bucket, presigned links',
      environment: { TABLE_PREFIX: props.tables.prefix, EXPORT_BUCKET: this.bucket.bucketName },
      memorySize: 1024,
      // API Gateway waits 30 s for an integration.
      timeout: Duration.seconds(29),
      logRetention: props.logRetention,
      logKey: props.key,
      invocation: { kind: 'synchronous', by: 'API Gateway' },
    });
    props.tables.grant(this.function.role, EXPORT_ACCESS);
    const objects = this.bucket.arnForObjects('*');
    // Writes the files; reads them only through the presigned URLs it signs (which act with this role).
    this.function.allow(
      new PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [objects] }),
      keyStatement(props.key, 's3', KEY_SEND),
    );
    acknowledge(
      this.function.role,
      'Each export is a new folder (a fresh id) of this bucket: object ARNs can only be named by a pattern under the bucket.',
      `AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/*]`,
    );
  }

  private bucketLogicalId(): string {
    return this.bucket.stack.getLogicalId(this.bucket.node.defaultChild as CfnBucket);
  }
}
