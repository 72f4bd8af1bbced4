/**
 * The local stand-in for Lambda's Kinesis event source mapping: reads the emulator's shards and invokes the
 * real handler with Lambda's event shape, with the mapping's semantics. All processing logic stays in the
 * handler; this only decides what to deliver again.
 *
 * - One poller per shard, one batch in flight per shard (parallelization factor 1), records in order.
 * - A batch is delivered when it holds `batchSize` records, when the oldest buffered record has waited
 *   `batchingWindowMs`, or when it would pass the 6 MB invocation payload limit.
 * - ReportBatchItemFailures: the checkpoint moves to just before the lowest failed sequence number and
 *   delivery resumes from that record (an unknown or empty identifier fails the whole batch, as in Lambda).
 * - A function error retries the batch; with bisect-on-error the next batch is half the size, until the
 *   records of the failed batch are through.
 * - Retries (`maximumRetryAttempts`, -1 = until the records expire) and record age (`maximumRecordAgeMs`,
 *   -1 = forever) are bounded; a batch given up is reported to the on-failure destination (a callback and/or
 *   a JSONL file, with Lambda's metadata: shard, sequence range, batch size), then skipped.
 * - Checkpoints live in memory and, with `checkpointFile`, on disk, so a restarted local stack resumes.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  type _Record,
  DescribeStreamSummaryCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';

export type KinesisBatchHandler = (
  event: KinesisStreamEvent,
  context: Context,
) => Promise<KinesisStreamBatchResponse | undefined>;

export interface OnFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
    approximateInvokeCount: number;
  };
  responseContext: { statusCode: number; executedVersion: string; functionError?: string };
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface EventSourceRunnerOptions {
  kinesis: KinesisClient;
  streamName: string;
  handler: KinesisBatchHandler;
  /** Lambda's default for Kinesis is 100. */
  batchSize?: number;
  batchingWindowMs?: number;
  reportBatchItemFailures?: boolean;
  bisectBatchOnFunctionError?: boolean;
  /** -1: retry until the records expire (Lambda's default). */
  maximumRetryAttempts?: number;
  /** -1: records never expire here (Lambda's default follows the stream's retention). */
  maximumRecordAgeMs?: number;
  onFailure?: (failure: OnFailureRecord) => void | Promise<void>;
  /** Appends each on-failure record as a JSON line. */
  onFailureFile?: string;
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Where checkpoints are kept across restarts; memory only when unset. */
  checkpointFile?: string;
  /** Pause between GetRecords calls of a caught-up shard (Lambda polls about once a second). */
  pollIntervalMs?: number;
  /** Pause before retrying the attempt-th time. */
  retryDelayMs?: (attempt: number) => number;
  functionName?: string;
  region?: string;
  accountId?: string;
  /** The clock for record age; Date.now by default. */
  now?: () => number;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

/** Lambda's synchronous invocation payload limit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const GET_RECORDS_LIMIT = 10_000;

interface Buffered {
  record: KinesisStreamRecord;
  bytes: number;
  bufferedAt: number;
}

type InvokeResult =
  | { kind: 'ok' }
  | { kind: 'partial'; failedIndex: number; failedIndices: number[] }
  | { kind: 'error'; message: string };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An error in one line. Powertools' batch processor throws "All records failed processing. See individual
 * errors below." when every record fails; its record errors are the ones worth reading.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const named = error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  const causes = (error as { recordErrors?: unknown }).recordErrors;
  if (!Array.isArray(causes) || causes.length === 0) return named;
  const distinct = [...new Set(causes.map(describeError))];
  const shown = distinct.slice(0, 2).join('; ');
  const more = distinct.length > 2 ? ` and ${distinct.length - 2} other errors` : '';
  return `${error.name}, every record failed: ${shown}${more}`;
}

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

/** A Kinesis record as Lambda delivers it. */
export function toLambdaRecord(
  record: Pick<_Record, 'Data' | 'PartitionKey' | 'SequenceNumber' | 'ApproximateArrivalTimestamp'>,
  source: { shardId: string; streamArn: string; region: string; invokeIdentityArn: string },
): KinesisStreamRecord {
  const sequenceNumber = record.SequenceNumber ?? '';
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? 0) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${source.shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: source.invokeIdentityArn,
    awsRegion: source.region,
    eventSourceARN: source.streamArn,
  };
}

export function lambdaContext(
  functionName: string,
  region: string,
  accountId: string,
  timeoutMs = 60_000,
): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

class CheckpointStore {
  private readonly positions = new Map<string, string>();
  private writing = Promise.resolve();

  constructor(private readonly file: string | undefined) {}

  async load(): Promise<void> {
    if (!this.file) return;
    try {
      const stored = JSON.parse(await readFile(this.file, 'utf8')) as Record<string, string>;
      for (const [shardId, sequenceNumber] of Object.entries(stored))
        this.positions.set(shardId, sequenceNumber);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  get(shardId: string): string | undefined {
    return this.positions.get(shardId);
  }

  all(): Record<string, string> {
    return Object.fromEntries(this.positions);
  }

  /** Writes are chained so that the file always ends with the newest positions. */
  set(shardId: string, sequenceNumber: string): Promise<void> {
    this.positions.set(shardId, sequenceNumber);
    const file = this.file;
    if (!file) return Promise.resolve();
    const snapshot = JSON.stringify(this.all());
    this.writing = this.writing.then(async () => {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(`${file}.tmp`, snapshot);
      await rename(`${file}.tmp`, file);
    });
    return this.writing;
  }
}

class ShardPoller {
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
    private readonly runner: EventSourceRunner,
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

export class EventSourceRunner {
  readonly options: EventSourceRunnerOptions;
  readonly checkpoints: CheckpointStore;
  streamArn = '';
  functionArn = '';
  draining = false;
  private pollers: ShardPoller[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  private failureError: unknown;

  constructor(options: EventSourceRunnerOptions) {
    this.options = options;
    this.checkpoints = new CheckpointStore(options.checkpointFile);
  }

  private get region(): string {
    return this.options.region ?? 'us-east-1';
  }

  private get accountId(): string {
    return this.options.accountId ?? '000000000000';
  }

  /** Discovers the shards (once: the local stream is not resharded) and starts one poller each. */
  async start(): Promise<void> {
    if (this.running) return;
    await this.checkpoints.load();
    const { kinesis, streamName } = this.options;
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    this.streamArn = summary.StreamDescriptionSummary?.StreamARN ?? '';
    this.functionArn = `arn:aws:lambda:${this.region}:${this.accountId}:function:${this.options.functionName ?? 'ingest'}`;
    const shards = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
    this.pollers = (shards.Shards ?? []).map((shard) => new ShardPoller(this, shard.ShardId ?? ''));
    this.running = Promise.all(
      this.pollers.map((poller) =>
        poller
          .run(() => this.stopped)
          .catch((error: unknown) => {
            this.failureError = error;
            this.options.log?.(
              `shard poller for ${poller.shardId} stopped: ${describeError(error)}; ` +
                'its records are not delivered until the runner is started again',
              { shardId: poller.shardId, error: String(error) },
            );
          }),
      ),
    ).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const poller of this.pollers) poller.resetDrain();
    await this.running;
  }

  /**
   * Resolves once every shard has been read to its end after this call and everything read has been
   * delivered or given up (the batching window does not hold records back meanwhile).
   */
  async drain(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.draining = true;
    try {
      for (const poller of this.pollers) poller.resetDrain();
      while (!this.pollers.every((poller) => poller.idle)) {
        if (this.failureError) throw this.failureError;
        if (Date.now() > deadline)
          throw new Error(`event source runner did not drain within ${timeoutMs} ms`);
        await sleep(5);
      }
    } finally {
      this.draining = false;
    }
  }

  get invocations(): number {
    return this.pollers.reduce((n, poller) => n + poller.invocations, 0);
  }

  get recordsDelivered(): number {
    return this.pollers.reduce((n, poller) => n + poller.recordsDelivered, 0);
  }

  async iteratorFor(shardId: string, after: string | undefined): Promise<string | undefined> {
    const position = after ?? this.checkpoints.get(shardId);
    const input: GetShardIteratorCommandInput = {
      StreamName: this.options.streamName,
      ShardId: shardId,
      ...(position
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: position }
        : { ShardIteratorType: this.options.startingPosition ?? 'TRIM_HORIZON' }),
    };
    const { ShardIterator } = await this.options.kinesis.send(new GetShardIteratorCommand(input));
    return ShardIterator;
  }

  lambdaRecord(shardId: string, record: _Record): KinesisStreamRecord {
    return toLambdaRecord(record, {
      shardId,
      streamArn: this.streamArn,
      region: this.region,
      invokeIdentityArn: `arn:aws:iam::${this.accountId}:role/ingest`,
    });
  }

  async invoke(records: KinesisStreamRecord[]): Promise<InvokeResult> {
    const context = lambdaContext(this.options.functionName ?? 'ingest', this.region, this.accountId);
    let response: KinesisStreamBatchResponse | undefined;
    try {
      response = await this.options.handler({ Records: records }, context);
    } catch (error) {
      return { kind: 'error', message: describeError(error) };
    }
    if (this.options.reportBatchItemFailures === false || !response) return { kind: 'ok' };
    const failures = response.batchItemFailures ?? [];
    if (failures.length === 0) return { kind: 'ok' };
    const failedIndices: number[] = [];
    for (const failure of failures) {
      const index = records.findIndex((record) => record.kinesis.sequenceNumber === failure.itemIdentifier);
      // Lambda fails the whole batch on an identifier that is empty or not in the batch.
      if (index < 0)
        return {
          kind: 'error',
          message: `the handler reported an invalid itemIdentifier "${String(failure.itemIdentifier)}"`,
        };
      if (!failedIndices.includes(index)) failedIndices.push(index);
    }
    failedIndices.sort((a, b) => a - b);
    return { kind: 'partial', failedIndex: failedIndices[0]!, failedIndices };
  }

  /** Where a batch given up went, and how to get it delivered again, for the log. */
  destination(shardId: string): string {
    const { onFailureFile, onFailure, checkpointFile, startingPosition } = this.options;
    if (!onFailureFile && !onFailure) return 'no on-failure destination, so the records are skipped';
    const where = onFailureFile
      ? `its shard and sequence range written to ${onFailureFile}`
      : 'reported to the on-failure destination';
    // Without a checkpoint a shard is read from TRIM_HORIZON again; from LATEST the records would be passed over.
    if (!checkpointFile || startingPosition === 'LATEST') return where;
    return (
      `${where}; to replay, stop, delete "${shardId}" from ${checkpointFile} and start again ` +
      '(the shard is read again from its start)'
    );
  }

  async reportFailure(failure: OnFailureRecord): Promise<void> {
    if (this.options.onFailureFile) {
      await mkdir(dirname(this.options.onFailureFile), { recursive: true });
      await appendFile(this.options.onFailureFile, `${JSON.stringify(failure)}\n`);
    }
    await this.options.onFailure?.(failure);
  }
}
