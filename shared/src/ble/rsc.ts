/** Running Speed and Cadence Measurement (0x2A53), docs/domain.md 1.5. */
import {
  type DecodeOutcome,
  field,
  readFields,
  requireLength,
  viewOf,
  warnReservedBits,
  warnTrailingBytes,
} from './fields.js';

export interface RscMeasurement extends DecodeOutcome {
  readonly kind: 'rsc';
  flags: number;
  speedKmh?: number;
  /** Steps (not strides) per minute. */
  cadenceSpm?: number;
  strideLengthM?: number;
  distanceM?: number;
  /** Flag bit 2: 1 = running, 0 = walking (some parsers have it reversed; this follows the spec). */
  running: boolean;
}

const STRIDE_PRESENT = 1 << 0;
const DISTANCE_PRESENT = 1 << 1;
const RUNNING = 1 << 2;
const RESERVED_FLAGS = 0xf8;

const LAYOUT = [
  // Speed is in 1/256 m/s: km/h = raw × 3.6 / 256.
  field('speedKmh', 'uint16', { multiplier: 3.6, divisor: 256 }),
  field('cadenceSpm', 'uint8'),
  field('strideLengthM', 'uint16', { whenSet: STRIDE_PRESENT, divisor: 100 }),
  field('distanceM', 'uint32', { whenSet: DISTANCE_PRESENT, divisor: 10 }),
] as const;

export function decodeRsc(bytes: Uint8Array): RscMeasurement {
  requireLength(bytes, 1, 'RSC measurement');
  const flags = bytes[0] ?? 0;
  const reading: RscMeasurement = {
    kind: 'rsc',
    flags,
    running: (flags & RUNNING) !== 0,
    partial: false,
    warnings: [],
  };
  warnReservedBits(reading, flags, RESERVED_FLAGS);
  const consumed = readFields(viewOf(bytes), 1, flags, LAYOUT, reading);
  warnTrailingBytes(reading, consumed, bytes.length);
  return reading;
}
