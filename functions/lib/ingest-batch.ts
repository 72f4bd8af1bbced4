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
 * - A treadmill's events are grouped per spool epoch and applied in epoch order (section 5.2); an event's
 *   `ts` ahead of its record's arrival by more than the tolerance was clamped at decode (section 5.1).
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
import type { EpochEvents } from '../../shared/src/metrics/treadmill.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { mapWithConcurrency } from './concurrency.js';
import { type DeadLetterRepo, STREAM_DEAD_LETTER_SOURCE } from './deadletter-repo.js';
import { type DecodedRecord, decodeRecord } from './ingest-decode.js';
import type { TreadmillProcessor } from './treadmill-processor.js';

export const DEAD_LETTER_SOURCE = STREAM_DEAD_LETTER_SOURCE;
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

export interface TreadmillWork {
  gymId: string;
  treadmillId: string;
  /** Per spool epoch: the events by seq, each seq once (duplicated records are expected). */
  epochs: Map<string, Map<number, TelemetryEvent>>;
  /** Events whose ts was clamped, and the most any was ahead of its record's arrival. */
  clamped: number;
  maxAheadMs: number;
}

/** A treadmill's events of the whole batch, per epoch, each epoch's in seq order; the processor orders epochs. */
export const runsOf = (work: TreadmillWork): EpochEvents[] =>
  [...work.epochs].map(([epoch, bySeq]) => ({
    epoch,
    events: [...bySeq.values()].sort((a, b) => a.seq - b.seq),
  }));

/** Seq counts within an epoch: seq 1 of two epochs are two events. */
export function groupByTreadmill(decoded: readonly DecodedRecord[]): Map<string, TreadmillWork> {
  const groups = new Map<string, TreadmillWork>();
  for (const entry of decoded) {
    if (!entry.ok) continue;
    const key = `${entry.gymId}/${entry.treadmillId}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        gymId: entry.gymId,
        treadmillId: entry.treadmillId,
        epochs: new Map(),
        clamped: 0,
        maxAheadMs: 0,
      };
      groups.set(key, group);
    }
    let bySeq = group.epochs.get(entry.epoch);
    if (!bySeq) {
      bySeq = new Map();
      group.epochs.set(entry.epoch, bySeq);
    }
    for (const event of entry.events) if (!bySeq.has(event.seq)) bySeq.set(event.seq, event);
    group.clamped += entry.clamped.length;
    for (const { aheadMs } of entry.clamped) group.maxAheadMs = Math.max(group.maxAheadMs, aheadMs);
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
      settle(deps.processor.ingest({ gymId: work.gymId, treadmillId: work.treadmillId }, runsOf(work))),
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
  const totals = {
    EventsApplied: 0,
    EventsSkipped: 0,
    StaleEpochEvents: 0,
    SpoolEpochsStarted: 0,
    SessionsStarted: 0,
    SessionsEnded: 0,
    PoisonSetAside: 0,
    FutureTimestampsClamped: 0,
  };
  for (const [index, outcome] of outcomes.entries()) {
    const [treadmill, work] = groups[index] ?? [];
    if (work && work.clamped > 0) {
      totals.FutureTimestampsClamped += work.clamped;
      logger.warn('event times ahead of their arrival clamped: the gateway clock is ahead', {
        treadmill,
        clamped: work.clamped,
        maxAheadMs: work.maxAheadMs,
      });
    }
    if (!outcome.ok) {
      logger.error('treadmill batch failed; its records are retried', {
        treadmill,
        error: outcome.error instanceof Error ? outcome.error : String(outcome.error),
      });
      continue;
    }
    const value = outcome.value;
    totals.EventsApplied += value.applied;
    totals.EventsSkipped += value.skipped;
    totals.StaleEpochEvents += value.staleEpochEvents;
    totals.SpoolEpochsStarted += value.epochsStarted.length;
    totals.SessionsStarted += value.sessionsStarted;
    totals.SessionsEnded += value.sessionsEnded;
    totals.PoisonSetAside += value.setAside.length;
    transitions += value.transitions.length;
    for (const { from, to } of value.epochsStarted) {
      logger.info('spool epoch started: seq counts from 1 again', {
        treadmill,
        previousEpoch: from,
        epoch: to,
      });
    }
    if (value.staleEpochEvents > 0) {
      logger.warn('events of an earlier spool epoch skipped', { treadmill, events: value.staleEpochEvents });
    }
    for (const aside of value.setAside) {
      logger.error('set aside after repeated failures: in the dead-letter table', { treadmill, ...aside });
    }
  }
  for (const [name, value] of Object.entries(totals)) count(name, value);
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
