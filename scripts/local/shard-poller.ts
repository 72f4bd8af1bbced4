/**
 * One shard of the local event-source runner: reads it in order, cuts batches (size, batching window, payload
 * limit), hands them to the runner to invoke, and on a failure checkpoints past what got through, retries,
 * bisects or gives up, as Lambda's event source mapping does. The runner's header lists the semantics.
 */
import { randomUUID } from 'node:crypto';
import { type _Record, ExpiredIteratorException, GetRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import type { CheckpointStore } from './checkpoint-store.js';
import type { EventSourceRunnerOptions } from './event-source-options.js';
import type { OnFailureRecord } from './lambda-shapes.js';

/** Lambda's synchronous invocation payload limit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const GET_RECORDS_LIMIT = 10_000;

interface Buffered {
  record: KinesisStreamRecord;
  bytes: number;
  bufferedAt: number;
}

export type InvokeResult =
  | { kind: 'ok' }
  | { kind: 'partial'; failedIndex: number; failedIndices: number[] }
  | { kind: 'error'; message: string };

/** What a poller asks of its runner; an interface, so that this module does not import the runner's. */
export interface PollerHost {
  readonly options: EventSourceRunnerOptions;
  readonly checkpoints: CheckpointStore;
  readonly streamArn: string;
  readonly functionArn: string;
  /** While set, the batching window does not hold records back. */
  readonly draining: boolean;
  iteratorFor(shardId: string, after: string | undefined): Promise<string | undefined>;
  lambdaRecord(shardId: string, record: _Record): KinesisStreamRecord;
  invoke(records: KinesisStreamRecord[]): Promise<InvokeResult>;
  destination(shardId: string): string;
  reportFailure(failure: OnFailureRecord): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `gymId/treadmillId` from a record a gateway sent (JSON {v, gymId, treadmillId, events}), else its partition key. */
export function treadmillOf(record: KinesisStreamRecord): string {
  try {
    const payload = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as unknown;
    if (typeof payload === 'object' && payload !== null) {
      const { gymId, treadmillId } = payload as { gymId?: unknown; treadmillId?: unknown };
      if (typeof gymId === 'string' && typeof treadmillId === 'string') return `${gymId}/${treadmillId}`;
    }
  } catch {
    // Not JSON: the partition key still tells where it came from.
  }
  return record.kinesis.partitionKey || 'an unreadable record';
}

/** The treadmills of some records, first seen first, at most three named. */
function treadmillsOf(records: readonly KinesisStreamRecord[]): string {
  const names = [...new Set(records.map(treadmillOf))];
  return names.length <= 3
    ? names.join(', ')
    : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

export class ShardPoller {
  private buffer: Buffered[] = [];
  private iterator: string | undefined;
  private lastFetched: string | undefined;
  private endOfShard = false;
  private caughtUp = false;
  private busy = false;
  /** A drain waits for a fetch that started after it: generations tell such fetches apart. */
  private drainGeneration = 0;
  private fetchedGeneration = -1;
  private wake: (() => void) | undefined;
  /** Consecutive failed deliveries starting at the same record. */
  private failures = { sequenceNumber: '', attempts: 0 };
  /** While bisecting: the batch size limit and the last record of the batch that failed. */
  private bisect: { limit: number; untilSequence: string } | undefined;
  invocations = 0;
  /** Records through: delivered, or given up and reported. */
  recordsDelivered = 0;

  constructor(
    private readonly runner: PollerHost,
    readonly shardId: string,
  ) {}

  private get closed(): boolean {
    return this.endOfShard && this.buffer.length === 0;
  }

  get idle(): boolean {
    if (this.busy || this.buffer.length > 0) return false;
    return this.closed || (this.caughtUp && this.fetchedGeneration === this.drainGeneration);
  }

  resetDrain(): void {
    this.drainGeneration++;
    this.wake?.();
  }

  async run(stopped: () => boolean): Promise<void> {
    const o = this.runner.options;
    while (!stopped() && !this.closed) {
      if (this.buffer.length < (o.batchSize ?? 100)) await this.fetch();
      const batch = this.nextBatch();
      if (!batch) {
        const first = this.buffer[0];
        const poll = o.pollIntervalMs ?? 1000;
        // Waiting for the batching window to close, or for new records on a caught-up shard.
        const windowLeft = first ? first.bufferedAt + (o.batchingWindowMs ?? 0) - Date.now() : poll;
        await this.pause(this.caughtUp || first ? Math.min(poll, Math.max(windowLeft, 1)) : 0);
        continue;
      }
      this.busy = true;
      try {
        await this.deliver(batch);
      } finally {
        this.busy = false;
      }
    }
  }

  private async pause(ms: number): Promise<void> {
    if (ms <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  private async fetch(): Promise<void> {
    if (this.endOfShard) return;
    const { kinesis } = this.runner.options;
    const generation = this.drainGeneration;
    this.iterator ??= await this.runner.iteratorFor(this.shardId, this.lastFetched);
    if (this.iterator === undefined) {
      this.endOfShard = true;
      return;
    }
    try {
      const page = await kinesis.send(
        new GetRecordsCommand({ ShardIterator: this.iterator, Limit: GET_RECORDS_LIMIT }),
      );
      const now = Date.now();
      for (const record of page.Records ?? []) {
        const lambdaRecord = this.runner.lambdaRecord(this.shardId, record);
        this.buffer.push({
          record: lambdaRecord,
          bytes: lambdaRecord.kinesis.data.length + 512,
          bufferedAt: now,
        });
        this.lastFetched = record.SequenceNumber;
      }
      this.iterator = page.NextShardIterator;
      // A closed shard (after resharding) has no next iterator once read to its end.
      this.endOfShard = this.iterator === undefined;
      this.caughtUp = (page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0;
      this.fetchedGeneration = generation;
    } catch (error) {
      if (!(error instanceof ExpiredIteratorException)) throw error;
      this.iterator = undefined;
    }
  }

  /** The batch to deliver now, or undefined while the batching window is still open. */
  private nextBatch(): Buffered[] | undefined {
    const o = this.runner.options;
    const first = this.buffer[0];
    if (!first) return undefined;
    const limit = this.bisect?.limit ?? o.batchSize ?? 100;
    const batch: Buffered[] = [];
    let bytes = 0;
    for (const entry of this.buffer) {
      if (batch.length >= limit || (batch.length > 0 && bytes + entry.bytes > MAX_PAYLOAD_BYTES)) break;
      batch.push(entry);
      bytes += entry.bytes;
    }
    const full = batch.length >= limit || batch.length < this.buffer.length;
    const windowOver = Date.now() - first.bufferedAt >= (o.batchingWindowMs ?? 0);
    if (full || windowOver || this.runner.draining || this.failures.attempts > 0) return batch;
    return undefined;
  }

  private async deliver(batch: Buffered[]): Promise<void> {
    const o = this.runner.options;
    const maxAge = o.maximumRecordAgeMs ?? -1;
    if (maxAge >= 0) {
      const now = (o.now ?? Date.now)();
      const fresh = batch.findIndex(
        (entry) => now - entry.record.kinesis.approximateArrivalTimestamp * 1000 <= maxAge,
      );
      // Arrival times grow along the shard: the expired records are a prefix.
      const expired = batch.slice(0, fresh < 0 ? batch.length : fresh);
      if (expired.length > 0) {
        await this.giveUp(expired, 'RecordAgeExceeded', 0);
        o.log?.(
          `${plural(expired.length, 'record')} on ${this.shardId} for ` +
            `${treadmillsOf(expired.map((entry) => entry.record))} are older than the maximum record age ` +
            `(${maxAge} ms), not delivered: ${this.runner.destination(this.shardId)}`,
          { shardId: this.shardId, size: expired.length, condition: 'RecordAgeExceeded' },
        );
        return;
      }
    }
    this.invocations++;
    const result = await this.runner.invoke(batch.map((entry) => entry.record));
    if (result.kind === 'ok') {
      await this.done(batch.length);
      return;
    }
    const failedFrom = result.kind === 'partial' ? result.failedIndex : 0;
    if (failedFrom > 0) await this.done(failedFrom);
    const failing = batch.slice(failedFrom);
    const head = failing[0]!.record.kinesis.sequenceNumber;
    this.failures =
      this.failures.sequenceNumber === head
        ? { sequenceNumber: head, attempts: this.failures.attempts + 1 }
        : { sequenceNumber: head, attempts: 1 };
    if (result.kind === 'error' && o.bisectBatchOnFunctionError && failing.length > 1) {
      this.bisect = {
        limit: Math.ceil(failing.length / 2),
        untilSequence: failing.at(-1)!.record.kinesis.sequenceNumber,
      };
    }
    const maxRetries = o.maximumRetryAttempts ?? -1;
    const attempt = this.failures.attempts;
    // The dev console prints the message alone: it carries who, what, which attempt and what comes next.
    const records = batch.map((entry) => entry.record);
    const what =
      result.kind === 'error'
        ? `for ${treadmillsOf(failing.map((entry) => entry.record))} (${plural(failing.length, 'record')}): ` +
          result.message
        : `for ${treadmillsOf(result.failedIndices.map((i) => records[i]!))}: the handler reported ` +
          `${result.failedIndices.length} of ${plural(batch.length, 'record')} failed ` +
          `(first item ${head}; its error is in the handler's log)`;
    const of = maxRetries >= 0 ? ` of ${maxRetries + 1}` : ' (no retry limit)';
    const fields = {
      shardId: this.shardId,
      from: head,
      size: failing.length,
      attempt,
      ...(result.kind === 'error' && { error: result.message }),
    };
    if (maxRetries >= 0 && attempt > maxRetries) {
      await this.giveUp(failing, 'RetryAttemptsExhausted', attempt, result);
      o.log?.(
        `batch failed on ${this.shardId} ${what}; attempt ${attempt}${of}, giving up: ${this.runner.destination(this.shardId)}`,
        fields,
      );
      return;
    }
    const delay = o.retryDelayMs?.(attempt) ?? Math.min(100 * 2 ** attempt, 5_000);
    const next =
      result.kind === 'partial'
        ? `retrying from that item in ${delay} ms`
        : this.bisect && this.bisect.limit < failing.length
          ? `retrying in ${delay} ms with the first ${this.bisect.limit} records (bisecting)`
          : `retrying in ${delay} ms`;
    o.log?.(`batch failed on ${this.shardId} ${what}; attempt ${attempt}${of}, ${next}`, fields);
    await sleep(delay);
  }

  /** The first `count` buffered records are through: checkpoint after them. */
  private async done(count: number): Promise<void> {
    const through = this.buffer.splice(0, count);
    this.recordsDelivered += through.length;
    const last = through.at(-1)!.record.kinesis.sequenceNumber;
    if (this.failures.sequenceNumber !== '' && compareSequence(this.failures.sequenceNumber, last) <= 0) {
      this.failures = { sequenceNumber: '', attempts: 0 };
    }
    if (this.bisect && compareSequence(last, this.bisect.untilSequence) >= 0) this.bisect = undefined;
    await this.runner.checkpoints.set(this.shardId, last);
  }

  private async giveUp(
    batch: Buffered[],
    condition: OnFailureRecord['requestContext']['condition'],
    invokeCount: number,
    result?: InvokeResult,
  ): Promise<void> {
    const first = batch[0]!.record;
    const last = batch.at(-1)!.record;
    const iso = (record: KinesisStreamRecord) =>
      new Date(record.kinesis.approximateArrivalTimestamp * 1000).toISOString();
    await this.runner.reportFailure({
      requestContext: {
        requestId: randomUUID(),
        functionArn: this.runner.functionArn,
        condition,
        approximateInvokeCount: invokeCount,
      },
      responseContext: {
        statusCode: 200,
        executedVersion: '$LATEST',
        ...(result?.kind === 'error' && { functionError: 'Unhandled' }),
      },
      version: '1.0',
      timestamp: new Date().toISOString(),
      KinesisBatchInfo: {
        shardId: this.shardId,
        startSequenceNumber: first.kinesis.sequenceNumber,
        endSequenceNumber: last.kinesis.sequenceNumber,
        approximateArrivalOfFirstRecord: iso(first),
        approximateArrivalOfLastRecord: iso(last),
        batchSize: batch.length,
        streamArn: this.runner.streamArn,
      },
    });
    this.failures = { sequenceNumber: '', attempts: 0 };
    await this.done(batch.length);
  }
}

/** Kinesis sequence numbers are decimal strings of varying length. */
const compareSequence = (a: string, b: string): number =>
  a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
