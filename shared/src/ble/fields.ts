/**
 * What every characteristic decoder shares: the outcome fields, little-endian wire reads through a DataView,
 * and one table-driven field reader, so each decoder is a layout table rather than hand-written offsets.
 */
import { DecodeError } from './errors.js';

/** Every decoded reading says whether the frame ended early, where, and what looked odd. */
export interface DecodeOutcome {
  /** True when the frame ended before a field its flags (or layout) promised. */
  partial: boolean;
  /** Names the field where the bytes ran out; set only when `partial`. */
  error?: string;
  warnings: string[];
}

export type Wire = 'uint8' | 'uint16' | 'sint16' | 'uint24' | 'uint32';

export const WIRE_BYTES: Readonly<Record<Wire, number>> = {
  uint8: 1,
  uint16: 2,
  sint16: 2,
  uint24: 3,
  uint32: 4,
};

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bluetooth SIG fields are little-endian ("LSO first"). */
export function readWire(view: DataView, offset: number, wire: Wire): number {
  switch (wire) {
    case 'uint8':
      return view.getUint8(offset);
    case 'uint16':
      return view.getUint16(offset, true);
    case 'sint16':
      return view.getInt16(offset, true);
    case 'uint24':
      return view.getUint16(offset, true) + view.getUint8(offset + 2) * 0x10000;
    case 'uint32':
      return view.getUint32(offset, true);
  }
}

/**
 * FTMS "not available" values. Unsigned 16-bit fields also treat 0x7FFF as absent, because Life Fitness
 * consoles send the signed sentinel there (docs/domain.md 1.6); no 16-bit treadmill quantity plausibly reads 0x7FFF.
 */
function isNotAvailable(wire: Wire, raw: number): boolean {
  switch (wire) {
    case 'uint8':
      return raw === 0xff;
    case 'uint16':
      return raw === 0xffff || raw === 0x7fff;
    case 'sint16':
      return raw === 0x7fff;
    case 'uint24':
      return raw === 0xffffff;
    case 'uint32':
      return raw === 0xffffffff;
  }
}

export interface FieldSpec<K extends string> {
  readonly name: K;
  readonly wire: Wire;
  /** Canonical value = raw × multiplier / divisor (dividing last keeps 0.1 and 0.01 steps exact). */
  readonly multiplier: number;
  readonly divisor: number;
  /** Present only when all these flag bits are set (0: no condition). */
  readonly whenSet: number;
  /** Present only when all these flag bits are clear (0: no condition); FTMS More Data is inverted. */
  readonly whenClear: number;
  /** Leave the field out when it holds a "not available" sentinel. */
  readonly sentinels: boolean;
  /** Leave the field out when it is 0 (heart rate 0 = no skin contact). */
  readonly zeroMeansAbsent: boolean;
}

export function field<K extends string>(
  name: K,
  wire: Wire,
  options: Partial<Omit<FieldSpec<K>, 'name' | 'wire'>> = {},
): FieldSpec<K> {
  return {
    name,
    wire,
    multiplier: options.multiplier ?? 1,
    divisor: options.divisor ?? 1,
    whenSet: options.whenSet ?? 0,
    whenClear: options.whenClear ?? 0,
    sentinels: options.sentinels ?? false,
    zeroMeansAbsent: options.zeroMeansAbsent ?? false,
  };
}

export type FieldTarget<K extends string> = DecodeOutcome & { [P in K]?: number };

/**
 * Reads the fields of `layout` that `flags` says are present, from `offset` on, into `target`.
 * Returns the offset after the last field read; when the frame ends inside a field, marks `target`
 * partial, names that field in `error` and stops there.
 */
export function readFields<K extends string>(
  view: DataView,
  offset: number,
  flags: number,
  layout: readonly FieldSpec<K>[],
  target: FieldTarget<K>,
): number {
  let at = offset;
  for (const spec of layout) {
    if ((flags & spec.whenSet) !== spec.whenSet || (flags & spec.whenClear) !== 0) continue;
    const size = WIRE_BYTES[spec.wire];
    if (at + size > view.byteLength) {
      markEndedInside(target, spec.name, at, size, view.byteLength);
      return at;
    }
    const raw = readWire(view, at, spec.wire);
    at += size;
    if ((spec.sentinels && isNotAvailable(spec.wire, raw)) || (spec.zeroMeansAbsent && raw === 0)) continue;
    (target as { [P in K]?: number })[spec.name] = (raw * spec.multiplier) / spec.divisor;
  }
  return at;
}

export function markEndedInside(
  target: DecodeOutcome,
  fieldName: string,
  offset: number,
  size: number,
  length: number,
): void {
  target.partial = true;
  target.error = `frame ended inside ${fieldName}: needs ${size} byte(s) at offset ${offset}, frame has ${length}`;
}

/** A frame shorter than its fixed header (flags or op code) holds nothing to decode. */
export function requireLength(bytes: Uint8Array, minimum: number, characteristic: string): void {
  if (bytes.length === 0) throw new DecodeError('empty-frame', `${characteristic}: empty frame`);
  if (bytes.length < minimum)
    throw new DecodeError(
      'too-short',
      `${characteristic}: frame of ${bytes.length} byte(s) is shorter than its ${minimum}-byte header`,
    );
}

export function warnReservedBits(target: DecodeOutcome, flags: number, reservedMask: number): void {
  const reserved = flags & reservedMask;
  if (reserved !== 0)
    target.warnings.push(`reserved flag bits set (0x${reserved.toString(16)}); decoded the known fields`);
}

export function warnTrailingBytes(target: DecodeOutcome, consumed: number, length: number): void {
  if (!target.partial && consumed < length)
    target.warnings.push(`${length - consumed} trailing byte(s) after the last known field ignored`);
}
