/** FTMS Treadmill Data (0x2ACD), FTMS v1.0 §4.4.1: layout in docs/domain.md 1.2, pace widths in 1.3. */
import { DecodeError } from './errors.js';
import {
  type DecodeOutcome,
  type FieldSpec,
  field,
  readFields,
  requireLength,
  viewOf,
  warnReservedBits,
  warnTrailingBytes,
} from './fields.js';

export const TREADMILL_FIELDS = [
  'speedKmh',
  'avgSpeedKmh',
  'distanceM',
  'inclinePct',
  'rampDeg',
  'elevationGainM',
  'elevationLossM',
  'paceKmMin',
  'avgPaceKmMin',
  'paceSPer500m',
  'avgPaceSPer500m',
  'energyKcal',
  'energyPerHourKcal',
  'energyPerMinuteKcal',
  'hrBpm',
  'met',
  'elapsedS',
  'remainingS',
  'forceN',
  'powerW',
] as const;
export type TreadmillField = (typeof TREADMILL_FIELDS)[number];

/** 'uint8': 2017 XML, km/min at 0.1 (`paceKmMin`); 'uint16': current GSS, s per 500 m (`paceSPer500m`). */
export type PaceWidth = 'uint8' | 'uint16';

export interface TreadmillData extends DecodeOutcome, Partial<Record<TreadmillField, number>> {
  readonly kind: 'ftms';
  flags: number;
  /** Flag bit 0: more fragments of this record follow; speed travels only in the last one. */
  moreData: boolean;
  /** Set when a pace field is present: the width that made the frame length add up. */
  paceWidth?: PaceWidth;
}

const FLAGS_BYTES = 2;
const MORE_DATA = 1 << 0;
const PACE_FLAGS = (1 << 5) | (1 << 6);
const RESERVED_FLAGS = 0xe000;

const ftmsField = (name: TreadmillField, wire: FieldSpec<TreadmillField>['wire'], bit: number, divisor = 1) =>
  field(name, wire, { whenSet: 1 << bit, divisor, sentinels: true });

const BEFORE_PACE = [
  // Inverted: speed is present when More Data is clear.
  field('speedKmh', 'uint16', { whenClear: MORE_DATA, divisor: 100, sentinels: true }),
  ftmsField('avgSpeedKmh', 'uint16', 1, 100),
  ftmsField('distanceM', 'uint24', 2),
  ftmsField('inclinePct', 'sint16', 3, 10),
  ftmsField('rampDeg', 'sint16', 3, 10),
  ftmsField('elevationGainM', 'uint16', 4, 10),
  ftmsField('elevationLossM', 'uint16', 4, 10),
];
const AFTER_PACE = [
  ftmsField('energyKcal', 'uint16', 7),
  ftmsField('energyPerHourKcal', 'uint16', 7),
  ftmsField('energyPerMinuteKcal', 'uint8', 7),
  field('hrBpm', 'uint8', { whenSet: 1 << 8, sentinels: true, zeroMeansAbsent: true }),
  ftmsField('met', 'uint8', 9, 10),
  ftmsField('elapsedS', 'uint16', 10),
  ftmsField('remainingS', 'uint16', 11),
  ftmsField('forceN', 'sint16', 12),
  ftmsField('powerW', 'sint16', 12),
];
const LAYOUTS: Readonly<Record<PaceWidth, readonly FieldSpec<TreadmillField>[]>> = {
  uint8: [
    ...BEFORE_PACE,
    ftmsField('paceKmMin', 'uint8', 5, 10),
    ftmsField('avgPaceKmMin', 'uint8', 6, 10),
    ...AFTER_PACE,
  ],
  uint16: [
    ...BEFORE_PACE,
    ftmsField('paceSPer500m', 'uint16', 5),
    ftmsField('avgPaceSPer500m', 'uint16', 6),
    ...AFTER_PACE,
  ],
};

/** Whether a Treadmill Data fragment says more fragments of its record follow (flag bit 0). */
export function hasMoreData(fragment: Uint8Array): boolean {
  requireLength(fragment, FLAGS_BYTES, 'treadmill data');
  return ((fragment[0] ?? 0) & MORE_DATA) !== 0;
}

/**
 * Decodes one Treadmill Data notification. Pace fields are read at the 2017 uint8 width first; when that
 * leaves bytes over, the GSS uint16 width is used if it consumes the frame exactly (docs/domain.md 1.3).
 */
export function decodeTreadmillData(bytes: Uint8Array): TreadmillData {
  requireLength(bytes, FLAGS_BYTES, 'treadmill data');
  const view = viewOf(bytes);
  const flags = view.getUint16(0, true);
  let reading = emptyReading(flags);
  let consumed = readFields(view, FLAGS_BYTES, flags, LAYOUTS.uint8, reading);
  if ((flags & PACE_FLAGS) !== 0) {
    reading.paceWidth = 'uint8';
    if (!reading.partial && consumed < bytes.length) {
      const wide = emptyReading(flags);
      const wideConsumed = readFields(view, FLAGS_BYTES, flags, LAYOUTS.uint16, wide);
      if (!wide.partial && wideConsumed === bytes.length) {
        wide.paceWidth = 'uint16';
        reading = wide;
        consumed = wideConsumed;
      }
    }
  }
  warnReservedBits(reading, flags, RESERVED_FLAGS);
  warnTrailingBytes(reading, consumed, bytes.length);
  return reading;
}

/**
 * Merges the fragments of one split record (FTMS §4.19): every fragment but the last has More Data = 1.
 * Flags are OR-ed (More Data from the last fragment); a field sent twice keeps the later value, with a warning.
 */
export function mergeTreadmillFragments(fragments: readonly Uint8Array[]): TreadmillData {
  const last = fragments.at(-1);
  if (last === undefined) throw new DecodeError('no-fragments', 'treadmill data: no fragments to merge');
  if (fragments.length === 1) return decodeTreadmillData(last);
  const parts = fragments.map(decodeTreadmillData);
  const lastPart = parts.at(-1)!;
  let flags = 0;
  for (const part of parts) flags |= part.flags;
  const merged = emptyReading((flags & ~MORE_DATA) | (lastPart.flags & MORE_DATA));
  parts.forEach((part, index) => {
    const label = `fragment ${index + 1}`;
    for (const name of TREADMILL_FIELDS) {
      const value = part[name];
      if (value === undefined) continue;
      if (merged[name] !== undefined) merged.warnings.push(`${label}: ${name} sent again; kept this value`);
      merged[name] = value;
    }
    if (part.paceWidth !== undefined) merged.paceWidth = part.paceWidth;
    if (part.partial && !merged.partial) {
      merged.partial = true;
      merged.error = `${label}: ${part.error}`;
    }
    for (const warning of part.warnings) merged.warnings.push(`${label}: ${warning}`);
    if (part !== lastPart && !part.moreData)
      merged.warnings.push(`${label}: More Data = 0 before the last fragment`);
  });
  if (lastPart.moreData && !merged.partial) {
    merged.partial = true;
    merged.error = 'record incomplete: the last fragment has More Data = 1, so speedKmh never arrived';
  }
  return merged;
}

function emptyReading(flags: number): TreadmillData {
  return { kind: 'ftms', flags, moreData: (flags & MORE_DATA) !== 0, partial: false, warnings: [] };
}
