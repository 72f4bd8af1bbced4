/**
 * Decoding a Kinesis record (docs/architecture.md section 4) into a treadmill's events, with a readable reason for
 * whatever is rejected: a malformed record is rejected whole; a malformed event only by itself.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import {
  KINESIS_RECORD_MAX_BYTES,
  kinesisRecordSchema,
  partitionKey,
  type TelemetryEvent,
  validateEvent,
  validateWith,
} from '../../shared/src/telemetry/index.js';

export interface RejectedEvent {
  index: number;
  reason: string;
  payload: string;
  seq?: number;
}

export type DecodedRecord =
  | {
      ok: true;
      record: KinesisStreamRecord;
      gymId: string;
      treadmillId: string;
      events: TelemetryEvent[];
      rejected: RejectedEvent[];
    }
  | { ok: false; record: KinesisStreamRecord; reason: string; payload: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

const seqOf = (input: unknown): number | undefined => {
  const seq = typeof input === 'object' && input !== null ? (input as { seq?: unknown }).seq : undefined;
  return typeof seq === 'number' ? seq : undefined;
};

export function decodeRecord(record: KinesisStreamRecord): DecodedRecord {
  const bytes = Buffer.from(record.kinesis.data, 'base64');
  const malformed = (reason: string, payload = bytes.toString('base64')): DecodedRecord => ({
    ok: false,
    record,
    reason,
    payload,
  });
  if (bytes.length > KINESIS_RECORD_MAX_BYTES) {
    return malformed(`record of ${bytes.length} bytes exceeds ${KINESIS_RECORD_MAX_BYTES}`);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return malformed('not UTF-8 text');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return malformed(`not JSON: ${error instanceof Error ? error.message : String(error)}`, text);
  }
  const envelope = validateWith(kinesisRecordSchema, body);
  if (!envelope.ok) return malformed(`not a telemetry record: ${envelope.reason}`, text);
  const { gymId, treadmillId } = envelope.value;
  const expectedKey = partitionKey(gymId, treadmillId);
  if (record.kinesis.partitionKey !== expectedKey) {
    // The key decides the shard and with it the order of a treadmill's records: a mismatch breaks ordering.
    return malformed(`partition key "${record.kinesis.partitionKey}" is not "${expectedKey}"`, text);
  }

  const events: TelemetryEvent[] = [];
  const rejected: RejectedEvent[] = [];
  envelope.value.events.forEach((input, index) => {
    const validated = validateEvent(input);
    const seq = seqOf(input);
    const reject = (reason: string) =>
      rejected.push({ index, reason, payload: JSON.stringify(input), ...(seq !== undefined && { seq }) });
    if (!validated.ok) reject(validated.reason);
    else if (validated.value.gymId !== gymId || validated.value.treadmillId !== treadmillId) {
      reject(
        `event of ${validated.value.gymId}/${validated.value.treadmillId} in a record of ${expectedKey}`,
      );
    } else events.push(validated.value);
  });
  return { ok: true, record, gymId, treadmillId, events, rejected };
}
