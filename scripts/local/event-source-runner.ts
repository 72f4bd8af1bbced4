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
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  type _Record,
  DescribeStreamSummaryCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import { CheckpointStore } from './checkpoint-store.js';
import type { EventSourceRunnerOptions } from './event-source-options.js';
import { lambdaContext, type OnFailureRecord, toLambdaRecord } from './lambda-shapes.js';
import { type InvokeResult, type PollerHost, ShardPoller } from './shard-poller.js';

// Callers take the options from the runner; they have a module of their own as the pollers read them too.
export type { EventSourceRunnerOptions };

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

export class EventSourceRunner implements PollerHost {
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
