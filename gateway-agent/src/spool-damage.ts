/**
 * What damage inside the segments cost, in readings: counted at open for each damaged run the segments sorted
 * out (spool-segments, spool-format), and after open for damage met while paging or dropping. Apart from the
 * segments because it is bookkeeping of seqs, which needs the acks, while the segments deal in bytes.
 *
 * A run whose framing holds gives its events' keys and seqs; events Kinesis had acknowledged are not lost.
 * A run whose framing is broken gives only its bytes; its seqs are then inferred from the gap it leaves in the
 * seqs of each treadmill seen again after it (per key, seq only increases in log order), which misses the
 * treadmills never seen again: hence "at least".
 */
import type { AckLedger } from './spool-acks.js';
import type { DamagedRun, EventView } from './spool-format.js';
import type { LostRange } from './spool-space.js';

export interface SpoolDamage {
  /** Damaged runs skipped (one or more entries each), torn tails not included. */
  places: number;
  /** Damaged entries whose framing held, so that their events were counted. */
  entries: number;
  /** Readings lost to damage: unacked events of damaged entries, and seqs missing around broken runs. */
  events: number;
  /** Bytes of damaged runs. */
  bytes: number;
  /** Bytes of damaged runs whose events could not be told from the bytes. */
  uncountedBytes: number;
  /** Seq ranges (inclusive) lost to damage, as far as known; the first 10,000. */
  lostRanges: LostRange[];
  /** Damaged segment files kept aside (`*.corrupt`) for a look. */
  setAside: string[];
  /** One line for /healthz, null without damage. */
  summary: string | null;
}

const MAX_LOST_RANGES = 10_000;

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

export class DamageLedger {
  private places = 0;
  private entries = 0;
  private events = 0;
  private bytes = 0;
  private uncountedBytes = 0;
  private laterPlaces = 0;
  private laterBytes = 0;
  private readonly ranges: LostRange[] = [];
  /** Each key's latest range, which a loss continuing it extends. */
  private readonly lastRange = new Map<string, LostRange>();
  private readonly setAsideFiles: string[] = [];
  /** At open: per key, the last seq seen in log order and how many broken runs the scan had passed then. */
  private lastSeen = new Map<string, { seq: number; brokenBefore: number }>();
  private brokenRuns = 0;

  constructor(
    private readonly acks: AckLedger,
    private readonly log: (line: string) => void,
  ) {}

  /** At open: the events of a verified entry, in log order. */
  seen(events: readonly EventView[]): void {
    for (const { key, seq } of events) {
      const previous = this.lastSeen.get(key);
      if ((previous?.brokenBefore ?? 0) < this.brokenRuns) {
        // A broken run lies between this event and the key's previous one (or its last ack): what is
        // missing between them was in it.
        const from = Math.max(previous?.seq ?? 0, this.acks.ackedSeq(key)) + 1;
        if (seq > from) this.lose(key, from, seq - 1);
      }
      this.lastSeen.set(key, { seq, brokenBefore: this.brokenRuns });
    }
  }

  /** At open: a damaged run, in log order with the entries around it. */
  damaged(run: DamagedRun): void {
    this.places++;
    this.bytes += run.end - run.start;
    if (run.events === undefined || !this.plausible(run.events)) {
      this.uncountedBytes += run.end - run.start;
      this.brokenRuns++;
      return;
    }
    this.entries += run.entries;
    this.seen(run.events);
    for (const { key, seq } of run.events) {
      // Never hand out a seq again that was written once, lost or not.
      this.acks.noteSeq(key, seq);
      if (seq > this.acks.ackedSeq(key)) this.lose(key, seq, seq);
    }
  }

  /** At open: `file` was kept aside as `aside`. */
  setAside(aside: string): void {
    this.setAsideFiles.push(aside);
  }

  /** After open: damage met at `offset` of `file` while paging or dropping; `bytes` from there were skipped. */
  later(file: string, offset: number, bytes: number): void {
    this.laterPlaces++;
    this.laterBytes += bytes;
    this.log(`spool: ${file} is damaged at ${offset}: ${bytes} bytes skipped, their readings lost`);
  }

  /** The end of open: one line for the log when there was damage. */
  finishRecovery(): void {
    this.lastSeen = new Map();
    if (this.places === 0) return;
    const ranges = this.ranges.map((range) => `${range.key} ${range.fromSeq}-${range.toSeq}`).join(', ');
    this.log(
      `${this.startSummary()} (${plural(this.places, 'damaged run', 'damaged runs')}, ${this.bytes} bytes)` +
        `${ranges === '' ? '' : `; seqs lost: ${ranges}`}; damaged files kept as ${this.setAsideFiles.join(', ')}`,
    );
  }

  stats(): SpoolDamage {
    const summaries = [
      ...(this.places > 0 ? [this.startSummary()] : []),
      ...(this.laterPlaces > 0
        ? [`spool: ${this.laterBytes} damaged bytes skipped since start, their readings lost`]
        : []),
    ];
    return {
      places: this.places + this.laterPlaces,
      entries: this.entries,
      events: this.events,
      bytes: this.bytes + this.laterBytes,
      uncountedBytes: this.uncountedBytes + this.laterBytes,
      lostRanges: this.ranges.map((range) => ({ ...range })),
      setAside: [...this.setAsideFiles],
      summary: summaries.length > 0 ? summaries.join('; ') : null,
    };
  }

  private startSummary(): string {
    if (this.uncountedBytes === 0) {
      const lost =
        this.events > 0 ? `${plural(this.events, 'reading', 'readings')} lost` : 'all shipped before';
      return `spool: ${plural(this.entries, 'damaged entry', 'damaged entries')} skipped at start, ${lost}`;
    }
    const entries = this.entries > 0 ? `${plural(this.entries, 'entry', 'entries')} and ` : '';
    const lost =
      this.events > 0
        ? `at least ${plural(this.events, 'reading', 'readings')} lost`
        : 'readings lost unknown';
    return `spool: damage skipped at start: ${entries}${this.uncountedBytes} bytes, ${lost}`;
  }

  /** Decoded events are trusted only if each key's seqs go on increasing from where the scan saw it last. */
  private plausible(events: readonly EventView[]): boolean {
    const last = new Map<string, number>();
    for (const { key, seq } of events) {
      if (seq <= (last.get(key) ?? this.lastSeen.get(key)?.seq ?? 0)) return false;
      last.set(key, seq);
    }
    return true;
  }

  private lose(key: string, fromSeq: number, toSeq: number): void {
    this.events += toSeq - fromSeq + 1;
    const previous = this.lastRange.get(key);
    if (previous !== undefined && previous.toSeq + 1 === fromSeq) {
      previous.toSeq = toSeq;
    } else if (this.ranges.length < MAX_LOST_RANGES) {
      const range = { key, fromSeq, toSeq };
      this.ranges.push(range);
      this.lastRange.set(key, range);
    }
  }
}
