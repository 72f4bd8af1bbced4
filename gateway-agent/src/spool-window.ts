/**
 * The window: per key, the oldest unacked events in memory, ready to peek, within windowBytes; and the read
 * cursor that splits the log between them and the unacked events still on disk only. Events enter straight
 * from a write while nothing waits on disk, else by paging in as acks make room. Apart from the segments so
 * that what is in memory, and in which order it is shipped, is decided in one place.
 *
 * Invariant: unacked events before the cursor are in the window, none after it are, and `unloaded` counts
 * those after it. Acks never pass what was loaded, so an event after the cursor is acked only if it already
 * was on open; the window is thus the oldest part of the backlog, and a larger backlog drains in log order.
 */
import type { AckLedger } from './spool-acks.js';
import { type EventToEncode, type EventView, eventsOf } from './spool-format.js';
import type { Segment, SegmentLog, SerialQueue } from './spool-segments.js';

/** An unacked event as the spool holds it: the sink ships `json` as it is. */
export interface SpooledEvent {
  readonly seq: number;
  readonly rxTs: number;
  readonly json: string;
  /** UTF-8 size of `json`. */
  readonly bytes: number;
}

interface WindowEvent extends SpooledEvent {
  /** Position in log order, to tell which key's oldest event is oldest. */
  readonly ordinal: number;
}

interface Cursor {
  readonly segment: Segment;
  readonly offset: number;
}

/** What a window event costs in memory beyond its JSON: the object, the string header, the queue slot. */
const EVENT_MEMORY_OVERHEAD = 96;

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A FIFO with O(1) shift: one key's window events. */
class EventQueue {
  private items: WindowEvent[] = [];
  private head = 0;
  /** UTF-8 bytes of the queued events' JSON. */
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  at(index: number): WindowEvent | undefined {
    return this.items[this.head + index];
  }

  push(event: WindowEvent): void {
    this.items.push(event);
    this.bytes += event.bytes;
  }

  shift(): WindowEvent | undefined {
    const event = this.items[this.head];
    if (event === undefined) return undefined;
    this.bytes -= event.bytes;
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

export interface EventWindowOptions {
  readonly segments: SegmentLog;
  readonly acks: AckLedger;
  /** The spool's queue for segment files: paging reads through it. */
  readonly io: SerialQueue;
  readonly windowBytes: number;
  /** Tells the spool's listeners that events became ready to peek. */
  readonly notify: () => void;
  /** Damage met while paging: the rest of `segment` from `offset` is skipped (and its readings lost). */
  readonly damaged: (segment: Segment, offset: number) => void;
  readonly log: (line: string) => void;
}

export class EventWindow {
  private readonly segments: SegmentLog;
  private readonly acks: AckLedger;
  private readonly io: SerialQueue;
  private readonly windowBytes: number;
  private readonly notify: () => void;
  private readonly damaged: (segment: Segment, offset: number) => void;
  private readonly log: (line: string) => void;

  /** Non-empty queues only. */
  private readonly queues = new Map<string, EventQueue>();
  /** Highest seq of each key ever loaded: acks never go past it. */
  private readonly loadedSeqs = new Map<string, number>();
  private used = 0;
  private events = 0;
  private unloaded = 0;
  private nextOrdinal = 0;
  private cursor!: Cursor;
  /** While true (on open), everything scanned so far is loaded and the cursor follows the scan. */
  private loadingOnOpen = true;
  private paging = false;
  private closed = false;

  constructor(options: EventWindowOptions) {
    this.segments = options.segments;
    this.acks = options.acks;
    this.io = options.io;
    this.windowBytes = options.windowBytes;
    this.notify = options.notify;
    this.damaged = options.damaged;
    this.log = options.log;
  }

  // ---- what the sink sees ----------------------------------------------------------------------------

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

  peekable(key: string): number {
    return this.queues.get(key)?.length ?? 0;
  }

  /** UTF-8 bytes of the JSON of the events peekable(key) counts. */
  peekableBytes(key: string): number {
    return this.queues.get(key)?.bytes ?? 0;
  }

  keysWithBacklog(): string[] {
    return [...this.queues].sort(([, a], [, b]) => a.at(0)!.ordinal - b.at(0)!.ordinal).map(([key]) => key);
  }

  /** rxTs of the oldest event in the window, null when it is empty. */
  oldestRxTs(): number | null {
    let oldest: WindowEvent | undefined;
    for (const queue of this.queues.values()) {
      const head = queue.at(0)!;
      if (oldest === undefined || head.ordinal < oldest.ordinal) oldest = head;
    }
    return oldest?.rxTs ?? null;
  }

  /** Unacked events, in memory and on disk only. */
  get depth(): number {
    return this.events + this.unloaded;
  }

  loadedThrough(key: string): number {
    return this.loadedSeqs.get(key) ?? 0;
  }

  /** Removes the events of `key` that its ack now covers. */
  trimAcked(key: string): void {
    const queue = this.queues.get(key);
    if (queue === undefined) return;
    const acked = this.acks.ackedSeq(key);
    while (queue.length > 0 && queue.at(0)!.seq <= acked) {
      const event = queue.shift()!;
      this.used -= event.bytes + EVENT_MEMORY_OVERHEAD;
      this.events--;
    }
    if (queue.length === 0) this.queues.delete(key);
  }

  // ---- filling it on open ----------------------------------------------------------------------------

  recoverSegment(segment: Segment): void {
    if (this.loadingOnOpen) this.cursor = { segment, offset: 0 };
  }

  recoverEntry(segment: Segment, body: Buffer, events: readonly EventView[], end: number): void {
    if (this.loadingOnOpen && this.used < this.windowBytes) {
      this.loadViews(body, events);
      this.cursor = { segment, offset: end };
      return;
    }
    this.loadingOnOpen = false;
    for (const event of events) if (event.seq > this.acks.ackedSeq(event.key)) this.unloaded++;
  }

  /** After recovery: with nothing waiting on disk, the cursor goes to the end: writes load directly. */
  finishRecovery(): void {
    this.loadingOnOpen = false;
    if (this.unloaded === 0) this.moveCursorToEnd();
  }

  // ---- following the log -----------------------------------------------------------------------------

  /** Before a write: with nothing waiting on disk, the cursor goes to the end so that the write loads. */
  catchUp(): void {
    if (this.unloaded === 0) this.moveCursorToEnd();
  }

  /**
   * Events of an entry just made durable in `segment` at `offset`: loaded (and true returned) when the cursor
   * is there and the window has room, else left on disk for paging.
   */
  admit(segment: Segment, offset: number, events: readonly EventToEncode[]): boolean {
    if (this.cursor.segment === segment && this.cursor.offset === offset && this.used < this.windowBytes) {
      for (const event of events) this.enqueue(event.key, event.seq, event.rxTs, event.json, event.jsonBytes);
      this.cursor = { segment, offset: segment.size };
      return true;
    }
    this.unloaded += events.length;
    return false;
  }

  /** Whether the cursor is at the end of the log (so it should follow a rollover). */
  atEnd(): boolean {
    const active = this.segments.active;
    return this.cursor.segment === active && this.cursor.offset === active.size;
  }

  moveCursorToEnd(): void {
    const active = this.segments.active;
    this.cursor = { segment: active, offset: active.size };
  }

  /** `segment` was deleted: whatever it held after the cursor was acked or accounted for by the caller. */
  segmentDeleted(segment: Segment, next: Segment): void {
    if (this.cursor.segment === segment) this.cursor = { segment: next, offset: 0 };
  }

  /** Whether events of the entry at `offset` of `segment` are on disk only (not loaded). */
  isUnloaded(segment: Segment, offset: number): boolean {
    return this.cursor.segment === segment && offset >= this.cursor.offset;
  }

  /** `count` events on disk only were dropped. */
  forgetUnloaded(count: number): void {
    this.unloaded -= count;
  }

  // ---- paging ----------------------------------------------------------------------------------------

  /** Pages in when events wait on disk and the window is at most half full. */
  schedulePaging(): void {
    if (this.paging || this.closed || this.unloaded === 0 || this.used > this.windowBytes / 2) return;
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

  /** No paging starts after this. */
  close(): void {
    this.closed = true;
  }

  /** Loads unacked events after the cursor until the window is full or nothing is left on disk. */
  private async pageIn(): Promise<void> {
    let loaded = 0;
    while (!this.closed && this.unloaded > 0 && this.used < this.windowBytes) {
      const { segment, offset } = this.cursor;
      if (offset >= segment.size) {
        const next = this.segments.after(segment);
        if (next === undefined) {
          // Reached the end of the log: nothing is left unloaded, whatever the count says.
          this.unloaded = 0;
          break;
        }
        this.cursor = { segment: next, offset: 0 };
        continue;
      }
      const scan = await this.segments.scan(segment, offset, (body, _offset, end) => {
        if (this.used >= this.windowBytes) return false;
        const count = this.loadViews(body, eventsOf(body));
        this.unloaded -= count;
        loaded += count;
        this.cursor = { segment, offset: end };
        return true;
      });
      if (scan.corrupt) {
        // Verified (or written) whole since open: a disk going bad under the running gateway.
        this.damaged(segment, scan.end);
        this.cursor = { segment, offset: segment.size };
      }
    }
    if (loaded > 0) this.notify();
  }

  /** Loads the unacked events of a verified entry body; returns how many. */
  private loadViews(body: Buffer, events: readonly EventView[]): number {
    let loaded = 0;
    for (const event of events) {
      if (event.seq <= this.acks.ackedSeq(event.key)) continue;
      this.enqueue(
        event.key,
        event.seq,
        event.rxTs,
        body.toString('utf8', event.jsonStart, event.jsonEnd),
        event.jsonEnd - event.jsonStart,
      );
      loaded++;
    }
    return loaded;
  }

  private enqueue(key: string, seq: number, rxTs: number, json: string, bytes: number): void {
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = new EventQueue();
      this.queues.set(key, queue);
    }
    queue.push({ seq, rxTs, json, bytes, ordinal: this.nextOrdinal++ });
    this.used += bytes + EVENT_MEMORY_OVERHEAD;
    this.events++;
    this.loadedSeqs.set(key, seq);
  }
}
