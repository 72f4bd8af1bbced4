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

export class RedeliveryJournal {
  readonly #entries = new Map<string, State>();
  readonly #waiters = new Map<string, (durable: boolean) => void>();
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

  /** Journals messages whose events are being appended to the spool; resolves when the lines are durable. */
  record(entries: readonly JournalEntry[]): Promise<void> {
    for (const { fingerprint, key, seq } of entries) {
      const settled = new Promise<boolean>((resolve) => this.#waiters.set(fingerprint, resolve));
      this.#remember(fingerprint, { key, seq, durable: false, settled });
    }
    return this.#write(entries.map((entry) => `+ ${entry.fingerprint} ${entry.seq} ${entry.key}\n`).join(''));
  }

  /** The spool append of these entries resolved (durable) or was refused (void, written before returning). */
  async settle(fingerprints: readonly string[], durable: boolean): Promise<void> {
    for (const fingerprint of fingerprints) {
      const state = this.#entries.get(fingerprint);
      if (state === undefined) continue;
      if (durable) {
        state.durable = true;
        state.settled = undefined;
      } else this.#entries.delete(fingerprint);
      this.#waiters.get(fingerprint)?.(durable);
      this.#waiters.delete(fingerprint);
    }
    if (!durable) await this.#write(fingerprints.map((fingerprint) => `- ${fingerprint}\n`).join(''));
  }

  get size(): number {
    return this.#entries.size;
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#handle.close();
  }

  #remember(fingerprint: string, state: State): void {
    this.#entries.delete(fingerprint);
    this.#entries.set(fingerprint, state);
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  #write(text: string): Promise<void> {
    const lines = text.length === 0 ? 0 : text.split('\n').length - 1;
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
