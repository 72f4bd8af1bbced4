/**
 * Readings -> stamped events -> the spool, in batches. A reading is stamped (seq assigned) the moment it is
 * submitted, so seq follows arrival order; the returned promise resolves once its event is durable. One
 * append is in flight at a time, and what arrives meanwhile and within `groupCommitMs` forms the next batch
 * (group commit): the spool sees appends in seq order and pays one fsync per batch, not per reading.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { partitionKey, type TelemetryEvent } from '../../shared/src/telemetry/events.js';
import type { JournalEntry, RedeliveryJournal } from './sources/redelivery.js';
import type { EventStamper, Reading } from './stamp.js';

/** What the intake needs of the spool (Spool satisfies it). */
export interface EventLog {
  append(events: readonly TelemetryEvent[]): Promise<void>;
  lastSeq(key: string): number;
}

const MAX_BATCH_EVENTS = 4_096;
/** How long a batch gathers readings before its append: a few ms of latency for far fewer fsyncs. */
const DEFAULT_GROUP_COMMIT_MS = 25;
/** Generous bound on one serialized event (the longest strings and arrays the schema allows). */
const MAX_EVENT_BYTES = 1_536;

/** Events per append such that one batch never takes more than a quarter of the spool (appends are atomic). */
export function batchLimitFor(spoolMaxBytes: number): number {
  return Math.max(1, Math.min(MAX_BATCH_EVENTS, Math.floor(spoolMaxBytes / 4 / MAX_EVENT_BYTES)));
}

/** Readings appended together; one promise for all of them (a promise per reading costs more than parsing it). */
class Batch {
  readonly events: TelemetryEvent[] = [];
  readonly sources: Record<string, number> = {};
  readonly journaled: JournalEntry[] = [];
  readonly durable: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.durable = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Marked handled: submitters that do not wait must not turn a refused append into a crash.
    this.durable.catch(() => undefined);
  }
}

export interface IntakeStats {
  /** Durable events by source. */
  readonly eventsIn: Readonly<Record<string, number>>;
  readonly failedAppends: number;
  readonly pending: number;
}

export interface IntakeOptions {
  readonly journal?: RedeliveryJournal;
  readonly onJournalError?: (error: unknown) => void;
  readonly maxBatchEvents?: number;
  readonly groupCommitMs?: number;
}

export class DurableIntake {
  #forming: Batch | undefined;
  readonly #sealed: Batch[] = [];
  #running: Promise<void> | undefined;
  readonly #eventsIn: Record<string, number> = {};
  #failedAppends = 0;
  readonly #maxBatchEvents: number;
  readonly #groupCommitMs: number;

  constructor(
    private readonly log: EventLog,
    private readonly stamper: EventStamper,
    private readonly options: IntakeOptions = {},
  ) {
    this.#maxBatchEvents = options.maxBatchEvents ?? MAX_BATCH_EVENTS;
    this.#groupCommitMs = options.groupCommitMs ?? DEFAULT_GROUP_COMMIT_MS;
  }

  /**
   * Resolves when the event is durable; rejects with the spool's error (SpoolFullError under reject-new).
   * Readings submitted together share the promise. `fingerprint` (MQTT) is journaled with the event, so a
   * re-delivery is recognised.
   */
  submit(source: string, reading: Reading, fingerprint?: string): Promise<void> {
    const event = this.stamper.stamp(reading);
    const batch = (this.#forming ??= new Batch());
    batch.events.push(event);
    batch.sources[source] = (batch.sources[source] ?? 0) + 1;
    if (fingerprint !== undefined)
      batch.journaled.push({
        fingerprint,
        key: partitionKey(event.gymId, event.treadmillId),
        seq: event.seq,
      });
    if (batch.events.length >= this.#maxBatchEvents) this.#seal();
    this.#running ??= this.#run();
    return batch.durable;
  }

  /** Resolves once everything submitted so far has been appended (or refused). */
  async drain(): Promise<void> {
    while (this.#running) await this.#running;
  }

  stats(): IntakeStats {
    const pending = this.#sealed.reduce(
      (sum, batch) => sum + batch.events.length,
      this.#forming?.events.length ?? 0,
    );
    return { eventsIn: { ...this.#eventsIn }, failedAppends: this.#failedAppends, pending };
  }

  #seal(): void {
    if (this.#forming) this.#sealed.push(this.#forming);
    this.#forming = undefined;
  }

  async #run(): Promise<void> {
    while (this.#forming || this.#sealed.length > 0) {
      if (this.#sealed.length === 0) {
        await sleep(this.#groupCommitMs);
        this.#seal();
      }
      const batch = this.#sealed.shift();
      if (batch) await this.#append(batch);
    }
    this.#running = undefined;
  }

  async #append(batch: Batch): Promise<void> {
    const { journal, onJournalError = () => undefined } = this.options;
    const journaled = journal && batch.journaled.length > 0 ? journal.record(batch.journaled) : undefined;
    const [journalResult, spoolResult] = await Promise.allSettled([
      journaled?.written,
      this.log.append(batch.events),
    ]);
    if (journalResult.status === 'rejected') onJournalError(journalResult.reason);
    if (spoolResult.status === 'fulfilled') {
      journaled?.settle(true);
      for (const [source, count] of Object.entries(batch.sources))
        this.#eventsIn[source] = (this.#eventsIn[source] ?? 0) + count;
      batch.resolve();
      return;
    }
    this.#failedAppends++;
    await journaled?.settle(false).catch(onJournalError);
    batch.reject(spoolResult.reason);
  }
}
