/**
 * The gateway's durable spool, built like a database log: append-only segment files of CRC-checked entries
 * (format in spool-format.ts), fsync with group commit, a torn tail cut on open, per-key ack state in a small
 * file replaced atomically, and a bounded in-memory window of unacked events paged back from the segments
 * after a long outage. Nothing leaves the spool before Kinesis acknowledged it, unless `drop-oldest` makes
 * room or damage on disk destroys it, and then every lost event is counted and its seq range recorded.
 *
 * This class is the public face and the glue; each part lives in its own module: the directory lock
 * (spool-lock), the segment files (spool-segments), acks and their checkpoints (spool-acks), the window of
 * events ready to peek and paging (spool-window), appends and group commit (spool-writer), what happens
 * when the spool is full (spool-space), what damage cost (spool-damage), and the epoch naming the spool's
 * run of seqs (spool-epoch).
 *
 * Invariants the parts rely on:
 * - Per key, seq strictly increases in log order (append() refuses anything else).
 * - ack() never passes what was loaded into the window (see spool-window for the read cursor).
 * - A segment file is deleted only after the ack file recording its keys' acked and last seqs is durable,
 *   so neither an acked event comes back nor a seq is reused after a crash.
 */
import { mkdir } from 'node:fs/promises';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { AckLedger, fullyAcked } from './spool-acks.js';
import { DamageLedger, type SpoolDamage } from './spool-damage.js';
import { SpoolEpoch } from './spool-epoch.js';
import { acquireSpoolLock, releaseSpoolLock } from './spool-lock.js';
import { type Segment, SegmentLog, SerialQueue } from './spool-segments.js';
import { type LostRange, SpacePolicy } from './spool-space.js';
import { EventWindow, type SpooledEvent } from './spool-window.js';
import { SpoolWriter } from './spool-writer.js';

export type { SpoolDamage } from './spool-damage.js';
export { SpoolLockedError } from './spool-lock.js';
export { type LostRange, SpoolFullError } from './spool-space.js';
export type { SpooledEvent } from './spool-window.js';

export interface SpoolOptions {
  dir: string;
  /** A segment is closed and a new one started when an entry would take it past this. Default 16 MiB. */
  segmentBytes?: number;
  /** Bound on the segment files' total size. Default 1 GiB; at least two segments. */
  maxBytes?: number;
  policy?: 'drop-oldest' | 'reject-new';
  /** Extra wait before an fsync so that more appends share it. Default 0: appends that arrive while an fsync
   *  is in flight already share the next one. */
  groupCommitMs?: number;
  /** Memory for unacked events ready to peek; older ones wait on disk and are paged in. Default 32 MiB. */
  windowBytes?: number;
  /** Acks are persisted at most this often, and on close. Default 100 ms. */
  ackFlushMs?: number;
  /** Warnings (torn tails cut, damage skipped, events dropped) and the epoch when made. Default console.warn. */
  log?: (line: string) => void;
}

export interface SpoolStats {
  /** Unacked events, in memory and on disk. */
  depthEvents: number;
  /** Size of the segment files (what maxBytes bounds), acked events not yet deleted included. */
  depthBytes: number;
  /** Gateway receive time (rxTs) of the oldest unacked event in memory; null when none is. */
  oldestTs: number | null;
  appended: number;
  /** Data fsyncs of segment files: appended / fsyncs is what group commit achieves. */
  fsyncs: number;
  dropped: number;
  rejected: number;
  /** Seq ranges (inclusive) dropped unacked by drop-oldest, consecutive ones merged; the latest 10,000. */
  lostRanges: LostRange[];
  /** Damage found inside segments at open (torn tails aside) or met later, and what it cost. */
  damage: SpoolDamage;
}

const MiB = 1024 * 1024;

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

function positiveOption(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved <= 0) throw new RangeError(`spool ${name} must be > 0`);
  return resolved;
}

export class Spool {
  private readonly dir: string;
  private readonly log: (line: string) => void;
  /** Every change to the segment files and the ack file runs through it, one at a time. */
  private readonly io = new SerialQueue();
  private readonly segments: SegmentLog;
  private readonly acks: AckLedger;
  private readonly window: EventWindow;
  private readonly space: SpacePolicy;
  private readonly writer: SpoolWriter;
  private readonly damage: DamageLedger;
  private epochState: SpoolEpoch | undefined;
  private readonly listeners = new Set<() => void>();
  private closed = false;

  private constructor(options: SpoolOptions) {
    this.dir = options.dir;
    const segmentBytes = positiveOption('segmentBytes', options.segmentBytes, 16 * MiB);
    const maxBytes = positiveOption('maxBytes', options.maxBytes, 1024 * MiB);
    if (maxBytes < 2 * segmentBytes) throw new RangeError('spool maxBytes must be >= 2 * segmentBytes');
    const policy = options.policy ?? 'drop-oldest';
    if (policy !== 'drop-oldest' && policy !== 'reject-new') {
      throw new RangeError('spool policy must be drop-oldest or reject-new');
    }
    const groupCommitMs = options.groupCommitMs ?? 0;
    const windowBytes = positiveOption('windowBytes', options.windowBytes, 32 * MiB);
    const ackFlushMs = positiveOption('ackFlushMs', options.ackFlushMs, 100);
    const log = options.log ?? ((line: string) => console.warn(line));
    this.log = log;

    // Operations spanning several parts (checkpoint, rollover, deletion, notify) live here.
    const io = this.io;
    const notify = () => this.notify();
    const rollover = () => this.rollover();
    const segments = new SegmentLog(this.dir, log);
    const acks = new AckLedger(this.dir, ackFlushMs, () => io.run(() => this.checkpoint()), log);
    const damage = new DamageLedger(acks, log);
    // Damage met after open: the rest of the segment from `offset` is skipped.
    const damaged = (segment: Segment, offset: number) =>
      damage.later(segment.path, offset, segment.size - offset);
    const window = new EventWindow({ segments, acks, io, windowBytes, notify, damaged, log });
    const space = new SpacePolicy({
      policy,
      maxBytes,
      segments,
      window,
      acks,
      checkpoint: () => this.checkpoint(),
      rollover,
      deleteSegment: (segment) => this.deleteSegment(segment),
      damaged,
      log,
    });
    this.damage = damage;
    this.segments = segments;
    this.acks = acks;
    this.window = window;
    this.space = space;
    this.writer = new SpoolWriter({
      segmentBytes,
      groupCommitMs,
      segments,
      window,
      acks,
      space,
      io,
      rollover,
      notify,
    });
  }

  /**
   * Scans the segments, verifies CRCs, cuts a torn tail, skips damage, loads acks, rebuilds the unacked
   * backlog and reads or makes the epoch.
   */
  static async open(options: SpoolOptions): Promise<Spool> {
    const spool = new Spool(options);
    await spool.recover();
    return spool;
  }

  /**
   * The ULID naming this spool's run of seqs: made with the spool, kept in its directory; a spool made anew
   * (seq at 1 again) gets a later one. The sink names it in every record (docs/architecture.md section 4.2).
   */
  get epoch(): string {
    return this.epochState!.id;
  }

  /** The epoch of the event of `key` with `seq`: undefined for one spooled before the spool had an epoch. */
  epochOf(key: string, seq: number): string | undefined {
    return this.epochState!.of(key, seq);
  }

  /** Highest seq ever appended per partition key `{gymId}/{treadmillId}` (recovered on open), so seq survives restarts. */
  lastSeq(key: string): number {
    return this.acks.lastSeq(key);
  }

  /**
   * Resolves once every event is durable (fsync, group commit). The events of one call survive a crash
   * together or not at all, unless they take more than a segment: then each segment-sized part does.
   * Per key, seqs must exceed lastSeq(key). Rejects with SpoolFullError under reject-new when the events
   * do not fit.
   */
  append(events: readonly TelemetryEvent[]): Promise<void> {
    // Not async itself, so that the hot path costs no more ticks than the writer's own.
    if (this.closed) return Promise.reject(new Error('spool is closed'));
    return this.writer.append(events);
  }

  /**
   * Up to `max` oldest unacked events of one treadmill, in seq order, whose JSON array (`[a,b]`) fits
   * in `maxBytes`; at least one if any is waiting, so an oversized event cannot stall its key.
   */
  peek(key: string, max: number, maxBytes: number): TelemetryEvent[] {
    return this.peekEncoded(key, max, maxBytes).map((event) => JSON.parse(event.json) as TelemetryEvent);
  }

  /** peek() without parsing: the events as stored, for building records. */
  peekEncoded(key: string, max: number, maxBytes: number): SpooledEvent[] {
    return this.window.peekEncoded(key, max, maxBytes);
  }

  /** How many unacked events of `key` peek() can see now. */
  peekable(key: string): number {
    return this.window.peekable(key);
  }

  /** Bytes of the JSON of the events peekable(key) counts: whether they would fill a record, without building it. */
  peekableBytes(key: string): number {
    return this.window.peekableBytes(key);
  }

  /** Keys with unacked events ready to peek, the one whose oldest event is oldest first. */
  keysWithBacklog(): string[] {
    return this.window.keysWithBacklog();
  }

  /**
   * Kinesis acknowledged every event of `key` up to and including `seq`: they may leave the spool.
   * Capped at what peek() could have returned; a no-op after close.
   */
  ack(key: string, seq: number): void {
    if (this.closed) return;
    const target = Math.min(seq, this.window.loadedThrough(key));
    if (target <= this.acks.ackedSeq(key)) return;
    this.acks.setAcked(key, target);
    this.window.trimAcked(key);
    this.acks.schedule();
    this.window.schedulePaging();
  }

  /** Notified when events become ready to peek (appended, or paged in from disk). */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): SpoolStats {
    return {
      depthEvents: this.window.depth,
      depthBytes: this.segments.diskBytes,
      oldestTs: this.window.oldestRxTs(),
      appended: this.writer.appended,
      fsyncs: this.segments.fsyncs,
      dropped: this.space.dropped,
      rejected: this.space.rejected,
      lostRanges: this.space.lost(),
      damage: this.damage.stats(),
    };
  }

  /** Finishes pending appends, persists acks, deletes fully acked segments, closes files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.acks.close();
    this.window.close();
    await this.writer.drain();
    await this.io.run(async () => {
      await this.checkpoint();
      await this.segments.closeActive();
    });
    this.listeners.clear();
    await releaseSpoolLock(this.dir);
  }

  private async recover(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await acquireSpoolLock(this.dir);
    await this.acks.load();
    const { acks, window, damage } = this;
    await this.segments.recover({
      segment: (segment) => window.recoverSegment(segment),
      entry: (segment, body, events, end) => {
        acks.noteDurable(segment, events);
        damage.seen(events);
        window.recoverEntry(segment, body, events, end);
      },
      damaged: (_segment, run) => damage.damaged(run),
      setAside: (_segment, aside) => damage.setAside(aside),
    });
    window.finishRecovery();
    damage.finishRecovery();
    await this.deleteFullyAcked(acks.acked);
    // After recovery: whether the spool is new or an older gateway's depends on the seqs it holds.
    this.epochState = await SpoolEpoch.load(this.dir, acks.last, this.log);
  }

  /** Persists acks, then deletes the segments they fully cover. Runs inside the io queue. */
  private async checkpoint(): Promise<void> {
    await this.deleteFullyAcked(await this.acks.persist());
  }

  /** Deletes the sealed segments whose every event is covered by `acked` (a persisted state). */
  private async deleteFullyAcked(acked: ReadonlyMap<string, number>): Promise<void> {
    for (const segment of this.segments.sealed()) {
      if (fullyAcked(segment, acked)) await this.deleteSegment(segment);
    }
  }

  private async deleteSegment(segment: Segment): Promise<void> {
    this.window.segmentDeleted(segment, await this.segments.delete(segment));
  }

  private async rollover(): Promise<void> {
    const atEnd = this.window.atEnd();
    await this.segments.roll();
    if (atEnd) this.window.moveCursorToEnd();
  }

  private notify(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.log(`spool: onAppend listener failed: ${errorMessage(error)}`);
      }
    }
  }
}
