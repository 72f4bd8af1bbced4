/**
 * Least-privilege statements the constructs share: KMS use only through the service that owns the data
 * (kms:ViaService), with the exact actions that service needs; never a `*` action.
 */
import { Aws } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';

/** Reading data encrypted under a key. */
export const KEY_DECRYPT = ['kms:Decrypt', 'kms:DescribeKey'];
/** Writing (and reading) it: the service generates data keys under the key. */
export const KEY_ENCRYPT = [...KEY_DECRYPT, 'kms:Encrypt', 'kms:GenerateDataKey'];
/** Sending to an encrypted SQS queue or SNS topic. */
export const KEY_SEND = ['kms:Decrypt', 'kms:GenerateDataKey'];

/** Use of `key` by way of one service (`dynamodb`, `sqs`, `sns`, `kinesis`, `s3`) in this region only. */
export function keyStatement(key: IKey, service: string, actions: readonly string[]): PolicyStatement {
  return new PolicyStatement({
    actions: [...actions],
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `${service}.${Aws.REGION}.amazonaws.com` } },
  });
}
