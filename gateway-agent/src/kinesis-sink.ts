/**
 * Ships the spool to Kinesis with PutRecords (docs/architecture.md section 4). A record is one treadmill's
 * consecutive unacked events, `{ "v": 1, gymId, treadmillId, epoch, events }`, under partition key
 * `{gymId}/{treadmillId}`; `epoch` names the spool's run of seqs (spool-epoch.ts), and a record holds events
 * of one epoch only.
 * At most one record per treadmill is in flight, so a retry can never reorder a treadmill's events, and a
 * record is rebuilt from the spool's head whenever it is (re)sent. Only the failed entries of a call are
 * retried, each key with its own exponential backoff and full jitter; a call that fails as a whole (network,
 * throttling, credentials) holds back every call behind a shared backoff, for as long as it takes, while the
 * data waits in the spool. A delivered record acks its last seq in the spool.
 */
import { type KinesisClient, PutRecordsCommand, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { KINESIS_RECORD_MAX_BYTES } from '../../shared/src/telemetry/events.js';
import type { Spool } from './spool.js';

export interface SinkOptions {
  client: KinesisClient;
  streamName: string;
  /** How long a treadmill's events may wait to fill a record and a call before they go anyway. Default 250 ms. */
  lingerMs?: number;
  /** Default KINESIS_RECORD_MAX_BYTES (256 KiB); Kinesis itself allows 1 MiB with the partition key. */
  maxRecordBytes?: number;
  /** First backoff step; the n-th retry waits random() * min(retryCapMs, retryBaseMs * 2^(n-1)). Default 100 ms. */
  retryBaseMs?: number;
  retryCapMs?: number;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
  /** PutRecords calls in flight at once. Default 4. */
  maxCallsInFlight?: number;
  /**
   * Bytes of records in flight at once, across calls: bounds the memory of a backlog drain (the SDK holds
   * a few copies of each call). One call always goes, however large. Default 8 MiB.
   */
  maxInFlightBytes?: number;
  /** A call not answered in this long is aborted and retried. Default 30 s. */
  callTimeoutMs?: number;
  /** Delivery problems and recoveries. Default console.warn. */
  log?: (line: string) => void;
}

export interface SinkStats {
  recordsOut: number;
  eventsOut: number;
  /** Bytes of delivered records (data and partition key). */
  bytesOut: number;
  /** Records scheduled again after a failed entry or a failed call. */
  retries: number;
  /** Entries or calls refused for throughput (ProvisionedThroughputExceededException and the like). */
  throttles: number;
  failedCalls: number;
  lastSuccessTs: number | null;
  /** Records in flight. */
  inFlight: number;
}

/** PutRecords limits per call. */
const MAX_ENTRIES_PER_CALL = 500;
const MAX_BYTES_PER_CALL = 5 * 1024 * 1024;
const MAX_RECORD_BYTES_KINESIS = 1024 * 1024;
const DEFAULT_MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;
/** Room for a record's head (ids, epoch) and its commas: events beyond maxRecordBytes less this fill it. */
const RECORD_HEAD_ALLOWANCE = 512;
const THROTTLE_CODES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'LimitExceededException',
  'KMSThrottlingException',
]);

interface OutgoingRecord {
  readonly key: string;
  readonly lastSeq: number;
  readonly events: number;
  readonly data: Buffer;
  /** What counts against the call's 5 MiB: data and partition key. */
  readonly bytes: number;
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : 'Error');
const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class KinesisSink {
  private readonly client: KinesisClient;
  private readonly streamName: string;
  private readonly lingerMs: number;
  private readonly maxRecordBytes: number;
  private readonly retryBaseMs: number;
  private readonly retryCapMs: number;
  private readonly random: () => number;
  private readonly maxCallsInFlight: number;
  private readonly maxInFlightBytes: number;
  private readonly callTimeoutMs: number;
  private readonly log: (line: string) => void;

  private running = false;
  private unsubscribe: (() => void) | undefined;
  private pumpTimer: NodeJS.Timeout | undefined;
  private pumpAt = Number.POSITIVE_INFINITY;

  private readonly inFlight = new Set<string>();
  /** When each key was first seen ready and unsent: lingering counts from there. */
  private readonly readySince = new Map<string, number>();
  /** The first append notice since the last pump: keys it made ready have lingered since then. */
  private appendedSince: number | undefined;
  /** Per key, after a failed entry: attempts so far and when the next may go. */
  private readonly keyAttempts = new Map<string, number>();
  private readonly keyRetryAt = new Map<string, number>();
  /** After a failed call: consecutive failures and when the next call may go. */
  private callFailures = 0;
  private callRetryAt = 0;
  private readonly calls = new Set<AbortController>();
  private inFlightBytes = 0;
  private idleWaiters: Array<() => void> = [];

  private readonly counters: Omit<SinkStats, 'inFlight'> = {
    recordsOut: 0,
    eventsOut: 0,
    bytesOut: 0,
    retries: 0,
    throttles: 0,
    failedCalls: 0,
    lastSuccessTs: null,
  };

  constructor(
    private readonly spool: Spool,
    options: SinkOptions,
  ) {
    this.client = options.client;
    this.streamName = options.streamName;
    this.lingerMs = nonNegative('lingerMs', options.lingerMs ?? 250);
    this.maxRecordBytes = options.maxRecordBytes ?? KINESIS_RECORD_MAX_BYTES;
    if (!(this.maxRecordBytes >= 1024 && this.maxRecordBytes <= MAX_RECORD_BYTES_KINESIS)) {
      throw new RangeError(`sink maxRecordBytes must be within 1 KiB and 1 MiB`);
    }
    this.retryBaseMs = nonNegative('retryBaseMs', options.retryBaseMs ?? 100);
    this.retryCapMs = nonNegative('retryCapMs', options.retryCapMs ?? 30_000);
    this.random = options.random ?? Math.random;
    this.maxCallsInFlight = Math.max(1, Math.floor(options.maxCallsInFlight ?? 4));
    this.maxInFlightBytes = nonNegative(
      'maxInFlightBytes',
      options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES,
    );
    this.callTimeoutMs = nonNegative('callTimeoutMs', options.callTimeoutMs ?? 30_000);
    this.log = options.log ?? ((line) => console.warn(line));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // New events make keys ready; unless a record or a call fills, they go when their linger ends.
    this.unsubscribe = this.spool.onAppend(() => {
      const now = Date.now();
      this.appendedSince ??= now;
      this.schedulePump(now + this.lingerMs);
    });
    this.schedulePump(Date.now());
  }

  /** Stop taking new work; wait up to timeoutMs for in-flight puts; what is left stays in the spool. */
  async stop(timeoutMs: number): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    if (this.calls.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    // Unanswered puts are abandoned: their events were never acked, so they stay in the spool.
    for (const call of this.calls) call.abort();
  }

  stats(): SinkStats {
    return { ...this.counters, inFlight: this.inFlight.size };
  }

  private schedulePump(at: number): void {
    if (!this.running || (this.pumpTimer !== undefined && this.pumpAt <= at)) return;
    clearTimeout(this.pumpTimer);
    this.pumpAt = at;
    this.pumpTimer = setTimeout(() => this.pump(), Math.max(0, at - Date.now()));
  }

  /**
   * Sends what is due: a key's record once it has lingered, or at once when it is full; a call takes up to
   * 500 due records, so records fill while they linger rather than calls going with one event per record.
   */
  private pump(): void {
    this.pumpTimer = undefined;
    this.pumpAt = Number.POSITIVE_INFINITY;
    if (!this.running) return;
    const now = Date.now();
    if (this.callRetryAt > now) {
      this.schedulePump(this.callRetryAt);
      return;
    }
    const becameReady = this.appendedSince ?? now;
    this.appendedSince = undefined;
    let wakeAt = Number.POSITIVE_INFINITY;
    const due: string[] = [];
    for (const key of this.spool.keysWithBacklog()) {
      if (this.inFlight.has(key)) continue;
      const retryAt = this.keyRetryAt.get(key) ?? 0;
      if (retryAt > now) {
        wakeAt = Math.min(wakeAt, retryAt);
        continue;
      }
      let readySince = this.readySince.get(key);
      if (readySince === undefined) this.readySince.set(key, (readySince = becameReady));
      const lingerEnds = readySince + this.lingerMs;
      if (lingerEnds <= now || this.spool.peekableBytes(key) >= this.maxRecordBytes - RECORD_HEAD_ALLOWANCE)
        due.push(key);
      else wakeAt = Math.min(wakeAt, lingerEnds);
    }
    let next = 0;
    while (next < due.length && this.calls.size < this.maxCallsInFlight) {
      const records = this.buildCall(due, next);
      if (records.length === 0) break; // maxInFlightBytes reached: the rest goes when a call is answered
      next += records.length;
      void this.send(records);
    }
    if (wakeAt < Number.POSITIVE_INFINITY) this.schedulePump(wakeAt);
  }

  /**
   * One call's worth of records from `keys[from..]`: up to 500 entries and 5 MiB, within what
   * maxInFlightBytes leaves; with nothing in flight its first record goes however large, so nothing stalls.
   */
  private buildCall(keys: readonly string[], from: number): OutgoingRecord[] {
    const records: OutgoingRecord[] = [];
    const limit = Math.min(MAX_BYTES_PER_CALL, this.maxInFlightBytes - this.inFlightBytes);
    let bytes = 0;
    for (let index = from; index < keys.length && records.length < MAX_ENTRIES_PER_CALL; index++) {
      const record = this.buildRecord(keys[index]!);
      const alone = records.length === 0 && this.calls.size === 0;
      if (bytes + record.bytes > limit && !alone) break;
      records.push(record);
      bytes += record.bytes;
    }
    return records;
  }

  private buildRecord(key: string): OutgoingRecord {
    const slash = key.indexOf('/');
    const ids = `"v":1,"gymId":${JSON.stringify(key.slice(0, slash))},"treadmillId":${JSON.stringify(key.slice(slash + 1))}`;
    // Sized for the longer head, with the epoch, whichever the events turn out to need.
    const longest = `{${ids},"epoch":${JSON.stringify(this.spool.epoch)},"events":`;
    const peeked = this.spool.peekEncoded(
      key,
      Number.MAX_SAFE_INTEGER,
      this.maxRecordBytes - Buffer.byteLength(longest) - 1,
    );
    const epoch = this.spool.epochOf(key, peeked[0]!.seq);
    // Events spooled before the spool had an epoch (an older gateway's) go without one, and alone, so that
    // a record ingest may already have applied never comes back under a new epoch.
    const events =
      epoch === undefined
        ? peeked.filter((event) => this.spool.epochOf(key, event.seq) === undefined)
        : peeked;
    const head = epoch === undefined ? `{${ids},"events":` : longest;
    const data = Buffer.from(`${head}[${events.map((event) => event.json).join(',')}]}`);
    return {
      key,
      lastSeq: events.at(-1)!.seq,
      events: events.length,
      data,
      bytes: data.length + Buffer.byteLength(key),
    };
  }

  private async send(records: readonly OutgoingRecord[]): Promise<void> {
    const call = new AbortController();
    this.calls.add(call);
    const callBytes = records.reduce((sum, record) => sum + record.bytes, 0);
    this.inFlightBytes += callBytes;
    for (const record of records) this.inFlight.add(record.key);
    const timeout = setTimeout(() => call.abort(), this.callTimeoutMs);
    try {
      const output = await this.client.send(
        new PutRecordsCommand({
          StreamName: this.streamName,
          Records: records.map((record) => ({ PartitionKey: record.key, Data: record.data })),
        }),
        { abortSignal: call.signal },
      );
      this.callSucceeded();
      const results: PutRecordsResultEntry[] = output.Records ?? [];
      records.forEach((record, index) => {
        const result = results[index];
        if (result !== undefined && result.ErrorCode === undefined) this.delivered(record);
        else this.entryFailed(record, result?.ErrorCode ?? 'MissingResult');
      });
    } catch (error) {
      this.callFailed(error, records);
    } finally {
      clearTimeout(timeout);
      this.calls.delete(call);
      this.inFlightBytes -= callBytes;
      for (const record of records) this.inFlight.delete(record.key);
      this.schedulePump(Date.now());
      if (this.calls.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private delivered(record: OutgoingRecord): void {
    this.spool.ack(record.key, record.lastSeq);
    this.readySince.delete(record.key);
    this.keyAttempts.delete(record.key);
    this.keyRetryAt.delete(record.key);
    this.counters.recordsOut++;
    this.counters.eventsOut += record.events;
    this.counters.bytesOut += record.bytes;
    this.counters.lastSuccessTs = Date.now();
  }

  /** Only this entry goes again, after its key's own backoff; its readiness is kept, so it will not linger. */
  private entryFailed(record: OutgoingRecord, code: string): void {
    this.counters.retries++;
    if (THROTTLE_CODES.has(code)) this.counters.throttles++;
    const attempts = (this.keyAttempts.get(record.key) ?? 0) + 1;
    this.keyAttempts.set(record.key, attempts);
    this.keyRetryAt.set(record.key, Date.now() + this.backoff(attempts));
  }

  private callSucceeded(): void {
    if (this.callFailures > 0)
      this.log(`kinesis: PutRecords recovered after ${this.callFailures} failed calls`);
    this.callFailures = 0;
    this.callRetryAt = 0;
  }

  /** The endpoint, not the records, failed: every call waits out one shared backoff. */
  private callFailed(error: unknown, records: readonly OutgoingRecord[]): void {
    this.counters.failedCalls++;
    this.counters.retries += records.length;
    if (THROTTLE_CODES.has(errorName(error))) this.counters.throttles++;
    if (this.callFailures === 0 && this.running) {
      this.log(
        `kinesis: PutRecords failed (${errorName(error)}: ${errorMessage(error)}); retrying with backoff, events wait in the spool`,
      );
    }
    this.callFailures++;
    this.callRetryAt = Math.max(this.callRetryAt, Date.now() + this.backoff(this.callFailures));
  }

  private backoff(attempt: number): number {
    return fullJitterBackoff(attempt, this.retryBaseMs, this.retryCapMs, this.random);
  }
}

/** Exponential backoff with full jitter: the n-th attempt waits random() * min(cap, base * 2^(n-1)). */
export function fullJitterBackoff(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number,
): number {
  return random() * Math.min(capMs, baseMs * 2 ** (attempt - 1));
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`sink ${name} must be >= 0`);
  return value;
}
