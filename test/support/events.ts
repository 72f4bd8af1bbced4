/** Canonical events for tests, built directly (no BLE): a treadmill's stream with seq and ids assigned. */
import type { EventBody, TelemetryEvent } from '../../shared/src/telemetry/events.js';

export const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

export class StreamBuilder {
  private seq = 0;
  readonly events: TelemetryEvent[] = [];

  constructor(
    readonly gymId = 'gym-a',
    readonly treadmillId = 'tm-01',
  ) {}

  add(ts: number, body: EventBody): this {
    this.seq++;
    this.events.push({
      ...body,
      // ULID-shaped and deterministic: digits are valid Crockford base32.
      id: String(this.seq).padStart(26, '0'),
      gymId: this.gymId,
      treadmillId: this.treadmillId,
      seq: this.seq,
      ts,
      rxTs: ts + 20,
    } as TelemetryEvent);
    return this;
  }

  /** One belt sample and one heart-rate sample per second, and a step every `stepMs`. */
  walk(
    fromTs: number,
    seconds: number,
    opts: { speedKmh: number; inclinePct?: number; hrBpm?: number; strike?: 'heel' | 'toe'; stepMs?: number },
  ): this {
    const stepMs = opts.stepMs ?? 550;
    let nextStep = fromTs;
    let foot: 'L' | 'R' = 'L';
    for (let s = 0; s < seconds; s++) {
      const ts = fromTs + s * 1000;
      while (opts.strike && nextStep < ts + 1000) {
        if (nextStep >= ts) {
          this.add(nextStep, {
            type: 'step',
            foot,
            strike: opts.strike,
            contactMs: 600,
            stepWidthMm: 100 + (s % 7) * 3,
          });
          foot = foot === 'L' ? 'R' : 'L';
        }
        nextStep += stepMs + ((s * 37) % 11) - 5;
      }
      this.add(ts, { type: 'belt', speedKmh: opts.speedKmh, inclinePct: opts.inclinePct ?? 0 });
      if (opts.hrBpm !== undefined) this.add(ts + 500, { type: 'hr', hrBpm: opts.hrBpm + (s % 5) });
    }
    return this;
  }
}
