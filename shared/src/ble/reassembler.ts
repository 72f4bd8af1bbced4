/** Per-device reassembly of split Treadmill Data records (FTMS §4.19), fed one notification at a time. */
import {
  decodeTreadmillData,
  hasMoreData,
  mergeTreadmillFragments,
  type TreadmillData,
} from './treadmill-data.js';

/** A full record is 34–36 bytes, two 20-byte notifications; more pending fragments means a lost last one. */
const DEFAULT_MAX_PENDING = 4;

export class FtmsReassembler {
  #pending: Uint8Array[] = [];
  #discarded = 0;

  constructor(private readonly maxPending = DEFAULT_MAX_PENDING) {}

  /**
   * Takes the next notification; returns the merged record when it is the last fragment (More Data = 0),
   * otherwise undefined. Throws DecodeError for a frame too short to hold its flags.
   */
  push(fragment: Uint8Array): TreadmillData | undefined {
    if (hasMoreData(fragment)) {
      if (this.#pending.length >= this.maxPending) this.#discarded += this.#pending.splice(0).length;
      // Copied: BLE stacks may reuse the notification buffer.
      this.#pending.push(fragment.slice());
      return undefined;
    }
    const record =
      this.#pending.length === 0
        ? decodeTreadmillData(fragment)
        : mergeTreadmillFragments([...this.#pending, fragment]);
    if (this.#discarded > 0)
      record.warnings.push(
        `${this.#discarded} earlier fragment(s) discarded: no last fragment followed them`,
      );
    this.#pending = [];
    this.#discarded = 0;
    return record;
  }

  /** Drops a half-received record, e.g. when the link drops: FTMS §4.18 discards partial records. */
  reset(): void {
    this.#pending = [];
    this.#discarded = 0;
  }

  get pendingFragments(): number {
    return this.#pending.length;
  }
}
