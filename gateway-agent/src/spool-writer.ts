/**
 * Appends: checking and encoding events into entries, then group commit: appends queue up while a batch is
 * written and fsynced, and go to disk together in the next, the active segment rolling over when full. Apart
 * from the rest because it is the hot path, and the only place that orders writes against fsyncs.
 */
import { partitionKey, type TelemetryEvent } from '../../shared/src/telemetry/events.js';
import type { AckLedger } from './spool-acks.js';
import {
  ENTRY_HEADER_BYTES,
  type EventToEncode,
  encodedEventBytes,
  encodeEntry,
  MAX_KEY_BYTES,
  MAX_UINT48,
} from './spool-format.js';
import type { SegmentLog, SerialQueue } from './spool-segments.js';
import type { SpacePolicy } from './spool-space.js';
import type { EventWindow } from './spool-window.js';

interface PendingAppend {
  readonly entry: Buffer;
  readonly events: readonly EventToEncode[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export interface SpoolWriterOptions {
  readonly segmentBytes: number;
  readonly groupCommitMs: number;
  readonly segments: SegmentLog;
  readonly window: EventWindow;
  readonly acks: AckLedger;
  readonly space: SpacePolicy;
  readonly io: SerialQueue;
  /** Seals the active segment and starts the next (the window's cursor following). */
  readonly rollover: () => Promise<void>;
  /** Tells the spool's listeners that events became ready to peek. */
  readonly notify: () => void;
}

export class SpoolWriter {
  private readonly segmentBytes: number;
  private readonly groupCommitMs: number;
  private readonly segments: SegmentLog;
  private readonly window: EventWindow;
  private readonly acks: AckLedger;
  private readonly space: SpacePolicy;
  private readonly io: SerialQueue;
  private readonly rollover: () => Promise<void>;
  private readonly notify: () => void;

  private pending: PendingAppend[] = [];
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  private appendedEvents = 0;

  constructor(options: SpoolWriterOptions) {
    this.segmentBytes = options.segmentBytes;
    this.groupCommitMs = options.groupCommitMs;
    this.segments = options.segments;
    this.window = options.window;
    this.acks = options.acks;
    this.space = options.space;
    this.io = options.io;
    this.rollover = options.rollover;
    this.notify = options.notify;
  }

  /** Events made durable since open. */
  get appended(): number {
    return this.appendedEvents;
  }

  /** See Spool.append. */
  async append(events: readonly TelemetryEvent[]): Promise<void> {
    if (events.length === 0) return;
    const entries = this.splitIntoEntries(this.prepare(events)).map((part) => ({
      events: part,
      entry: encodeEntry(part),
    }));
    const bytes = entries.reduce((sum, { entry }) => sum + entry.length, 0);
    const tooLarge = entries.some(({ entry }) => entry.length > this.segmentBytes);
    if (tooLarge || !this.space.fits(this.pendingBytes + bytes)) {
      throw this.space.refuse(
        events.length,
        tooLarge
          ? `spool: an event larger than a segment (${this.segmentBytes} bytes) was rejected`
          : `spool full: ${this.segments.diskBytes} bytes on disk of ${this.space.maxBytes}; ${events.length} events rejected`,
      );
    }
    for (const { events: part } of entries) for (const event of part) this.acks.claim(event.key, event.seq);
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

  /** Resolves once no flush is running (appends already queued included). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private prepare(events: readonly TelemetryEvent[]): EventToEncode[] {
    const lastInCall = new Map<string, number>();
    return events.map((event) => {
      const key = partitionKey(event.gymId, event.treadmillId);
      const keyBytes = Buffer.byteLength(key);
      if (keyBytes > MAX_KEY_BYTES) throw new RangeError(`spool key too long: ${key}`);
      const previous = lastInCall.get(key) ?? this.acks.lastSeq(key);
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
      const size = this.segments.active.size + groupBytes;
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
    this.window.schedulePaging();
  }

  /** Writes appends to the active segment with one fsync, then makes their events visible and resolves them. */
  private async writeGroup(group: readonly PendingAppend[], groupBytes: number): Promise<void> {
    if (group.length === 0) return;
    // Room is made per group, so a batch larger than maxBytes drops its own oldest part, as it should.
    if (this.space.dropsOldest) await this.space.makeRoom(groupBytes);
    const segment = this.segments.active;
    await this.segments.write(
      segment,
      group.map((append) => append.entry),
      groupBytes,
    );
    this.window.catchUp();
    let loaded = false;
    for (const append of group) {
      const offset = segment.size;
      this.segments.extend(segment, append.entry.length);
      this.appendedEvents += append.events.length;
      this.acks.noteDurable(segment, append.events);
      append.resolve();
      if (this.window.admit(segment, offset, append.events)) loaded = true;
    }
    if (loaded) this.notify();
  }
}
