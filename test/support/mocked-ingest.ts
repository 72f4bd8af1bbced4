/**
 * The ingest handler against a mocked DynamoDB, with everything Powertools prints (EMF on stdout, its own
 * warnings, the logger's lines) captured instead of shown: registers the hooks of the calling test file.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, vi } from 'vitest';
import type { createIngestHandler as CreateIngestHandler } from '../../functions/ingest/handler.js';

const mockDocumentClient = () => mockClient(DynamoDBDocumentClient);

export interface MockedIngest {
  readonly ddb: ReturnType<typeof mockDocumentClient>;
  /** What was printed since the test began; empty it with `printed.length = 0`. */
  readonly printed: string[];
  readonly createIngestHandler: typeof CreateIngestHandler;
  /** The JSON lines printed (log lines and EMF documents), parsed. */
  documents(): Array<Record<string, unknown>>;
  /** The metric values of the EMF documents printed, by name. */
  emfMetrics(): Record<string, unknown>;
}

export function mockedIngest(logLevel: 'INFO' | 'WARN'): MockedIngest {
  const ddb = mockDocumentClient();
  const printed: string[] = [];
  let create: typeof CreateIngestHandler | undefined;
  beforeAll(async () => {
    // Metrics on, so that what would reach CloudWatch can be read.
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', logLevel);
    ({ createIngestHandler: create } = await import('../../functions/ingest/handler.js'));
  });
  beforeEach(() => {
    ddb.reset();
    ddb.onAnyCommand().resolves({});
    printed.length = 0;
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        printed.push(String(chunk));
        return true;
      });
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const documents = () =>
    printed
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    ddb,
    printed,
    documents,
    emfMetrics() {
      const values: Record<string, unknown> = {};
      for (const document of documents()) {
        const aws = document._aws as
          { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> } | undefined;
        if (!aws) continue;
        for (const { Metrics } of aws.CloudWatchMetrics)
          for (const { Name } of Metrics) values[Name] = document[Name];
      }
      return values;
    },
    createIngestHandler: (resolveDeps) => {
      if (!create) throw new Error('the ingest handler is imported in beforeAll');
      return create(resolveDeps);
    },
  };
}
