/** FTMS Supported Speed Range (0x2AD4): three uint16 at 0.01 km/h (docs/domain.md 1.4). */
import { type DecodeOutcome, field, readFields, requireLength, viewOf, warnTrailingBytes } from './fields.js';

export interface SpeedRange extends DecodeOutcome {
  readonly kind: 'speed-range';
  minSpeedKmh?: number;
  maxSpeedKmh?: number;
  incrementKmh?: number;
}

const LAYOUT = [
  field('minSpeedKmh', 'uint16', { divisor: 100 }),
  field('maxSpeedKmh', 'uint16', { divisor: 100 }),
  field('incrementKmh', 'uint16', { divisor: 100 }),
] as const;

export function decodeSpeedRange(bytes: Uint8Array): SpeedRange {
  requireLength(bytes, 2, 'supported speed range');
  const range: SpeedRange = { kind: 'speed-range', partial: false, warnings: [] };
  const consumed = readFields(viewOf(bytes), 0, 0, LAYOUT, range);
  warnTrailingBytes(range, consumed, bytes.length);
  if (
    range.minSpeedKmh !== undefined &&
    range.maxSpeedKmh !== undefined &&
    range.minSpeedKmh > range.maxSpeedKmh
  )
    range.warnings.push('minimum speed is above maximum speed');
  return range;
}
