/**
 * Accepted readings -> canonical events: the gateway assigns `id`, `seq`, `ts` and `rxTs`
 * (docs/architecture.md section 2).
 */
import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import { type EventBody, partitionKey, type TelemetryEvent } from '../../shared/src/telemetry/events.js';

/** A device clock further than this from the receive time is not trusted. */
export const CLOCK_TOLERANCE_MS = 5 * 60_000;

export interface Reading {
  readonly gymId: string;
  readonly treadmillId: string;
  readonly body: EventBody;
  /** Gateway receive time, epoch ms. */
  readonly rxTs: number;
  /** The device's own timestamp, when the source carries one. */
  readonly deviceTs?: number;
  /** Hex of the source frame (BLE notifications). */
  readonly raw?: string;
}

const RANDOM_POOL_BYTES = 4_096;

/**
 * Cryptographic randomness drawn 4 KiB at a time: ulid's default source makes one crypto call per
 * character (16 per new millisecond), which costs more than everything else in stamping.
 */
export function pooledRandom(): () => number {
  const pool = Buffer.alloc(RANDOM_POOL_BYTES);
  let next = RANDOM_POOL_BYTES;
  return () => {
    if (next === RANDOM_POOL_BYTES) {
      randomFillSync(pool);
      next = 0;
    }
    return (pool[next++] as number) / 256;
  };
}

/** `ts`: the device clock when it is sane (finite, positive, within CLOCK_TOLERANCE_MS), else receive time. */
export function measuredAt(deviceTs: number | undefined, rxTs: number): number {
  if (deviceTs === undefined || !Number.isFinite(deviceTs) || deviceTs <= 0) return rxTs;
  return Math.abs(deviceTs - rxTs) <= CLOCK_TOLERANCE_MS ? Math.round(deviceTs) : rxTs;
}

export class EventStamper {
  readonly #seqByKey = new Map<string, number>();

  /**
   * `lastSeq` gives the highest seq already spooled for a partition key (Spool.lastSeq), so counters continue
   * across restarts; it is asked once per treadmill.
   */
  constructor(
    private readonly lastSeq: (key: string) => number,
    private readonly newId: (seedTime: number) => string = monotonicFactory(pooledRandom()),
  ) {}

  stamp(reading: Reading): TelemetryEvent {
    const key = partitionKey(reading.gymId, reading.treadmillId);
    const seq = (this.#seqByKey.get(key) ?? this.lastSeq(key)) + 1;
    this.#seqByKey.set(key, seq);
    const event = {
      ...reading.body,
      id: this.newId(reading.rxTs),
      gymId: reading.gymId,
      treadmillId: reading.treadmillId,
      seq,
      ts: measuredAt(reading.deviceTs, reading.rxTs),
      rxTs: reading.rxTs,
    } as TelemetryEvent;
    if (reading.raw !== undefined) event.raw = reading.raw;
    return event;
  }
}
