/**
 * The dead-letter table (pk DLQ#{source}#{yyyy-mm-dd}, sk {ts}#{id}, expiring after 30 days): records and
 * events that cannot be processed, with the reason, kept so they can be inspected and replayed by hand.
 *
 * Keys come from the data (arrival time, sequence number, event index; a set-aside session's id and last
 * event time; a set-aside batch's treadmill, epoch and seq range), so a replay rewrites the same entry
 * instead of adding one.
 */
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dayKey } from '../../shared/src/iso-week.js';
import { queryAll } from './dynamo-paging.js';

export const DEAD_LETTER_RETENTION_S = 30 * 86_400;
/** The source of stream processing's dead letters, ingest's and the sweeper's alike. */
export const STREAM_DEAD_LETTER_SOURCE = 'ingest';
/** Payloads are cut here: an item holds at most 400 KB and the reason matters more than the tail. */
export const DEAD_LETTER_PAYLOAD_MAX_CHARS = 100_000;

export interface DeadLetter {
  source: string;
  /**
   * `record`, `event`: malformed at decode (docs/architecture.md section 4.3). Set aside by the poison guard
   * (section 5.2): `session`, a session that could not be finalized or was open in a batch that could not be
   * committed (payload: its reducer state); `events`, the events of such a batch.
   */
  kind: 'record' | 'event' | 'session' | 'events';
  reason: string;
  /** When the data arrived (epoch ms): the record's approximate arrival time. */
  ts: number;
  /** Unique within the source, e.g. the Kinesis sequence number plus the event's index in the record. */
  id: string;
  payload: string;
  payloadTruncated?: boolean;
  shardId?: string;
  sequenceNumber?: string;
  partitionKey?: string;
  gymId?: string;
  treadmillId?: string;
  seq?: number;
  eventIndex?: number;
  /** Set aside: the session, the spool epoch (absent: legacy), the seq range and the failed attempts. */
  sessionId?: string;
  epoch?: string;
  seqFrom?: number;
  seqTo?: number;
  attempts?: number;
}

export const deadLetterPartition = (source: string, ts: number): string => `DLQ#${source}#${dayKey(ts)}`;

export class DeadLetterRepo {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(entry: DeadLetter): Promise<void> {
    const truncated = entry.payload.length > DEAD_LETTER_PAYLOAD_MAX_CHARS;
    const item: DeadLetter & { pk: string; sk: string; expiresAt: number } = {
      ...entry,
      ...(truncated && {
        payload: entry.payload.slice(0, DEAD_LETTER_PAYLOAD_MAX_CHARS),
        payloadTruncated: true,
      }),
      pk: deadLetterPartition(entry.source, entry.ts),
      sk: `${String(entry.ts).padStart(13, '0')}#${entry.id}`,
      expiresAt: Math.floor(entry.ts / 1000) + DEAD_LETTER_RETENTION_S,
    };
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  /** Entries of one source and UTC day, oldest first. */
  async list(source: string, day: string): Promise<DeadLetter[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `DLQ#${source}#${day}` },
    });
    return items.map(({ pk: _pk, sk: _sk, expiresAt: _expiresAt, ...entry }) => entry as DeadLetter);
  }
}
