/**
 * The Kinesis client of the gateway and the local stack (a pure factory, as clients.ts): apart from the
 * DynamoDB clients so that no Lambda loads the Kinesis SDK.
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { type AwsClientOptions, clientConfig } from './clients.js';

export function kinesisClient(options: AwsClientOptions = {}): KinesisClient {
  return new KinesisClient(clientConfig('KINESIS', options));
}
