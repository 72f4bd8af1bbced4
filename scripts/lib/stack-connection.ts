/**
 * How a CLI command reaches the tables: the local stack's emulators or AWS.
 *
 * In order: `--endpoint`/`--table-prefix`; the environment (TABLE_PREFIX, and AWS_ENDPOINT_URL_DYNAMODB or the
 * SDK's own AWS resolution); else the `endpoints.json` that `retrostride dev` writes into its data directory
 * while it runs (ports are chosen freely, so the file is how other commands find them).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient, isLocalEndpoint, LOCAL_CREDENTIALS } from '../../shared/src/aws/clients.js';
import { LOCAL_REGION } from '../local/kit.js';
import { UsageError } from './command.js';

export interface StackEndpoints {
  dynamoEndpoint: string;
  tablePrefix: string;
  region: string;
  /** Where the dashboard and /api are served. */
  apiUrl: string;
  pid: number;
}

export const ENDPOINTS_FILE = 'endpoints.json';
export const DEFAULT_DATA_DIR = '.data';
/** The sender of the local stack's progress emails (the outbox only: example domains never receive mail). */
export const LOCAL_EMAIL_FROM = 'Retrostride <progress@retrostride.example>';

export const CONNECTION_FLAGS = {
  endpoint: { type: 'string' },
  'table-prefix': { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

export const CONNECTION_USAGE =
  '  --endpoint URL, --table-prefix P  DynamoDB to use (default: $AWS_ENDPOINT_URL_DYNAMODB and $TABLE_PREFIX,\n' +
  '                    else the running `retrostride dev` stack, found through DATA_DIR/endpoints.json)\n' +
  '  --data-dir DIR    the local stack’s data directory (default .data)';

export async function writeEndpoints(
  dataDir: string,
  endpoints: StackEndpoints,
): Promise<() => Promise<void>> {
  const path = join(dataDir, ENDPOINTS_FILE);
  await writeFile(path, `${JSON.stringify(endpoints, null, 2)}\n`);
  return () => rm(path, { force: true });
}

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The running local stack's endpoints, or null when it is not running. */
export async function readEndpoints(dataDir: string): Promise<StackEndpoints | null> {
  try {
    const endpoints = JSON.parse(await readFile(join(dataDir, ENDPOINTS_FILE), 'utf8')) as StackEndpoints;
    return isRunning(endpoints.pid) ? endpoints : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export interface StackConnection {
  doc: DynamoDBDocumentClient;
  tablePrefix: string;
  dataDir: string;
  /** The local stack's, when the connection came from endpoints.json. */
  stack: StackEndpoints | null;
  close(): void;
}

export async function connectToTables(values: {
  endpoint?: string | undefined;
  'table-prefix'?: string | undefined;
  'data-dir'?: string | undefined;
}): Promise<StackConnection> {
  const dataDir = resolve(values['data-dir'] ?? DEFAULT_DATA_DIR);
  const explicitPrefix = values['table-prefix'] ?? process.env.TABLE_PREFIX;
  if (values.endpoint !== undefined || explicitPrefix !== undefined) {
    if (explicitPrefix === undefined) throw new UsageError('--table-prefix (or $TABLE_PREFIX) is required');
    const endpoint = values.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB;
    // Emulators accept any region; the SDK still needs one.
    const region =
      process.env.AWS_REGION ?? (endpoint && isLocalEndpoint(endpoint) ? LOCAL_REGION : undefined);
    const doc = dynamoDocumentClient({
      ...(values.endpoint && { endpoint: values.endpoint }),
      ...(region && { region }),
    });
    return { doc, tablePrefix: explicitPrefix, dataDir, stack: null, close: () => doc.destroy() };
  }
  const stack = await readEndpoints(dataDir);
  if (!stack)
    throw new UsageError(
      `no running local stack in ${dataDir}: start it with \`npx retrostride dev\`, or pass --endpoint and --table-prefix`,
    );
  const doc = dynamoDocumentClient({
    endpoint: stack.dynamoEndpoint,
    region: stack.region,
    credentials: LOCAL_CREDENTIALS,
  });
  return { doc, tablePrefix: stack.tablePrefix, dataDir, stack, close: () => doc.destroy() };
}
