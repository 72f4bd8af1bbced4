/**
 * Kinesis to DynamoDB (docs/architecture.md section 5): one batch of the ingest function.
 *
 * Writes are per treadmill per batch, so the batch is decoded first and grouped by treadmill, and each
 * treadmill's events are applied with one commit (treadmill-processor.ts), treadmills concurrently.
 * Powertools' BatchProcessor (processInParallel: false) then walks the records in order and builds the partial
 * batch response: a record's handler only awaits the outcome of its treadmill (and of its dead letters).
 * Powertools' per-record model cannot express one write per treadmill; this keeps its ordering, failure
 * collection, logging and all-failed handling.
 *
 * - A treadmill whose work fails fails all its records of the batch: its later records fail with it, and its
 *   earlier ones are replayed harmlessly (below the watermark).
 * - A malformed record goes to the dead-letter table whole and succeeds; a malformed event goes there alone
 *   and the rest of its record is applied. Only a failed dead-letter write fails the record.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { mapWithConcurrency } from './concurrency.js';
import type { DeadLetterRepo } from './deadletter-repo.js';
import { type DecodedRecord, decodeRecord } from './ingest-decode.js';
import type { TreadmillProcessor } from './treadmill-processor.js';

export const DEAD_LETTER_SOURCE = 'ingest';
/** Treadmills processed at once: each waits on a few DynamoDB round trips in turn. */
const DEFAULT_CONCURRENCY = 16;

export interface IngestDeps {
  processor: TreadmillProcessor;
  deadLetters: DeadLetterRepo;
  notify?: () => Promise<unknown>;
  concurrency?: number;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Outcomes are created up front and awaited in record order later: they must never reject unobserved. */
const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

interface TreadmillWork {
  gymId: string;
  treadmillId: string;
  events: TelemetryEvent[];
}

/** A treadmill's events of the whole batch in seq order, each seq once (duplicated records are expected). */
function groupByTreadmill(decoded: readonly DecodedRecord[]): Map<string, TreadmillWork> {
  const groups = new Map<string, TreadmillWork>();
  for (const entry of decoded) {
    if (!entry.ok) continue;
    const key = `${entry.gymId}/${entry.treadmillId}`;
    let group = groups.get(key);
    if (!group) {
      group = { gymId: entry.gymId, treadmillId: entry.treadmillId, events: [] };
      groups.set(key, group);
    }
    group.events.push(...entry.events);
  }
  for (const group of groups.values()) {
    const bySeq = new Map<number, TelemetryEvent>();
    for (const event of group.events) if (!bySeq.has(event.seq)) bySeq.set(event.seq, event);
    group.events = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
  return groups;
}

/** Writes the record's dead letters: the whole record when it is malformed, else each malformed event. */
function writeDeadLetters(entry: DecodedRecord, deadLetters: DeadLetterRepo): Promise<unknown> {
  const { kinesis } = entry.record;
  const common = {
    source: DEAD_LETTER_SOURCE,
    ts: Math.round(kinesis.approximateArrivalTimestamp * 1000),
    sequenceNumber: kinesis.sequenceNumber,
    partitionKey: kinesis.partitionKey,
    shardId: entry.record.eventID.split(':')[0] ?? '',
  };
  if (!entry.ok) {
    return deadLetters.put({
      ...common,
      kind: 'record',
      id: kinesis.sequenceNumber,
      reason: entry.reason,
      payload: entry.payload,
    });
  }
  return Promise.all(
    entry.rejected.map((rejected) =>
      deadLetters.put({
        ...common,
        kind: 'event',
        id: `${kinesis.sequenceNumber}#${rejected.index}`,
        reason: rejected.reason,
        payload: rejected.payload,
        gymId: entry.gymId,
        treadmillId: entry.treadmillId,
        eventIndex: rejected.index,
        ...(rejected.seq !== undefined && { seq: rejected.seq }),
      }),
    ),
  );
}

/** The batch applied, metrics recorded; the partial batch response names the records to retry. */
export async function processBatch(
  deps: IngestDeps,
  event: KinesisStreamEvent,
  context: Context,
  logger: Logger,
  metrics: Metrics,
): Promise<KinesisStreamBatchResponse> {
  const decoded = new Map(event.Records.map((record) => [record, decodeRecord(record)]));
  const groups = [...groupByTreadmill([...decoded.values()]).entries()];
  const [deadLettered, outcomes] = await Promise.all([
    Promise.all(
      [...decoded.values()].map(
        async (entry) => [entry.record, await settle(writeDeadLetters(entry, deps.deadLetters))] as const,
      ),
    ),
    mapWithConcurrency(groups, deps.concurrency ?? DEFAULT_CONCURRENCY, ([, work]) =>
      settle(deps.processor.ingest({ gymId: work.gymId, treadmillId: work.treadmillId }, work.events)),
    ),
  ]);
  const deadLetterOutcome = new Map(deadLettered);
  const treadmillOutcome = new Map(groups.map(([key], index) => [key, outcomes[index]]));

  // Counted before processPartialResponse, which throws when every record failed: that batch's metrics
  // (TreadmillsFailed above all) must reach CloudWatch too, and an empty buffer only gets Powertools' warning.
  let transitions = 0;
  const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  const entries = [...decoded.values()];
  count('Records', event.Records.length);
  count('MalformedRecords', entries.filter((d) => !d.ok).length);
  count(
    'MalformedEvents',
    entries.reduce((n, d) => n + (d.ok ? d.rejected.length : 0), 0),
  );
  count('TreadmillsFailed', outcomes.filter((o) => !o.ok).length);
  for (const [index, outcome] of outcomes.entries()) {
    if (!outcome.ok) {
      logger.error('treadmill batch failed; its records are retried', {
        treadmill: groups[index]?.[0],
        error: outcome.error instanceof Error ? outcome.error : String(outcome.error),
      });
      continue;
    }
    count('EventsApplied', outcome.value.applied);
    count('EventsSkipped', outcome.value.skipped);
    count('SessionsStarted', outcome.value.sessionsStarted);
    count('SessionsEnded', outcome.value.sessionsEnded);
    transitions += outcome.value.transitions.length;
  }
  count('AlertTransitions', transitions);

  const recordHandler = async (record: KinesisStreamRecord): Promise<void> => {
    const dead = deadLetterOutcome.get(record);
    if (dead && !dead.ok) throw dead.error;
    const entry = decoded.get(record);
    if (!entry?.ok) return;
    const outcome = treadmillOutcome.get(`${entry.gymId}/${entry.treadmillId}`);
    if (outcome && !outcome.ok) throw outcome.error;
  };
  const response = await processPartialResponse(
    event,
    recordHandler,
    new BatchProcessor(EventType.KinesisDataStreams),
    {
      context,
      processInParallel: false,
    },
  );

  if (transitions > 0 && deps.notify) {
    // The notifier's schedule is the backstop: a failed delivery here must not fail the batch.
    await deps
      .notify()
      .catch((error: unknown) => logger.warn('alert delivery deferred', { error: String(error) }));
  }
  return response;
}
