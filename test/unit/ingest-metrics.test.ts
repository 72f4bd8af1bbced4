import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createProcessing } from '../../functions/lib/processing.js';
import { lambdaContext } from '../../scripts/local/lambda-shapes.js';
import { StreamBuilder, T0 } from '../support/events.js';
import { eventsRecord, kinesisEvent } from '../support/kinesis-records.js';
import { mockedIngest } from '../support/mocked-ingest.js';

const { ddb, printed, createIngestHandler, emfMetrics } = mockedIngest('WARN');

function invoke(records: Parameters<typeof kinesisEvent>[0]) {
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
  );
  const processing = createProcessing(doc, 'test');
  return createIngestHandler(() => processing)(
    kinesisEvent(records),
    lambdaContext('ingest', 'us-east-1', '000000000000'),
  );
}

describe('ingest metrics', () => {
  const walking = () => {
    const b = new StreamBuilder('gym-a', 'tm-01');
    b.walk(T0, 5, { speedKmh: 4 });
    return b.events;
  };

  it('publishes the metrics of a batch whose every record fails, without the empty-metrics warning', async () => {
    ddb.on(UpdateCommand).rejects(new Error('table gone'));
    await expect(invoke([eventsRecord(walking())])).rejects.toThrow(/All records failed/);
    expect(emfMetrics()).toMatchObject({ Records: 1, TreadmillsFailed: 1, MalformedRecords: 0 });
    expect(printed.join('')).not.toContain('No application metrics to publish');
  });

  it('publishes the metrics of a batch that succeeds', async () => {
    await invoke([eventsRecord(walking())]);
    expect(emfMetrics()).toMatchObject({ Records: 1, TreadmillsFailed: 0, EventsApplied: 5 });
    expect(printed.join('')).not.toContain('No application metrics to publish');
  });
});
