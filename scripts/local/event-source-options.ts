/**
 * The settings of the local event-source runner: Lambda's event source mapping settings, plus what stands in
 * for Lambda locally (the Kinesis client, the handler, names, the clock). Their own module because the runner
 * and its shard pollers both read them.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { KinesisBatchHandler, OnFailureRecord } from './lambda-shapes.js';

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
