/** Heart Rate Measurement (0x2A37), docs/domain.md 1.5. */
import {
  type DecodeOutcome,
  field,
  markEndedInside,
  readFields,
  requireLength,
  viewOf,
  warnReservedBits,
  warnTrailingBytes,
} from './fields.js';

export interface HeartRate extends DecodeOutcome {
  readonly kind: 'hrs';
  flags: number;
  /** Left out when the sensor sends 0 (no skin contact). */
  hrBpm?: number;
  /** Only when the sensor supports contact detection (flag bit 2); bit 1 alone means nothing. */
  contact?: boolean;
  energyKj?: number;
  /** RR intervals in milliseconds, oldest first. */
  rrMs?: number[];
}

const UINT16_HR = 1 << 0;
const CONTACT_DETECTED = 1 << 1;
const CONTACT_SUPPORTED = 1 << 2;
const ENERGY_PRESENT = 1 << 3;
const RR_PRESENT = 1 << 4;
const RESERVED_FLAGS = 0xe0;
const RR_UNITS_PER_SECOND = 1024;

const LAYOUT = [
  field('hrBpm', 'uint8', { whenClear: UINT16_HR, zeroMeansAbsent: true }),
  field('hrBpm', 'uint16', { whenSet: UINT16_HR, zeroMeansAbsent: true }),
  // No sentinel: HRS saturates Energy Expended at 0xFFFF rather than marking it unavailable.
  field('energyKj', 'uint16', { whenSet: ENERGY_PRESENT }),
] as const;

export function decodeHeartRate(bytes: Uint8Array): HeartRate {
  requireLength(bytes, 1, 'heart rate measurement');
  const view = viewOf(bytes);
  const flags = bytes[0] ?? 0;
  const reading: HeartRate = { kind: 'hrs', flags, partial: false, warnings: [] };
  warnReservedBits(reading, flags, RESERVED_FLAGS);
  if ((flags & CONTACT_SUPPORTED) !== 0) reading.contact = (flags & CONTACT_DETECTED) !== 0;
  let offset = readFields(view, 1, flags, LAYOUT, reading);
  if (reading.partial) return reading;
  if ((flags & RR_PRESENT) !== 0) {
    const rrMs: number[] = [];
    for (; offset + 2 <= bytes.length; offset += 2)
      rrMs.push((view.getUint16(offset, true) * 1000) / RR_UNITS_PER_SECOND);
    reading.rrMs = rrMs;
    if (offset < bytes.length) markEndedInside(reading, 'rrMs', offset, 2, bytes.length);
  }
  warnTrailingBytes(reading, offset, bytes.length);
  return reading;
}
