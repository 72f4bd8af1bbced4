/** Rejected input, counted per source and reason, with the last few samples kept for /rejects. */

export const REJECT_SAMPLE_LIMIT = 20;
const PREVIEW_CHARS = 200;

export interface RejectSample {
  readonly at: number;
  readonly source: string;
  readonly reason: string;
  readonly detail: string;
  /** Where it came from: an MQTT topic or a BLE address. */
  readonly origin: string;
  /** The start of the payload, for a human to see what arrived. */
  readonly preview: string;
}

export class RejectLog {
  readonly #counts = new Map<string, number>();
  readonly #samples: RejectSample[] = [];

  constructor(private readonly limit = REJECT_SAMPLE_LIMIT) {}

  record(sample: RejectSample): void {
    const key = `${sample.source}\u0000${sample.reason}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.#samples.push({ ...sample, preview: sample.preview.slice(0, PREVIEW_CHARS) });
    if (this.#samples.length > this.limit) this.#samples.shift();
  }

  /** Counts by source and reason. */
  counts(): Array<{ source: string; reason: string; count: number }> {
    return [...this.#counts].map(([key, count]) => {
      const [source = '', reason = ''] = key.split('\u0000');
      return { source, reason, count };
    });
  }

  total(source?: string): number {
    return this.counts()
      .filter((entry) => source === undefined || entry.source === source)
      .reduce((sum, entry) => sum + entry.count, 0);
  }

  /** Newest last. */
  samples(): readonly RejectSample[] {
    return [...this.#samples];
  }
}
