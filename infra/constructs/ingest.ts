/**
 * Stream processing (docs/architecture.md section 5): the ingest function and its Kinesis event source mapping.
 *
 * The mapping reports partial batch failures (functions/ingest fails only the records of a treadmill whose
 * write failed), halves a failing batch to isolate a poison record, retries a bounded number of times, drops
 * records older than a bound, and parks what it gave up on in an encrypted queue. One batch per shard at a
 * time (parallelization 1) keeps each treadmill's records in order.
 */
import { Duration } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { EventSourceMapping, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DeployConfig } from '../config.js';
import { INGEST_MAX_RECORD_AGE_HOURS } from '../stream-retention.js';
import type { Alerts } from './alerts.js';
import type { DataTables, TableAccess } from './data-tables.js';
import type { FailureQueue } from './failure-queue.js';
import { ServiceFunction } from './service-function.js';
import type { TelemetryStream } from './telemetry-stream.js';

/** What the processor (functions/lib/treadmill-processor.ts), dead letters and alert delivery touch. */
export const PROCESSOR_ACCESS = {
  fleet: ['GetItem', 'UpdateItem'],
  sessions: ['PutItem'],
  // Rollups: read, add (conditional update), marker puts, and the delete of marked entries (section 7.2).
  rollups: ['GetItem', 'PutItem', 'UpdateItem'],
  members: ['GetItem'],
  // Open alerts of a treadmill (the table), then the outbox (the notifyPending index) and its clearing.
  alerts: ['GetItem', 'PutItem', 'Query', 'Query@notifyPending', 'UpdateItem'],
} as const satisfies TableAccess;

export const INGEST_ACCESS = {
  ...PROCESSOR_ACCESS,
  deadletter: ['PutItem'],
} as const satisfies TableAccess;

/** A batch is retried this often (halved each time) before it goes to the failure queue. */
export const INGEST_RETRY_ATTEMPTS = 8;
/**
 * Records older than this go to the failure queue unprocessed: a day-long outage still drains in order. The
 * stream keeps them a replay window longer (config.ts refuses less), so they can be re-driven (section 5.5).
 */
export const INGEST_MAX_RECORD_AGE = Duration.hours(INGEST_MAX_RECORD_AGE_HOURS);
/**
 * Kinesis's maximum, so that the batching window, not the size, closes a busy shard's batch: each treadmill
 * then commits once per window (docs/architecture.md section 5.1); at 100, a shard of 1,000 treadmills would
 * commit each one per record. Lambda's 6 MB payload still closes a batch early when records are large.
 */
export const INGEST_BATCH_SIZE = 10_000;

export interface IngestProps {
  readonly config: Pick<DeployConfig, 'batchingWindowSeconds'>;
  readonly stream: TelemetryStream;
  readonly tables: DataTables;
  readonly alerts: Alerts;
  readonly failures: FailureQueue;
  readonly logKey: IKey;
  readonly logRetention: RetentionDays;
}

export class Ingest extends Construct {
  readonly function: ServiceFunction;
  readonly eventSource: EventSourceMapping;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    this.function = new ServiceFunction(this, 'Ingest', {
      name: 'ingest',
      description: 'Kinesis telemetry to sessions, fleet state, rollups and alerts in DynamoDB',
      environment: { TABLE_PREFIX: props.tables.prefix, ...props.alerts.transportEnvironment },
      // The ingest benchmark's cost model assumes 1 GB (a full vCPU share for decoding and the SDK).
      memorySize: 1024,
      timeout: Duration.minutes(1),
      logRetention: props.logRetention,
      logKey: props.logKey,
      invocation: {
        kind: 'synchronous',
        by: 'its Kinesis event source mapping (on failure: the ingest failure queue)',
      },
    });
    const role = this.function.role;
    props.stream.grantConsume(role);
    props.tables.grant(role, INGEST_ACCESS);
    props.alerts.grantPublish(role);

    this.eventSource = new EventSourceMapping(this, 'FromStream', {
      target: this.function.fn,
      eventSourceArn: props.stream.stream.streamArn,
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: INGEST_BATCH_SIZE,
      maxBatchingWindow: Duration.seconds(props.config.batchingWindowSeconds),
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: INGEST_RETRY_ATTEMPTS,
      maxRecordAge: INGEST_MAX_RECORD_AGE,
      parallelizationFactor: 1,
      onFailure: props.failures,
    });
    // Lambda checks the role's stream access when it creates the mapping.
    this.eventSource.node.addDependency(role);
  }
}
