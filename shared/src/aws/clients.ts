/**
 * AWS SDK clients for the handlers, the gateway and the local stack: pure factories (constructing a client does
 * no I/O; the first request opens the connection).
 *
 * In AWS everything comes from the environment: the SDK itself reads AWS_REGION and the standard endpoint
 * variables (AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL), which is how the local
 * stack points the same code at its emulators. Tests and the local stack may pass an explicit override.
 *
 * The Kinesis client has a module of its own (kinesis-client.ts): every Lambda imports this one, and loading
 * the Kinesis SDK as well costs about 100 ms of cold start for a client no Lambda uses.
 */
import http from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface AwsClientOptions {
  /** e.g. `http://127.0.0.1:4567`; unset means the SDK's own resolution (environment, then AWS). */
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: StaticCredentials;
}

/** Emulators accept any signature, but the SDK refuses to sign without credentials. */
export const LOCAL_CREDENTIALS: StaticCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLocalEndpoint(endpoint: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}

export type AwsService = 'KINESIS' | 'DYNAMODB';

/** The configuration every client is built with: endpoint and credentials resolved, HTTP/1.1 keep-alive. */
export function clientConfig(service: AwsService, options: AwsClientOptions) {
  const endpoint =
    options.endpoint ?? process.env[`AWS_ENDPOINT_URL_${service}`] ?? process.env.AWS_ENDPOINT_URL;
  const credentials =
    options.credentials ?? (endpoint && isLocalEndpoint(endpoint) ? LOCAL_CREDENTIALS : undefined);
  return {
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(credentials ? { credentials } : {}),
    // HTTP/1.1 with reused connections: the Kinesis client's default HTTP/2 handler fails against kinesalite,
    // and keep-alive saves a TLS handshake per call in Lambda.
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true }) }),
  };
}

export function dynamoClient(options: AwsClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(clientConfig('DYNAMODB', options));
}

/** A DocumentClient over an existing client; it shares (and on destroy() closes) that client's connections. */
export function documentClientFor(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function dynamoDocumentClient(options: AwsClientOptions = {}): DynamoDBDocumentClient {
  return documentClientFor(dynamoClient(options));
}
