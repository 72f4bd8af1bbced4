/**
 * Decoding a Kinesis record (docs/architecture.md section 4) into a treadmill's events, with a readable reason for
 * whatever is rejected: a malformed record is rejected whole; a malformed event only by itself.
 *
 * Two things of the record travel with its events: its spool epoch (absent: the legacy epoch), and its arrival
 * time, which bounds event time (section 5.1): a gateway whose clock jumped forward would otherwise make a
 * treadmill's last-seen time future for good. An event more than FUTURE_TS_TOLERANCE_MS ahead of its record's
 * arrival takes the arrival time as its `ts`.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { LEGACY_EPOCH } from '../../shared/src/metrics/treadmill.js';
import {
  KINESIS_RECORD_MAX_BYTES,
  kinesisRecordSchema,
  partitionKey,
  type TelemetryEvent,
  validateEvent,
  validateWith,
} from '../../shared/src/telemetry/index.js';

/**
 * How far past the record's Kinesis arrival time an event's `ts` may be: the gateway's own tolerance for a
 * device clock (docs/architecture.md section 2), so that only a gateway clock that ran ahead is clamped.
 */
export const FUTURE_TS_TOLERANCE_MS = 5 * 60_000;

/** An event whose `ts` was clamped, and by how much it was ahead of the record's arrival. */
export interface ClampedTs {
  seq: number;
  aheadMs: number;
}

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
      /** The record's spool epoch; LEGACY_EPOCH when it has none. */
      epoch: string;
      events: TelemetryEvent[];
      rejected: RejectedEvent[];
      clamped: ClampedTs[];
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
  const clamped: ClampedTs[] = [];
  // Kinesis stamps every record; a record without the stamp (0) has nothing to bound by.
  const arrivalMs = Math.round(record.kinesis.approximateArrivalTimestamp * 1000);
  const latestTs = arrivalMs > 0 ? arrivalMs + FUTURE_TS_TOLERANCE_MS : Number.POSITIVE_INFINITY;
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
    } else if (validated.value.ts > latestTs) {
      // Known wrong, and measured before its record arrived: the arrival is the nearest true bound (the
      // limit itself would still be 5 minutes ahead, and would split the session by the idle rule). Fixed by
      // the record, so a replay clamps the same way; rxTs is kept as the gateway sent it, as evidence.
      clamped.push({ seq: validated.value.seq, aheadMs: validated.value.ts - arrivalMs });
      events.push({ ...validated.value, ts: arrivalMs });
    } else events.push(validated.value);
  });
  const epoch = envelope.value.epoch ?? LEGACY_EPOCH;
  return { ok: true, record, gymId, treadmillId, epoch, events, rejected, clamped };
}
