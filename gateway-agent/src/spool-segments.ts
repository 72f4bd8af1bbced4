/**
 * The segment files: finding and verifying them on open (each entry's CRC checked, a torn tail cut, damage
 * skipped), writing groups of entries with one fsync, rollover, deletion, and scans for paging. It deals in
 * files and bytes only: which events are acked, loaded or lost is decided by the spool's other parts.
 */
import { copyFile, type FileHandle, link, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type DamagedRun,
  ENTRY_HEADER_BYTES,
  type EventView,
  eventsOf,
  type ScanResult,
  scanEntries,
  sortOutDamage,
} from './spool-format.js';

const SEGMENT_NAME = /^seg-(\d{12})\.log$/;
/** A segment's replacement being written (see setAside); left by a crash, it is incomplete. */
const REPAIR_NAME = /^seg-\d{12}\.log\.repair$/;

export interface Segment {
  readonly id: number;
  readonly path: string;
  /** Bytes of durable, verified entries. */
  size: number;
  /** Highest seq of each key in this segment: it is fully acked when every key's ack reaches it. */
  readonly maxSeq: Map<string, number>;
  /** Open only for the active (last) segment. */
  handle: FileHandle | undefined;
}

/** What recovery reports while it verifies the segments on open, oldest first. */
export interface RecoveryVisitor {
  /** Called before the first entry of each segment. */
  segment(segment: Segment): void;
  /** A verified entry of `segment` that ends at offset `end`. */
  entry(segment: Segment, body: Buffer, events: readonly EventView[], end: number): void;
  /** A damaged run skipped in `segment` (not a torn tail), in log order with the entries around it. */
  damaged(segment: Segment, run: DamagedRun): void;
  /** `segment`'s damaged file was kept as `aside` before the segment was rewritten with its valid entries. */
  setAside(segment: Segment, aside: string): void;
}

/** Runs async tasks one at a time, in call order: every change to the segment files goes through one. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const segmentPath = (dir: string, id: number) => join(dir, `seg-${String(id).padStart(12, '0')}.log`);

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class SegmentLog {
  /** Oldest first; the last is the active one, appended to. */
  private readonly segments: Segment[] = [];
  private totalBytes = 0;
  private syncs = 0;

  constructor(
    private readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

  /** Size of the segment files: what maxBytes bounds. */
  get diskBytes(): number {
    return this.totalBytes;
  }

  /** Data fsyncs of segment files. */
  get fsyncs(): number {
    return this.syncs;
  }

  get active(): Segment {
    return this.segments.at(-1)!;
  }

  get oldest(): Segment {
    return this.segments[0]!;
  }

  /** The segment that follows `segment`, if any. */
  after(segment: Segment): Segment | undefined {
    return this.segments[this.segments.indexOf(segment) + 1];
  }

  /** All segments but the active one, oldest first; a copy, so deleting while iterating is safe. */
  sealed(): Segment[] {
    return this.segments.slice(0, -1);
  }

  /** Verifies every segment file, cuts a torn tail, skips damage, opens the active one (a new one if none). */
  async recover(visitor: RecoveryVisitor): Promise<void> {
    const names = await readdir(this.dir);
    for (const name of names) if (REPAIR_NAME.test(name)) await rm(join(this.dir, name), { force: true });
    const ids = names
      .map((name) => SEGMENT_NAME.exec(name)?.[1])
      .filter((id) => id !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const [index, id] of ids.entries()) {
      const segment: Segment = {
        id,
        path: segmentPath(this.dir, id),
        size: 0,
        maxSeq: new Map(),
        handle: undefined,
      };
      visitor.segment(segment);
      const handle = await open(segment.path, 'r+');
      try {
        const { size } = await handle.stat();
        const scan = await scanEntries(handle, 0, size, (body, _offset, end) => {
          visitor.entry(segment, body, eventsOf(body), end);
          return true;
        });
        segment.size = scan.end;
        if (scan.corrupt) {
          await this.recoverDamaged(segment, handle, size, scan.end, index === ids.length - 1, visitor);
        }
      } finally {
        await handle.close();
      }
      this.segments.push(segment);
      this.totalBytes += segment.size;
    }
    if (this.segments.length === 0) await this.create(1);
    else this.active.handle = await open(this.active.path, 'r+');
  }

  /**
   * Sorts out `segment` from `from`, where an entry failed its check. A damaged run that nothing valid
   * follows, at the end of the last segment, is the write a crash cut short: never acknowledged (appends are
   * acknowledged after their fsync), so it is cut as a torn tail. Anything else is damage to durable data
   * (docs/architecture.md section 4.1): the file is kept aside as `*.corrupt` and the segment rewritten with
   * its valid entries, so that every later scan reads it whole; each damaged run goes to the visitor.
   */
  private async recoverDamaged(
    segment: Segment,
    handle: FileHandle,
    size: number,
    from: number,
    last: boolean,
    visitor: RecoveryVisitor,
  ): Promise<void> {
    // Damage is rare and a segment is bounded (segmentBytes): sorting it out in memory keeps it simple.
    const whole = Buffer.allocUnsafe(size);
    const { bytesRead } = await handle.read(whole, 0, size, 0);
    const buffer = whole.subarray(0, bytesRead);
    const pieces = sortOutDamage(buffer, from);
    const final = pieces.at(-1);
    const torn = last && final?.kind === 'damage' && final.trailing ? pieces.pop() : undefined;
    const tornNote = () =>
      this.log(`spool: cut ${size - (torn?.start ?? from)} bytes of torn tail from ${segment.path}`);
    if (!pieces.some((piece) => piece.kind === 'damage')) {
      await handle.truncate(from);
      await handle.sync();
      tornNote();
      return;
    }
    const entries = pieces.flatMap((piece) => (piece.kind === 'entry' ? [piece] : []));
    const kept = [
      buffer.subarray(0, from),
      ...entries.map((entry) => buffer.subarray(entry.start, entry.end)),
    ];
    visitor.setAside(segment, await this.setAside(segment, kept));
    let offset = from;
    for (const piece of pieces) {
      if (piece.kind === 'damage') {
        visitor.damaged(segment, piece);
        continue;
      }
      const body = buffer.subarray(piece.start + ENTRY_HEADER_BYTES, piece.end);
      offset += piece.end - piece.start;
      visitor.entry(segment, body, eventsOf(body), offset);
    }
    segment.size = offset;
    if (torn) tornNote();
  }

  /** Keeps `segment`'s file as `*.corrupt` and replaces the segment with `kept`, atomically; returns the name. */
  private async setAside(segment: Segment, kept: readonly Buffer[]): Promise<string> {
    const aside = `${segment.path}.${Date.now()}.corrupt`;
    // A second name for the same file rather than a copy, unless the file system has no hard links.
    await link(segment.path, aside).catch(() => copyFile(segment.path, aside));
    const repair = `${segment.path}.repair`;
    const handle = await open(repair, 'w');
    try {
      await handle.writeFile(Buffer.concat(kept));
      await handle.sync();
    } finally {
      await handle.close();
    }
    // A crash leaves the damaged file (sorted out again at the next open) or the repaired one, never neither.
    await rename(repair, segment.path);
    await syncDirectory(this.dir);
    return aside;
  }

  /** Visits the verified entries of `segment` from `from` to its end (see scanEntries). */
  async scan(
    segment: Segment,
    from: number,
    visit: (body: Buffer, offset: number, end: number) => boolean,
  ): Promise<ScanResult> {
    const handle = segment.handle ?? (await open(segment.path, 'r'));
    try {
      return await scanEntries(handle, from, segment.size, visit);
    } finally {
      if (handle !== segment.handle) await handle.close();
    }
  }

  /**
   * Writes `entries` (`bytes` in all) at the end of `segment` with one fsync; on failure leaves no partial
   * entry behind for the next write to follow. The caller then accounts for each entry with extend().
   */
  async write(segment: Segment, entries: readonly Buffer[], bytes: number): Promise<void> {
    const handle = segment.handle!;
    try {
      const { bytesWritten } = await handle.writev(entries, segment.size);
      if (bytesWritten !== bytes) throw new Error(`short write to ${segment.path}`);
      await handle.datasync();
      this.syncs++;
    } catch (error) {
      await handle.truncate(segment.size).catch(() => undefined);
      throw error;
    }
  }

  /** Counts `bytes` just made durable at the end of `segment`. */
  extend(segment: Segment, bytes: number): void {
    segment.size += bytes;
    this.totalBytes += bytes;
  }

  /** Seals the active segment and starts the next. */
  async roll(): Promise<void> {
    const sealed = this.active;
    await sealed.handle?.close();
    sealed.handle = undefined;
    await this.create(sealed.id + 1);
  }

  /** Deletes a sealed segment; returns the one that followed it. */
  async delete(segment: Segment): Promise<Segment> {
    await rm(segment.path, { force: true });
    const index = this.segments.indexOf(segment);
    this.segments.splice(index, 1);
    this.totalBytes -= segment.size;
    return this.segments[index]!;
  }

  async closeActive(): Promise<void> {
    await this.active.handle?.close();
    this.active.handle = undefined;
  }

  private async create(id: number): Promise<void> {
    const path = segmentPath(this.dir, id);
    const handle = await open(path, 'wx+');
    this.segments.push({ id, path, size: 0, maxSeq: new Map(), handle });
    // The new file's directory entry must be durable before anything in it is acknowledged.
    await syncDirectory(this.dir);
  }
}
