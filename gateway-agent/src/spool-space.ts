/**
 * What the spool does when full. reject-new refuses appends that do not fit; drop-oldest makes room before
 * each write, first by deleting acked segments, then by dropping the oldest segment with its unacked events,
 * every one counted and its seq range recorded. Apart from the writer because it is policy and bookkeeping of
 * losses, while the writer only puts bytes on disk.
 */
import type { AckLedger } from './spool-acks.js';
import { eventsOf } from './spool-format.js';
import type { Segment, SegmentLog } from './spool-segments.js';
import type { EventWindow } from './spool-window.js';

export interface LostRange {
  key: string;
  fromSeq: number;
  toSeq: number;
}

export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
}

const MAX_LOST_RANGES = 10_000;

export interface SpacePolicyOptions {
  readonly policy: 'drop-oldest' | 'reject-new';
  readonly maxBytes: number;
  readonly segments: SegmentLog;
  readonly window: EventWindow;
  readonly acks: AckLedger;
  /** Persists acks and deletes the segments they cover. */
  readonly checkpoint: () => Promise<void>;
  /** Seals the active segment and starts the next (the window's cursor following). */
  readonly rollover: () => Promise<void>;
  /** Deletes a sealed segment (the window's cursor following). */
  readonly deleteSegment: (segment: Segment) => Promise<void>;
  /** Damage met while dropping: the rest of `segment` from `offset` could not be read. */
  readonly damaged: (segment: Segment, offset: number) => void;
  readonly log: (line: string) => void;
}

export class SpacePolicy {
  readonly maxBytes: number;
  /** Whether writes must call makeRoom() first. */
  readonly dropsOldest: boolean;
  private readonly options: SpacePolicyOptions;
  private droppedEvents = 0;
  private rejectedEvents = 0;
  private readonly lostRanges: LostRange[] = [];
  /** Each key's latest lost range, which a following drop extends when it continues it. */
  private readonly lastLostRange = new Map<string, LostRange>();

  constructor(options: SpacePolicyOptions) {
    this.options = options;
    this.maxBytes = options.maxBytes;
    this.dropsOldest = options.policy === 'drop-oldest';
  }

  get dropped(): number {
    return this.droppedEvents;
  }

  get rejected(): number {
    return this.rejectedEvents;
  }

  /** Seq ranges dropped unacked, consecutive ones merged; the latest MAX_LOST_RANGES, as copies. */
  lost(): LostRange[] {
    return this.lostRanges.map((range) => ({ ...range }));
  }

  /** Whether `bytes` more fit beside the segment files; always so under drop-oldest (it makes room). */
  fits(bytes: number): boolean {
    return this.dropsOldest || this.options.segments.diskBytes + bytes <= this.maxBytes;
  }

  /** Counts `count` events refused; returns the error to throw. */
  refuse(count: number, message: string): SpoolFullError {
    this.rejectedEvents += count;
    return new SpoolFullError(message);
  }

  /** drop-oldest: reclaims acked segments, then drops the oldest until `bytes` more fit. In the io queue. */
  async makeRoom(bytes: number): Promise<void> {
    const { segments } = this.options;
    if (segments.diskBytes + bytes <= this.maxBytes) return;
    await this.options.checkpoint();
    while (segments.diskBytes + bytes > this.maxBytes && segments.diskBytes > 0) {
      if (segments.oldest === segments.active) await this.options.rollover();
      await this.dropOldest();
    }
  }

  /** Drops the oldest (sealed) segment, counting and recording every unacked event in it. */
  private async dropOldest(): Promise<void> {
    const { segments, window, acks } = this.options;
    const segment = segments.oldest;
    const lostSeqs = new Map<string, number[]>();
    const scan = await segments.scan(segment, 0, (body, offset) => {
      const unloaded = window.isUnloaded(segment, offset);
      let forgotten = 0;
      for (const event of eventsOf(body)) {
        if (event.seq <= acks.ackedSeq(event.key)) continue;
        const seqs = lostSeqs.get(event.key) ?? [];
        seqs.push(event.seq);
        lostSeqs.set(event.key, seqs);
        if (unloaded) forgotten++;
      }
      window.forgetUnloaded(forgotten);
      return true;
    });
    // Its events cannot be told, so they are counted as damaged bytes rather than dropped events.
    if (scan.corrupt) this.options.damaged(segment, scan.end);
    // Per key, everything up to the segment's highest seq is now gone: treat it as acked.
    for (const [key, maxSeq] of segment.maxSeq) {
      if (maxSeq > acks.ackedSeq(key)) acks.setAcked(key, maxSeq);
      window.trimAcked(key);
    }
    await acks.persist();
    await this.options.deleteSegment(segment);

    const ranges = [...lostSeqs].flatMap(([key, seqs]) => this.recordLost(key, seqs));
    if (ranges.length > 0) {
      const lost = ranges.reduce((sum, range) => sum + range.toSeq - range.fromSeq + 1, 0);
      const list = ranges.map((range) => `${range.key} ${range.fromSeq}-${range.toSeq}`).join(', ');
      this.options.log(
        `spool: full (drop-oldest): dropped ${lost} unacked events from ${segment.path}: ${list}`,
      );
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
    this.droppedEvents += seqs.length;
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
