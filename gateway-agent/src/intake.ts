/**
 * Readings -> stamped events -> the spool, in batches. A reading is stamped (seq assigned) the moment it is
 * submitted, so seq follows arrival order; the returned promise resolves once its event is durable. One
 * append is in flight at a time, and what arrives meanwhile and within `groupCommitMs` forms the next batch
 * (group commit): the spool sees appends in seq order and pays one fsync per batch, not per reading.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { partitionKey, type TelemetryEvent } from '../../shared/src/telemetry/events.js';
import type { RedeliveryJournal } from './sources/redelivery.js';
import type { EventStamper, Reading } from './stamp.js';

/** What the intake needs of the spool (Spool satisfies it). */
export interface EventLog {
  append(events: readonly TelemetryEvent[]): Promise<void>;
  lastSeq(key: string): number;
}

const MAX_BATCH_EVENTS = 4_096;
/** How long a batch gathers readings before its append: a few ms of latency for far fewer fsyncs. */
const DEFAULT_GROUP_COMMIT_MS = 10;
/** Generous bound on one serialized event (the longest strings and arrays the schema allows). */
const MAX_EVENT_BYTES = 1_536;

/** Events per append such that one batch never takes more than a quarter of the spool (appends are atomic). */
export function batchLimitFor(spoolMaxBytes: number): number {
  return Math.max(1, Math.min(MAX_BATCH_EVENTS, Math.floor(spoolMaxBytes / 4 / MAX_EVENT_BYTES)));
}

interface Pending {
  readonly event: TelemetryEvent;
  readonly source: string;
  readonly fingerprint: string | undefined;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export interface IntakeStats {
  /** Durable events by source. */
  readonly eventsIn: Readonly<Record<string, number>>;
  readonly failedAppends: number;
  readonly pending: number;
}

export class DurableIntake {
  #pending: Pending[] = [];
  #running: Promise<void> | undefined;
  readonly #eventsIn: Record<string, number> = {};
  #failedAppends = 0;

  constructor(
    private readonly log: EventLog,
    private readonly stamper: EventStamper,
    private readonly journal?: RedeliveryJournal,
    private readonly onJournalError: (error: unknown) => void = () => undefined,
    private readonly maxBatchEvents = MAX_BATCH_EVENTS,
    private readonly groupCommitMs = DEFAULT_GROUP_COMMIT_MS,
  ) {}

  /**
   * Resolves when the event is durable; rejects with the spool's error (SpoolFullError under reject-new).
   * `fingerprint` (MQTT) is journaled with it, so a re-delivery is recognised.
   */
  submit(source: string, reading: Reading, fingerprint?: string): Promise<void> {
    const event = this.stamper.stamp(reading);
    return new Promise((resolve, reject) => {
      this.#pending.push({ event, source, fingerprint, resolve, reject });
      this.#running ??= this.#run();
    });
  }

  /** Resolves once everything submitted so far has been appended (or refused). */
  async drain(): Promise<void> {
    while (this.#running) await this.#running;
  }

  stats(): IntakeStats {
    return {
      eventsIn: { ...this.#eventsIn },
      failedAppends: this.#failedAppends,
      pending: this.#pending.length,
    };
  }

  async #run(): Promise<void> {
    while (this.#pending.length > 0) {
      if (this.#pending.length < this.maxBatchEvents) await sleep(this.groupCommitMs);
      await this.#append(this.#pending.splice(0, this.maxBatchEvents));
    }
    this.#running = undefined;
  }

  async #append(batch: readonly Pending[]): Promise<void> {
    const journaled = batch.flatMap(({ event, fingerprint }) =>
      fingerprint === undefined
        ? []
        : [{ fingerprint, key: partitionKey(event.gymId, event.treadmillId), seq: event.seq }],
    );
    const fingerprints = journaled.map((entry) => entry.fingerprint);
    const journalWrite = this.journal && journaled.length > 0 ? this.journal.record(journaled) : undefined;
    const t0 = Date.now();
    let tj = 0;
    let ts = 0;
    const [journalResult, spoolResult] = await Promise.allSettled([
      journalWrite?.then(() => {
        tj = Date.now() - t0;
      }),
      this.log.append(batch.map((pending) => pending.event)).then(() => {
        ts = Date.now() - t0;
      }),
    ]);
    if (process.env.INTAKE_DEBUG && Date.now() - t0 > 50)
      console.error(`append ${batch.length} journal ${tj} spool ${ts}`);
    if (journalResult.status === 'rejected') this.onJournalError(journalResult.reason);
    if (spoolResult.status === 'fulfilled') {
      await this.journal?.settle(fingerprints, true);
      for (const pending of batch) {
        this.#eventsIn[pending.source] = (this.#eventsIn[pending.source] ?? 0) + 1;
        pending.resolve();
      }
      return;
    }
    this.#failedAppends++;
    await this.journal?.settle(fingerprints, false).catch(this.onJournalError);
    for (const pending of batch) pending.reject(spoolResult.reason);
  }
}
