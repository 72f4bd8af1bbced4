/**
 * The alarms and the dashboard read EMF metrics by name (infra/constructs/monitoring.ts): the handlers must
 * emit exactly those names, in that namespace, with that `service` dimension. Run with DynamoDB mocked.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProcessing } from '../../functions/lib/processing.js';
import { INGEST_METRICS, SWEEPER_METRICS } from '../../infra/constructs/monitoring.js';
import { lambdaContext } from '../../scripts/local/lambda-shapes.js';
import { StreamBuilder, T0 } from '../support/events.js';
import { eventsRecord, kinesisEvent, kinesisRecord } from '../support/kinesis-records.js';

const ddb = mockClient(DynamoDBDocumentClient);

interface Emf {
  _aws: {
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }>;
  };
  [key: string]: unknown;
}

/** EMF documents written to stdout while `run` runs. */
async function emfOf(run: () => Promise<unknown>): Promise<Emf[]> {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(...String(chunk).split('\n'));
    return true;
  });
  try {
    await run();
  } finally {
    write.mockRestore();
  }
  return lines.filter((line) => line.includes('"CloudWatchMetrics"')).map((line) => JSON.parse(line) as Emf);
}

const processing = () =>
  createProcessing(
    DynamoDBDocumentClient.from(
      new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    ),
    'test',
  );

beforeAll(() => {
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  ddb.onAnyCommand().resolves({});
});
afterAll(() => {
  vi.unstubAllEnvs();
  ddb.restore();
});

describe('metrics the alarms read', () => {
  it('ingest emits every metric infra watches, dead letters counted, under namespace and service', async () => {
    const { createIngestHandler } = await import('../../functions/ingest/handler.js');
    const deps = processing();
    const handler = createIngestHandler(() => deps);
    const walk = new StreamBuilder('gym-a', 'tm-01');
    walk.walk(T0, 10, { speedKmh: 4 });
    const [first, ...rest] = walk.events;
    const event = kinesisEvent([
      kinesisRecord('not json at all'),
      eventsRecord([first!, { ...rest[0]!, type: 'no-such-type' } as never, ...rest.slice(1)]),
    ]);

    const [emf, ...more] = await emfOf(() =>
      handler(event, lambdaContext('ingest', 'us-east-1', '000000000000')),
    );
    expect(more).toEqual([]);
    const [directive] = emf!._aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe(INGEST_METRICS.namespace);
    expect(directive?.Dimensions).toEqual([['service']]);
    expect(emf!.service).toBe(INGEST_METRICS.service);
    const names = directive?.Metrics.map((metric) => metric.Name) ?? [];
    for (const name of [
      ...INGEST_METRICS.deadLetters,
      ...INGEST_METRICS.throughput,
      ...INGEST_METRICS.outcomes,
    ])
      expect(names).toContain(name);
    expect(emf!.MalformedRecords).toBe(1);
    expect(emf!.MalformedEvents).toBe(1);
  });

  it('the sweeper emits the metrics its dashboard graph shows', async () => {
    const { createSweeperHandler } = await import('../../functions/sweeper/handler.js');
    const deps = processing();
    const handler = createSweeperHandler(
      () => deps,
      () => T0,
    );
    const [emf] = await emfOf(() => handler({}, lambdaContext('sweeper', 'us-east-1', '000000000000')));
    const [directive] = emf!._aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe(SWEEPER_METRICS.namespace);
    expect(emf!.service).toBe(SWEEPER_METRICS.service);
    expect(directive?.Metrics.map((metric) => metric.Name)).toEqual(
      expect.arrayContaining([...SWEEPER_METRICS.names]),
    );
  });
});
