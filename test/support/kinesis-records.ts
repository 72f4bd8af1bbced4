/** Lambda's Kinesis event shape for handler tests, built through the local runner's own mapping. */
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { toLambdaRecord } from '../../scripts/local/lambda-shapes.js';
import { partitionKey, type TelemetryEvent } from '../../shared/src/telemetry/events.js';

const SOURCE = {
  shardId: 'shardId-000000000000',
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/retrostride-telemetry',
  region: 'us-east-1',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/ingest',
};

let nextSequence = 49_000_000_000_000_000_000n;

/** A record holding `payload` (an object is sent as JSON), with a fresh sequence number. */
export function kinesisRecord(
  payload: unknown,
  key = 'gym-a/tm-01',
  arrivalTs = Date.UTC(2026, 10, 24, 9, 0, 0),
): KinesisStreamRecord {
  nextSequence += 1n;
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return toLambdaRecord(
    {
      Data: Buffer.from(text),
      PartitionKey: key,
      SequenceNumber: nextSequence.toString(),
      ApproximateArrivalTimestamp: new Date(arrivalTs),
    },
    SOURCE,
  );
}

/**
 * The record a gateway sends for these events of one treadmill: it reaches Kinesis once its last event was
 * received (ingest clamps event times far beyond a record's arrival).
 */
export function eventsRecord(events: readonly TelemetryEvent[]): KinesisStreamRecord {
  const first = events[0];
  if (!first) throw new Error('a record holds at least one event');
  const { gymId, treadmillId } = first;
  const arrivalTs = events.reduce((latest, event) => Math.max(latest, event.rxTs), 0);
  return kinesisRecord({ v: 1, gymId, treadmillId, events }, partitionKey(gymId, treadmillId), arrivalTs);
}

export const kinesisEvent = (records: KinesisStreamRecord[]): KinesisStreamEvent => ({ Records: records });
