/**
 * The embedded AWS kit: kinesalite, dynalite and an aedes MQTT broker in this process, on loopback, with the
 * stream and tables provisioned. The same handlers and gateway code reach it through ordinary SDK clients
 * that only change their endpoint (docs/architecture.md section 1).
 */
import { mkdir } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Aedes } from 'aedes';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import { documentClientFor, dynamoClient, LOCAL_CREDENTIALS } from '../../shared/src/aws/clients.js';
import { kinesisClient } from '../../shared/src/aws/kinesis-client.js';
import type { TableName } from '../../shared/src/tables.js';
import { createStream, createTables } from './provision.js';

export interface EmbeddedAwsOptions {
  /** Directory for LevelDB stores, so data survives a restart; in memory when unset. */
  readonly dataDir?: string;
  readonly shards?: number;
  readonly prefix?: string;
  readonly streamName?: string;
  /** Hours the stream keeps records; by default ingest's maximum record age plus the replay window. */
  readonly streamRetentionHours?: number;
  /** An external MQTT broker to use instead of starting aedes in-process (e.g. the gym's own). */
  readonly mqttUrl?: string;
  /** Ports default to 0: a free port chosen by the OS. */
  readonly mqttPort?: number;
  readonly kinesisPort?: number;
  readonly dynamoPort?: number;
}

export interface EmbeddedAws {
  readonly kinesis: { readonly endpoint: string; readonly client: KinesisClient };
  readonly dynamo: {
    readonly endpoint: string;
    readonly client: DynamoDBClient;
    readonly doc: DynamoDBDocumentClient;
  };
  readonly mqtt: { readonly url: string };
  readonly streamName: string;
  /** The stream's retention in effect (an earlier start's longer one is kept). */
  readonly streamRetentionHours: number;
  readonly tablePrefix: string;
  readonly tables: Readonly<Record<TableName, string>>;
  /** What a handler or child process needs in its environment to use this kit. */
  readonly env: Readonly<Record<string, string>>;
  /** Closes clients, servers and stores; safe to call more than once. */
  stop(): Promise<void>;
}

export const LOCAL_REGION = 'us-east-1';
const HOST = '127.0.0.1';
// kinesalite refuses more than `shardLimit` shards per account; its default is 10.
const KINESALITE_DEFAULT_SHARD_LIMIT = 10;

async function listen(server: NetServer, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  return address.port;
}

function closeServer(server: NetServer): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Keep-alive connections from other processes would otherwise hold close() open.
    if ('closeAllConnections' in server) (server as HttpServer).closeAllConnections();
  });
}

async function storePath(dataDir: string | undefined, name: string): Promise<string | undefined> {
  if (dataDir === undefined) return undefined;
  const path = join(dataDir, name);
  await mkdir(path, { recursive: true });
  return path;
}

/** aedes in-process (MQTT 3.1.1 only: clients need protocolVersion 4); returns its URL. */
async function startBroker(port: number, closers: Array<() => Promise<void>>): Promise<string> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  closers.push(
    () => closeServer(server),
    // The broker goes first (closers run in reverse): it disconnects clients, so the server can close.
    () => new Promise<void>((resolve) => broker.close(() => resolve())),
  );
  return `mqtt://${HOST}:${await listen(server, port)}`;
}

export async function startEmbeddedAws(options: EmbeddedAwsOptions = {}): Promise<EmbeddedAws> {
  const shards = options.shards ?? 2;
  const tablePrefix = options.prefix ?? 'retrostride-local';
  const streamName = options.streamName ?? 'retrostride-telemetry';

  // Everything started so far, closed in reverse order by stop() or when startup fails half-way.
  const closers: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const errors: unknown[] = [];
      for (const close of closers.reverse()) await close().catch((error: unknown) => errors.push(error));
      if (errors.length > 0) throw new AggregateError(errors, 'embedded AWS kit did not stop cleanly');
    })();
    return stopping;
  };

  try {
    const kinesisServer = kinesalite({
      createStreamMs: 0,
      deleteStreamMs: 0,
      updateStreamMs: 0,
      shardLimit: Math.max(KINESALITE_DEFAULT_SHARD_LIMIT, shards),
      path: await storePath(options.dataDir, 'kinesis'),
    });
    const dynamoServer = dynalite({
      createTableMs: 0,
      deleteTableMs: 0,
      updateTableMs: 0,
      path: await storePath(options.dataDir, 'dynamodb'),
    });
    closers.push(
      () => closeServer(kinesisServer),
      () => closeServer(dynamoServer),
    );
    const [kinesisPort, dynamoPort] = await Promise.all([
      listen(kinesisServer, options.kinesisPort ?? 0),
      listen(dynamoServer, options.dynamoPort ?? 0),
    ]);
    const mqttUrl = options.mqttUrl ?? (await startBroker(options.mqttPort ?? 0, closers));
    const kinesisEndpoint = `http://${HOST}:${kinesisPort}`;
    const dynamoEndpoint = `http://${HOST}:${dynamoPort}`;

    const clientOptions = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const kinesis = kinesisClient({ ...clientOptions, endpoint: kinesisEndpoint });
    const dynamo = dynamoClient({ ...clientOptions, endpoint: dynamoEndpoint });
    closers.push(async () => {
      kinesis.destroy();
      dynamo.destroy();
    });

    // One after the other: a failure must not leave the other still writing into a store that stop() closes.
    const streamRetentionHours = await createStream(
      kinesis,
      streamName,
      shards,
      options.streamRetentionHours,
    );
    const tables = await createTables(dynamo, tablePrefix);

    return {
      kinesis: { endpoint: kinesisEndpoint, client: kinesis },
      dynamo: { endpoint: dynamoEndpoint, client: dynamo, doc: documentClientFor(dynamo) },
      mqtt: { url: mqttUrl },
      streamName,
      streamRetentionHours,
      tablePrefix,
      tables,
      env: {
        AWS_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_KINESIS: kinesisEndpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
        MQTT_URL: mqttUrl,
        STREAM_NAME: streamName,
        TABLE_PREFIX: tablePrefix,
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
