/**
 * Recognises MQTT messages the broker re-delivers although their event is already in the spool, so a crash
 * between "spooled" and "PUBACK reached the broker" yields no second event with a new id and seq.
 *
 * Each accepted message leaves a fingerprint (topic, packet id, payload) -> (partition key, seq) line in a
 * small journal, written alongside the spool append. A fingerprint counts as spooled only if the spool says
 * so: on open, an entry whose seq is above the spool's recovered `lastSeq` never made it and is forgotten;
 * an append the spool refused is voided in the journal before the next append. The journal keeps the last
 * `capacity` fingerprints: a broker re-delivers only messages not yet acknowledged, and the MQTT source
 * holds at most `mqtt.maxInFlight` of those, so capacity must exceed it (the agent uses 4x).
 */
import { createHash } from 'node:crypto';
import { type FileHandle, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export const DEFAULT_JOURNAL_CAPACITY = 10_000;

export interface JournalEntry {
  readonly fingerprint: string;
  readonly key: string;
  readonly seq: number;
}

/** Same message, same fingerprint: what a broker re-delivers keeps its topic, packet id and payload. */
export function messageFingerprint(topic: string, packetId: number | undefined, payload: Uint8Array): string {
  return createHash('sha1')
    .update(topic)
    .update(`\u0000${packetId ?? ''}\u0000`)
    .update(payload)
    .digest('base64url')
    .slice(0, 22);
}

type State = {
  readonly key: string;
  readonly seq: number;
  durable: boolean;
  settled?: Promise<boolean> | undefined;
};

/** Journaled entries whose spool append is under way. */
export interface JournalBatch {
  /** Resolves when the entries' lines are durable. */
  readonly written: Promise<void>;
  /** The spool append resolved (durable) or was refused (void lines written before this resolves). */
  settle(durable: boolean): Promise<void>;
}

export class RedeliveryJournal {
  readonly #entries = new Map<string, State>();
  readonly #ring: Array<{ readonly fingerprint: string; readonly state: State } | undefined>;
  #ringNext = 0;
  #handle: FileHandle;
  #linesWritten = 0;
  /** File operations one after the other: appends, voids and compactions never interleave. */
  #queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly path: string,
    private readonly capacity: number,
    handle: FileHandle,
  ) {
    this.#handle = handle;
    this.#ring = new Array(capacity);
  }

  /** `lastSeq` is the spool's recovered counter per partition key (Spool.lastSeq). */
  static async open(
    path: string,
    lastSeq: (key: string) => number,
    capacity = DEFAULT_JOURNAL_CAPACITY,
  ): Promise<RedeliveryJournal> {
    const recovered = new Map<string, JournalEntry>();
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    for (const line of text.split('\n')) {
      const [mark, fingerprint, seqText, key] = line.split(' ');
      if (fingerprint === undefined) continue;
      if (mark === '-') recovered.delete(fingerprint);
      else if (mark === '+' && key !== undefined && Number(seqText) > 0)
        recovered.set(fingerprint, { fingerprint, key, seq: Number(seqText) });
      // Anything else is a line torn by a crash: it was never confirmed, so it is rightly forgotten.
    }
    const journal = new RedeliveryJournal(path, capacity, await open(path, 'a'));
    for (const entry of recovered.values())
      if (entry.seq <= lastSeq(entry.key)) journal.#remember(entry.fingerprint, { ...entry, durable: true });
    // Rewritten at once, so entries found stale here can never come back after later appends reuse their seq.
    await journal.#compact();
    return journal;
  }

  /**
   * true: the message's event is already spooled (acknowledge it, stamp nothing); false: process it.
   * A promise when its first delivery is still being written.
   */
  isSpooled(fingerprint: string): boolean | Promise<boolean> {
    const state = this.#entries.get(fingerprint);
    if (state === undefined) return false;
    return state.durable ? true : (state.settled ?? false);
  }

  /** Journals messages whose events are being appended to the spool. */
  record(entries: readonly JournalEntry[]): JournalBatch {
    let resolveSettled: (durable: boolean) => void = () => undefined;
    const settled = new Promise<boolean>((resolve) => {
      resolveSettled = resolve;
    });
    const states = entries.map(({ fingerprint, key, seq }) => {
      const state: State = { key, seq, durable: false, settled };
      this.#remember(fingerprint, state);
      return state;
    });
    const written = this.#write(
      entries.map((entry) => `+ ${entry.fingerprint} ${entry.seq} ${entry.key}\n`).join(''),
      entries.length,
    );
    return {
      written,
      settle: async (durable) => {
        for (const [index, state] of states.entries()) {
          state.settled = undefined;
          if (durable) state.durable = true;
          else this.#forget((entries[index] as JournalEntry).fingerprint, state);
        }
        resolveSettled(durable);
        if (!durable)
          await this.#write(entries.map((entry) => `- ${entry.fingerprint}\n`).join(''), entries.length);
      },
    };
  }

  get size(): number {
    return this.#entries.size;
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#handle.close();
  }

  /** Forgets a fingerprint unless a later delivery of it has replaced this state. */
  #forget(fingerprint: string, state: State): void {
    if (this.#entries.get(fingerprint) === state) this.#entries.delete(fingerprint);
  }

  /**
   * Keeps the newest `capacity` entries. A ring of the latest insertions says which entry to evict: asking a
   * Map for its oldest key after many deletions walks over their tombstones, quadratic at this rate.
   */
  #remember(fingerprint: string, state: State): void {
    const evicted = this.#ring[this.#ringNext];
    if (evicted !== undefined) this.#forget(evicted.fingerprint, evicted.state);
    this.#ring[this.#ringNext] = { fingerprint, state };
    this.#ringNext = (this.#ringNext + 1) % this.capacity;
    this.#entries.set(fingerprint, state);
  }

  #write(text: string, lines: number): Promise<void> {
    const done = this.#queue.then(async () => {
      if (lines === 0) return;
      await this.#handle.write(text);
      await this.#handle.datasync();
      this.#linesWritten += lines;
      if (this.#linesWritten > 2 * this.capacity) await this.#compact();
    });
    this.#queue = done.catch(() => undefined);
    return done;
  }

  /** Replaces the file with the entries still remembered: write aside, fsync, rename (atomic). */
  async #compact(): Promise<void> {
    const aside = `${this.path}.tmp`;
    const file = await open(aside, 'w');
    try {
      const lines = [...this.#entries].map(
        ([fingerprint, state]) => `+ ${fingerprint} ${state.seq} ${state.key}\n`,
      );
      await file.write(lines.join(''));
      await file.datasync();
    } finally {
      await file.close();
    }
    await this.#handle.close();
    await rename(aside, this.path);
    // The rename itself must survive a crash, or the old file (with entries found stale) could come back.
    const directory = await open(dirname(this.path), 'r');
    await directory.sync().finally(() => directory.close());
    this.#handle = await open(this.path, 'a');
    this.#linesWritten = this.#entries.size;
  }
}
