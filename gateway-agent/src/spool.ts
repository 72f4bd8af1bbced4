/**
 * The gateway's durable spool, built like a database log: append-only segment files of CRC-checked entries
 * (format in spool-format.ts), fsync with group commit, a torn tail cut on open, per-key ack state in a small
 * file replaced atomically, and a bounded in-memory window of unacked events paged back from the segments
 * after a long outage. Nothing leaves the spool before Kinesis acknowledged it, unless `drop-oldest` makes
 * room, and then every dropped event is counted and its seq range recorded.
 *
 * Invariants the code relies on:
 * - Per key, seq strictly increases in log order (append() refuses anything else).
 * - The read cursor splits the log: unacked events before it are in the window, none after it are, and
 *   `unloadedEvents` counts the unacked ones after it. ack() never passes what was loaded, so an event
 *   after the cursor is acked only if it already was on open. The window is thus the oldest part of the
 *   backlog, and a backlog larger than the window drains in log order, paged in as acks make room.
 * - A segment file is deleted only after the ack file recording its keys' acked and last seqs is durable,
 *   so neither an acked event comes back nor a seq is reused after a crash.
 */
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { partitionKey, type TelemetryEvent } from '../../shared/src/telemetry/events.js';
import {
  ENTRY_HEADER_BYTES,
  type EventToEncode,
  type EventView,
  encodedEventBytes,
  encodeEntry,
  eventsOf,
  MAX_KEY_BYTES,
  MAX_UINT48,
  scanEntries,
} from './spool-format.js';

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
  /** Warnings (torn tails cut, events dropped). Default console.warn. */
  log?: (line: string) => void;
}

export interface LostRange {
  key: string;
  fromSeq: number;
  toSeq: number;
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
}

/** An unacked event as the spool holds it: the sink ships `json` as it is. */
export interface SpooledEvent {
  readonly seq: number;
  readonly rxTs: number;
  readonly json: string;
  /** UTF-8 size of `json`. */
  readonly bytes: number;
}

export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
}

/** Another live process holds the spool: two writers would interleave appends and rename acks under each other. */
export class SpoolLockedError extends Error {
  override readonly name = 'SpoolLockedError';
  constructor(dir: string, pid: number) {
    super(`spool ${dir} is in use by process ${pid}; run one gateway per spool directory`);
  }
}

const MiB = 1024 * 1024;
const LOCK_FILE = 'spool.lock';
const LOCK_WAIT_MS = 5_000;
const ACK_FILE = 'acks.json';
const ACK_FILE_TMP = 'acks.json.tmp';
const SEGMENT_NAME = /^seg-(\d{12})\.log$/;
/** What a window event costs in memory beyond its JSON: the object, the string header, the queue slot. */
const EVENT_MEMORY_OVERHEAD = 96;
const MAX_LOST_RANGES = 10_000;

const ackFileSchema = z.object({
  v: z.literal(1),
  /** key -> [acked seq, last seq appended] */
  keys: z.record(z.string(), z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])),
});

interface Segment {
  readonly id: number;
  readonly path: string;
  /** Bytes of durable, verified entries. */
  size: number;
  /** Highest seq of each key in this segment: it is fully acked when every key's ack reaches it. */
  readonly maxSeq: Map<string, number>;
  /** Open only for the active (last) segment. */
  handle: FileHandle | undefined;
}

interface Cursor {
  readonly segment: Segment;
  readonly offset: number;
}

interface WindowEvent extends SpooledEvent {
  /** Position in log order, to tell which key's oldest event is oldest. */
  readonly ordinal: number;
}

interface PendingAppend {
  readonly entry: Buffer;
  readonly events: readonly EventToEncode[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** A FIFO with O(1) shift: one key's window events. */
class EventQueue {
  private items: WindowEvent[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  at(index: number): WindowEvent | undefined {
    return this.items[this.head + index];
  }

  push(event: WindowEvent): void {
    this.items.push(event);
  }

  shift(): WindowEvent | undefined {
    const event = this.items[this.head];
    if (event === undefined) return undefined;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return event;
  }
}

/** Runs async tasks one at a time, in call order: every change to the segment files goes through one. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const segmentPath = (dir: string, id: number) => join(dir, `seg-${String(id).padStart(12, '0')}.log`);

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

function positiveOption(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved <= 0) throw new RangeError(`spool ${name} must be > 0`);
  return resolved;
}

export class Spool {
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly maxBytes: number;
  private readonly policy: 'drop-oldest' | 'reject-new';
  private readonly groupCommitMs: number;
  private readonly windowBytes: number;
  private readonly ackFlushMs: number;
  private readonly log: (line: string) => void;

  private readonly segments: Segment[] = [];
  private cursor!: Cursor;
  private diskBytes = 0;

  private readonly acked = new Map<string, number>();
  private readonly lastSeqs = new Map<string, number>();
  /** Highest seq of each key ever loaded into the window: ack() never goes past it. */
  private readonly loadedThrough = new Map<string, number>();

  /** Non-empty queues only. */
  private readonly queues = new Map<string, EventQueue>();
  private windowUsed = 0;
  private windowEvents = 0;
  private unloadedEvents = 0;
  private nextOrdinal = 0;

  private pending: PendingAppend[] = [];
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  private readonly io = new SerialQueue();
  private paging = false;
  private ackTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private appended = 0;
  private fsyncs = 0;
  private dropped = 0;
  private rejected = 0;
  private readonly lostRanges: LostRange[] = [];
  /** Each key's latest lost range, which a following drop extends when it continues it. */
  private readonly lastLostRange = new Map<string, LostRange>();
  private readonly listeners = new Set<() => void>();

  private constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.segmentBytes = positiveOption('segmentBytes', options.segmentBytes, 16 * MiB);
    this.maxBytes = positiveOption('maxBytes', options.maxBytes, 1024 * MiB);
    if (this.maxBytes < 2 * this.segmentBytes)
      throw new RangeError('spool maxBytes must be >= 2 * segmentBytes');
    this.policy = options.policy ?? 'drop-oldest';
    if (this.policy !== 'drop-oldest' && this.policy !== 'reject-new') {
      throw new RangeError('spool policy must be drop-oldest or reject-new');
    }
    this.groupCommitMs = options.groupCommitMs ?? 0;
    this.windowBytes = positiveOption('windowBytes', options.windowBytes, 32 * MiB);
    this.ackFlushMs = positiveOption('ackFlushMs', options.ackFlushMs, 100);
    this.log = options.log ?? ((line) => console.warn(line));
  }

  /** Scans the segments, verifies CRCs, cuts a torn tail, loads acks and rebuilds the unacked backlog. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const spool = new Spool(options);
    await spool.recover();
    return spool;
  }

  /** Highest seq ever appended per partition key `{gymId}/{treadmillId}` (recovered on open), so seq survives restarts. */
  lastSeq(key: string): number {
    return this.lastSeqs.get(key) ?? 0;
  }

  /**
   * Resolves once every event is durable (fsync, group commit). The events of one call survive a crash
   * together or not at all, unless they take more than a segment: then each segment-sized part does.
   * Per key, seqs must exceed lastSeq(key). Rejects with SpoolFullError under reject-new when the events
   * do not fit.
   */
  async append(events: readonly TelemetryEvent[]): Promise<void> {
    if (this.closed) throw new Error('spool is closed');
    if (events.length === 0) return;
    const entries = this.splitIntoEntries(this.prepare(events)).map((part) => ({
      events: part,
      entry: encodeEntry(part),
    }));
    const bytes = entries.reduce((sum, { entry }) => sum + entry.length, 0);
    const tooLarge = entries.some(({ entry }) => entry.length > this.segmentBytes);
    if (
      tooLarge ||
      (this.policy === 'reject-new' && this.diskBytes + this.pendingBytes + bytes > this.maxBytes)
    ) {
      this.rejected += events.length;
      throw new SpoolFullError(
        tooLarge
          ? `spool: an event larger than a segment (${this.segmentBytes} bytes) was rejected`
          : `spool full: ${this.diskBytes} bytes on disk of ${this.maxBytes}; ${events.length} events rejected`,
      );
    }
    for (const { events: part } of entries) for (const event of part) this.lastSeqs.set(event.key, event.seq);
    this.pendingBytes += bytes;
    const durable = entries.map(
      (entry) =>
        new Promise<void>((resolve, reject) => {
          this.pending.push({ ...entry, resolve, reject });
        }),
    );
    this.kickFlush();
    await Promise.all(durable);
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
    const queue = this.queues.get(key);
    const events: SpooledEvent[] = [];
    if (queue === undefined) return events;
    let arrayBytes = 2;
    for (let index = 0; index < queue.length && events.length < max; index++) {
      const event = queue.at(index)!;
      const next = arrayBytes + event.bytes + (events.length > 0 ? 1 : 0);
      if (next > maxBytes && events.length > 0) break;
      events.push(event);
      arrayBytes = next;
    }
    return events;
  }

  /** How many unacked events of `key` peek() can see now. */
  peekable(key: string): number {
    return this.queues.get(key)?.length ?? 0;
  }

  /** Keys with unacked events ready to peek, the one whose oldest event is oldest first. */
  keysWithBacklog(): string[] {
    return [...this.queues].sort(([, a], [, b]) => a.at(0)!.ordinal - b.at(0)!.ordinal).map(([key]) => key);
  }

  /**
   * Kinesis acknowledged every event of `key` up to and including `seq`: they may leave the spool.
   * Capped at what peek() could have returned; a no-op after close.
   */
  ack(key: string, seq: number): void {
    if (this.closed) return;
    const target = Math.min(seq, this.loadedThrough.get(key) ?? 0);
    if (target <= (this.acked.get(key) ?? 0)) return;
    this.acked.set(key, target);
    this.trimAcked(key);
    this.scheduleCheckpoint();
    this.schedulePaging();
  }

  /** Notified when events become ready to peek (appended, or paged in from disk). */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): SpoolStats {
    let oldest: WindowEvent | undefined;
    for (const queue of this.queues.values()) {
      const head = queue.at(0)!;
      if (oldest === undefined || head.ordinal < oldest.ordinal) oldest = head;
    }
    return {
      depthEvents: this.windowEvents + this.unloadedEvents,
      depthBytes: this.diskBytes,
      oldestTs: oldest?.rxTs ?? null,
      appended: this.appended,
      fsyncs: this.fsyncs,
      dropped: this.dropped,
      rejected: this.rejected,
      lostRanges: this.lostRanges.map((range) => ({ ...range })),
    };
  }

  /** Finishes pending appends, persists acks, deletes fully acked segments, closes files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.ackTimer);
    while (this.flushing) await this.flushing;
    await this.io.run(async () => {
      await this.checkpoint();
      await this.active.handle?.close();
      this.active.handle = undefined;
    });
    this.listeners.clear();
    await rm(join(this.dir, LOCK_FILE), { force: true });
  }

  private get active(): Segment {
    return this.segments.at(-1)!;
  }

  // ---- recovery --------------------------------------------------------------------------------------

  /** A lock file naming our pid; one left by a process that died (SIGKILL, power loss) is taken over. */
  private async acquireLock(): Promise<void> {
    const path = join(this.dir, LOCK_FILE);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(path, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.close();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number(await readFile(path, 'utf8').catch(() => ''));
        if (holder > 0 && holder !== process.pid && processIsAlive(holder)) {
          // A process killed a moment ago may not be reaped yet: give it a few seconds to disappear.
          if (Date.now() >= deadline) throw new SpoolLockedError(this.dir, holder);
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        await rm(path, { force: true });
      }
    }
  }

  private async recover(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.acquireLock();
    await rm(join(this.dir, ACK_FILE_TMP), { force: true });
    await this.loadAckFile();

    const ids = (await readdir(this.dir))
      .map((name) => SEGMENT_NAME.exec(name)?.[1])
      .filter((id) => id !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    // While `loading`, everything so far is in the window and the cursor follows the scan.
    let loading = true;
    for (const id of ids) {
      const segment: Segment = {
        id,
        path: segmentPath(this.dir, id),
        size: 0,
        maxSeq: new Map(),
        handle: undefined,
      };
      if (loading) this.cursor = { segment, offset: 0 };
      const handle = await open(segment.path, 'r+');
      try {
        const { size } = await handle.stat();
        const scan = await scanEntries(handle, 0, size, (body, _offset, end) => {
          const events = eventsOf(body);
          this.noteDurable(segment, events);
          if (loading && this.windowUsed < this.windowBytes) {
            this.loadViews(body, events);
            this.cursor = { segment, offset: end };
          } else {
            loading = false;
            this.unloadedEvents += events.filter((event) => event.seq > this.ackedSeq(event.key)).length;
          }
          return true;
        });
        segment.size = scan.end;
        if (scan.corrupt) {
          await handle.truncate(scan.end);
          await handle.sync();
          this.log(
            `spool: cut ${size - scan.end} bytes of torn or corrupt tail from ${segment.path} at ${scan.end}`,
          );
        }
      } finally {
        await handle.close();
      }
      this.segments.push(segment);
      this.diskBytes += segment.size;
    }

    if (this.segments.length === 0) await this.createSegment(1);
    else this.active.handle = await open(this.active.path, 'r+');
    if (ids.length === 0 || this.unloadedEvents === 0) this.moveCursorToEnd();
    await this.deleteFullyAcked(this.acked);
  }

  private async loadAckFile(): Promise<void> {
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
      if (acked > 0) this.acked.set(key, acked);
      this.lastSeqs.set(key, Math.max(acked, last));
    }
  }

  // ---- appending -------------------------------------------------------------------------------------

  private prepare(events: readonly TelemetryEvent[]): EventToEncode[] {
    const lastInCall = new Map<string, number>();
    return events.map((event) => {
      const key = partitionKey(event.gymId, event.treadmillId);
      const keyBytes = Buffer.byteLength(key);
      if (keyBytes > MAX_KEY_BYTES) throw new RangeError(`spool key too long: ${key}`);
      const previous = lastInCall.get(key) ?? this.lastSeq(key);
      if (!Number.isSafeInteger(event.seq) || event.seq <= previous || event.seq > MAX_UINT48) {
        throw new RangeError(`seq ${event.seq} of ${key} must be an integer above ${previous}`);
      }
      if (!Number.isSafeInteger(event.rxTs) || event.rxTs < 0 || event.rxTs > MAX_UINT48) {
        throw new RangeError(`rxTs ${event.rxTs} of ${key} must be epoch milliseconds`);
      }
      lastInCall.set(key, event.seq);
      const json = JSON.stringify(event);
      return { key, seq: event.seq, rxTs: event.rxTs, json, keyBytes, jsonBytes: Buffer.byteLength(json) };
    });
  }

  /** Parts of at most a segment each (one event per part if a single event is larger). */
  private splitIntoEntries(events: readonly EventToEncode[]): EventToEncode[][] {
    const parts: EventToEncode[][] = [];
    let part: EventToEncode[] = [];
    let partBytes = ENTRY_HEADER_BYTES;
    for (const event of events) {
      const bytes = encodedEventBytes(event);
      if (part.length > 0 && partBytes + bytes > this.segmentBytes) {
        parts.push(part);
        part = [];
        partBytes = ENTRY_HEADER_BYTES;
      }
      part.push(event);
      partBytes += bytes;
    }
    parts.push(part);
    return parts;
  }

  private kickFlush(): void {
    this.flushing ??= this.flushLoop().finally(() => {
      this.flushing = undefined;
      // An append that arrived after the loop's last look.
      if (this.pending.length > 0) this.kickFlush();
    });
  }

  /** Group commit: whatever queued up while the previous batch was being written and fsynced goes next, together. */
  private async flushLoop(): Promise<void> {
    if (this.groupCommitMs > 0) await new Promise((resolve) => setTimeout(resolve, this.groupCommitMs));
    while (this.pending.length > 0) {
      // Callers resolved by the previous fsync append again in continuations: let them join this batch.
      await new Promise(setImmediate);
      const batch = this.pending;
      this.pending = [];
      const bytes = batch.reduce((sum, append) => sum + append.entry.length, 0);
      try {
        await this.io.run(() => this.writeBatch(batch));
      } catch (error) {
        // Appends already made durable by an earlier group of the batch were resolved: this leaves them be.
        for (const append of batch) append.reject(error);
      } finally {
        this.pendingBytes -= bytes;
      }
    }
  }

  private async writeBatch(batch: readonly PendingAppend[]): Promise<void> {
    let group: PendingAppend[] = [];
    let groupBytes = 0;
    for (const append of batch) {
      const size = this.active.size + groupBytes;
      if (size > 0 && size + append.entry.length > this.segmentBytes) {
        await this.writeGroup(group, groupBytes);
        await this.rollover();
        group = [];
        groupBytes = 0;
      }
      group.push(append);
      groupBytes += append.entry.length;
    }
    await this.writeGroup(group, groupBytes);
    this.schedulePaging();
  }

  /** Writes appends to the active segment with one fsync, then makes their events visible and resolves them. */
  private async writeGroup(group: readonly PendingAppend[], groupBytes: number): Promise<void> {
    if (group.length === 0) return;
    // Room is made per group, so a batch larger than maxBytes drops its own oldest part, as it should.
    if (this.policy === 'drop-oldest') await this.makeRoom(groupBytes);
    const segment = this.active;
    const handle = segment.handle!;
    try {
      const { bytesWritten } = await handle.writev(
        group.map((append) => append.entry),
        segment.size,
      );
      if (bytesWritten !== groupBytes) throw new Error(`short write to ${segment.path}`);
      await handle.datasync();
      this.fsyncs++;
    } catch (error) {
      // Leave no partial entry behind for the next write to follow.
      await handle.truncate(segment.size).catch(() => undefined);
      throw error;
    }
    if (this.unloadedEvents === 0) this.moveCursorToEnd();
    let loaded = false;
    for (const append of group) {
      const offset = segment.size;
      segment.size += append.entry.length;
      this.diskBytes += append.entry.length;
      this.appended += append.events.length;
      this.noteDurable(segment, append.events);
      append.resolve();
      if (
        this.cursor.segment === segment &&
        this.cursor.offset === offset &&
        this.windowUsed < this.windowBytes
      ) {
        for (const event of append.events) {
          this.enqueue(event.key, {
            seq: event.seq,
            rxTs: event.rxTs,
            json: event.json,
            bytes: event.jsonBytes,
          });
        }
        this.cursor = { segment, offset: segment.size };
        loaded = true;
      } else {
        this.unloadedEvents += append.events.length;
      }
    }
    if (loaded) this.notify();
  }

  private async rollover(): Promise<void> {
    const sealed = this.active;
    await sealed.handle?.close();
    sealed.handle = undefined;
    const atEnd = this.cursor.segment === sealed && this.cursor.offset === sealed.size;
    await this.createSegment(sealed.id + 1);
    if (atEnd) this.moveCursorToEnd();
  }

  private async createSegment(id: number): Promise<void> {
    const path = segmentPath(this.dir, id);
    const handle = await open(path, 'wx+');
    this.segments.push({ id, path, size: 0, maxSeq: new Map(), handle });
    // The new file's directory entry must be durable before anything in it is acknowledged.
    await syncDirectory(this.dir);
  }

  // ---- the window ------------------------------------------------------------------------------------

  private ackedSeq(key: string): number {
    return this.acked.get(key) ?? 0;
  }

  private noteDurable(segment: Segment, events: ReadonlyArray<{ key: string; seq: number }>): void {
    for (const { key, seq } of events) {
      if (seq > (segment.maxSeq.get(key) ?? 0)) segment.maxSeq.set(key, seq);
      if (seq > this.lastSeq(key)) this.lastSeqs.set(key, seq);
    }
  }

  /** Loads the unacked events of a verified entry body; returns how many. */
  private loadViews(body: Buffer, events: readonly EventView[]): number {
    let loaded = 0;
    for (const event of events) {
      if (event.seq <= this.ackedSeq(event.key)) continue;
      this.enqueue(event.key, {
        seq: event.seq,
        rxTs: event.rxTs,
        json: body.toString('utf8', event.jsonStart, event.jsonEnd),
        bytes: event.jsonEnd - event.jsonStart,
      });
      loaded++;
    }
    return loaded;
  }

  private enqueue(key: string, event: SpooledEvent): void {
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = new EventQueue();
      this.queues.set(key, queue);
    }
    queue.push({ ...event, ordinal: this.nextOrdinal++ });
    this.windowUsed += event.bytes + EVENT_MEMORY_OVERHEAD;
    this.windowEvents++;
    this.loadedThrough.set(key, event.seq);
  }

  private trimAcked(key: string): void {
    const queue = this.queues.get(key);
    if (queue === undefined) return;
    const acked = this.ackedSeq(key);
    while (queue.length > 0 && queue.at(0)!.seq <= acked) {
      const event = queue.shift()!;
      this.windowUsed -= event.bytes + EVENT_MEMORY_OVERHEAD;
      this.windowEvents--;
    }
    if (queue.length === 0) this.queues.delete(key);
  }

  private moveCursorToEnd(): void {
    this.cursor = { segment: this.active, offset: this.active.size };
  }

  private schedulePaging(): void {
    if (this.paging || this.closed || this.unloadedEvents === 0 || this.windowUsed > this.windowBytes / 2)
      return;
    this.paging = true;
    this.io
      .run(() => this.pageIn())
      .then(
        () => {
          this.paging = false;
          // Acks that arrived while paging (listeners run inside pageIn) may have drained the window again.
          this.schedulePaging();
        },
        (error: unknown) => {
          this.paging = false;
          this.log(`spool: paging in failed: ${errorMessage(error)}`);
        },
      );
  }

  /** Loads unacked events after the cursor until the window is full or nothing is left on disk. */
  private async pageIn(): Promise<void> {
    let loaded = 0;
    while (!this.closed && this.unloadedEvents > 0 && this.windowUsed < this.windowBytes) {
      const { segment, offset } = this.cursor;
      if (offset >= segment.size) {
        const next = this.segments[this.segments.indexOf(segment) + 1];
        if (next === undefined) {
          // Reached the end of the log: nothing is left unloaded, whatever the count says.
          this.unloadedEvents = 0;
          break;
        }
        this.cursor = { segment: next, offset: 0 };
        continue;
      }
      const handle = segment.handle ?? (await open(segment.path, 'r'));
      try {
        const scan = await scanEntries(handle, offset, segment.size, (body, _offset, end) => {
          if (this.windowUsed >= this.windowBytes) return false;
          const count = this.loadViews(body, eventsOf(body));
          this.unloadedEvents -= count;
          loaded += count;
          this.cursor = { segment, offset: end };
          return true;
        });
        if (scan.corrupt) {
          this.log(`spool: ${segment.path} is damaged at ${scan.end} (verified on open); skipping its rest`);
          this.cursor = { segment, offset: segment.size };
        }
      } finally {
        if (handle !== segment.handle) await handle.close();
      }
    }
    if (loaded > 0) this.notify();
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

  // ---- acks and space --------------------------------------------------------------------------------

  private scheduleCheckpoint(): void {
    if (this.ackTimer !== undefined || this.closed) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      this.io
        .run(() => this.checkpoint())
        .catch((error: unknown) => this.log(`spool: persisting acks failed: ${errorMessage(error)}`));
    }, this.ackFlushMs);
    this.ackTimer.unref();
  }

  /** Persists acks, then deletes the segments they fully cover. Runs inside the io queue. */
  private async checkpoint(): Promise<void> {
    await this.deleteFullyAcked(await this.persistAcks());
  }

  /** Writes the ack file atomically (temp, fsync, rename, fsync dir); returns the acks it holds. */
  private async persistAcks(): Promise<ReadonlyMap<string, number>> {
    const acked = new Map(this.acked);
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

  /** Deletes the sealed segments whose every event is covered by `acked` (a persisted state). */
  private async deleteFullyAcked(acked: ReadonlyMap<string, number>): Promise<void> {
    const covered = (segment: Segment) => {
      for (const [key, maxSeq] of segment.maxSeq) if ((acked.get(key) ?? 0) < maxSeq) return false;
      return true;
    };
    for (const segment of this.segments.slice(0, -1)) {
      if (covered(segment)) await this.deleteSegment(segment);
    }
  }

  private async deleteSegment(segment: Segment): Promise<void> {
    await rm(segment.path, { force: true });
    const index = this.segments.indexOf(segment);
    this.segments.splice(index, 1);
    this.diskBytes -= segment.size;
    // Whatever it held after the cursor was acked or has been accounted for by the caller.
    if (this.cursor.segment === segment) this.cursor = { segment: this.segments[index]!, offset: 0 };
  }

  /** drop-oldest: reclaims acked segments, then drops the oldest until `bytes` more fit. */
  private async makeRoom(bytes: number): Promise<void> {
    if (this.diskBytes + bytes <= this.maxBytes) return;
    await this.checkpoint();
    while (this.diskBytes + bytes > this.maxBytes && this.diskBytes > 0) {
      if (this.segments[0] === this.active) await this.rollover();
      await this.dropOldest();
    }
  }

  /** Drops the oldest (sealed) segment, counting and recording every unacked event in it. */
  private async dropOldest(): Promise<void> {
    const segment = this.segments[0]!;
    const lostSeqs = new Map<string, number[]>();
    const handle = await open(segment.path, 'r');
    try {
      const scan = await scanEntries(handle, 0, segment.size, (body, offset) => {
        const unloaded = this.cursor.segment === segment && offset >= this.cursor.offset;
        for (const event of eventsOf(body)) {
          if (event.seq <= this.ackedSeq(event.key)) continue;
          const seqs = lostSeqs.get(event.key) ?? [];
          seqs.push(event.seq);
          lostSeqs.set(event.key, seqs);
          if (unloaded) this.unloadedEvents--;
        }
        return true;
      });
      if (scan.corrupt)
        this.log(`spool: ${segment.path} is damaged at ${scan.end}; its rest is dropped uncounted`);
    } finally {
      await handle.close();
    }
    // Per key, everything up to the segment's highest seq is now gone: treat it as acked.
    for (const [key, maxSeq] of segment.maxSeq) {
      if (maxSeq > this.ackedSeq(key)) this.acked.set(key, maxSeq);
      this.trimAcked(key);
    }
    await this.persistAcks();
    await this.deleteSegment(segment);

    const ranges = [...lostSeqs].flatMap(([key, seqs]) => this.recordLost(key, seqs));
    if (ranges.length > 0) {
      const lost = ranges.reduce((sum, range) => sum + range.toSeq - range.fromSeq + 1, 0);
      const list = ranges.map((range) => `${range.key} ${range.fromSeq}-${range.toSeq}`).join(', ');
      this.log(`spool: full (drop-oldest): dropped ${lost} unacked events from ${segment.path}: ${list}`);
    }
  }

  /** Counts lost seqs (ascending) and records them as ranges of consecutive seqs; returns the new runs. */
  private recordLost(key: string, seqs: readonly number[]): LostRange[] {
    const runs: LostRange[] = [];
    for (const seq of seqs) {
      const run = runs.at(-1);
      if (run !== undefined && run.toSeq + 1 === seq) run.toSeq = seq;
      else runs.push({ key, fromSeq: seq, toSeq: seq });
    }
    this.dropped += seqs.length;
    for (const run of runs) {
      const previous = this.lastLostRange.get(key);
      if (previous !== undefined && previous.toSeq + 1 === run.fromSeq) {
        previous.toSeq = run.toSeq;
      } else {
        const range = { ...run };
        this.lostRanges.push(range);
        this.lastLostRange.set(key, range);
      }
    }
    const excess = this.lostRanges.length - MAX_LOST_RANGES;
    for (const evicted of excess > 0 ? this.lostRanges.splice(0, excess) : []) {
      if (this.lastLostRange.get(evicted.key) === evicted) this.lastLostRange.delete(evicted.key);
    }
    return runs;
  }
}
