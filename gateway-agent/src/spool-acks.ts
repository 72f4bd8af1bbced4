/**
 * The ack ledger: per key, the seq Kinesis acknowledged and the highest seq appended, persisted at most
 * every ackFlushMs in a small file replaced atomically (a checkpoint). Apart from the segments because it is
 * the one piece of state that is rewritten rather than appended, and it decides which segments may go.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { type Segment, syncDirectory } from './spool-segments.js';

const ACK_FILE = 'acks.json';
const ACK_FILE_TMP = 'acks.json.tmp';

const ackFileSchema = z.object({
  v: z.literal(1),
  /** key -> [acked seq, last seq appended] */
  keys: z.record(z.string(), z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])),
});

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Whether every event of `segment` is covered by `acked`. */
export function fullyAcked(segment: Segment, acked: ReadonlyMap<string, number>): boolean {
  for (const [key, maxSeq] of segment.maxSeq) if ((acked.get(key) ?? 0) < maxSeq) return false;
  return true;
}

export class AckLedger {
  private readonly ackedSeqs = new Map<string, number>();
  private readonly lastSeqs = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `checkpoint` persists the acks and deletes what they cover; schedule() runs it after `flushMs`. */
  constructor(
    private readonly dir: string,
    private readonly flushMs: number,
    private readonly checkpoint: () => Promise<void>,
    private readonly log: (line: string) => void,
  ) {}

  /** The acks as they are now, persisted or not. */
  get acked(): ReadonlyMap<string, number> {
    return this.ackedSeqs;
  }

  ackedSeq(key: string): number {
    return this.ackedSeqs.get(key) ?? 0;
  }

  /** Callers only ever raise a key's ack. */
  setAcked(key: string, seq: number): void {
    this.ackedSeqs.set(key, seq);
  }

  lastSeq(key: string): number {
    return this.lastSeqs.get(key) ?? 0;
  }

  /** Every key's highest seq appended (or claimed), persisted or not. */
  get last(): ReadonlyMap<string, number> {
    return this.lastSeqs;
  }

  /** Raises lastSeq of `key` to `seq` if below: a seq written once is never handed out again. */
  noteSeq(key: string, seq: number): void {
    if (seq > this.lastSeq(key)) this.lastSeqs.set(key, seq);
  }

  /** Claims `seq` for an append on its way to disk, so that the next append must go above it. */
  claim(key: string, seq: number): void {
    this.lastSeqs.set(key, seq);
  }

  /** Notes the seqs of events now durable in `segment`. */
  noteDurable(segment: Segment, events: ReadonlyArray<{ key: string; seq: number }>): void {
    for (const { key, seq } of events) {
      if (seq > (segment.maxSeq.get(key) ?? 0)) segment.maxSeq.set(key, seq);
      this.noteSeq(key, seq);
    }
  }

  /** Reads the ack file, if any, and removes a temp file left by a crash mid-write. */
  async load(): Promise<void> {
    await rm(join(this.dir, ACK_FILE_TMP), { force: true });
    const path = join(this.dir, ACK_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    let parsed: z.infer<typeof ackFileSchema>;
    try {
      parsed = ackFileSchema.parse(JSON.parse(text));
    } catch (error) {
      // Written by rename only, so this is not a torn write; guessing could reuse seqs, so refuse to start.
      throw new Error(`spool ack file ${path} is unreadable: ${errorMessage(error)}`, { cause: error });
    }
    for (const [key, [acked, last]] of Object.entries(parsed.keys)) {
      if (acked > 0) this.ackedSeqs.set(key, acked);
      this.lastSeqs.set(key, Math.max(acked, last));
    }
  }

  /** Writes the ack file atomically (temp, fsync, rename, fsync dir); returns the acks it holds. */
  async persist(): Promise<ReadonlyMap<string, number>> {
    const acked = new Map(this.ackedSeqs);
    const keys: Record<string, [number, number]> = {};
    for (const [key, last] of this.lastSeqs) keys[key] = [acked.get(key) ?? 0, last];
    const tmp = join(this.dir, ACK_FILE_TMP);
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify({ v: 1, keys }));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, join(this.dir, ACK_FILE));
    await syncDirectory(this.dir);
    return acked;
  }

  /** Runs a checkpoint within flushMs, unless one is already due. */
  schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.checkpoint().catch((error: unknown) =>
        this.log(`spool: persisting acks failed: ${errorMessage(error)}`),
      );
    }, this.flushMs);
    this.timer.unref();
  }

  /** No checkpoints are scheduled after this; the spool runs the last one itself. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
