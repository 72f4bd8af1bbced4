/**
 * Encoders for Treadmill Data, Heart Rate and RSC: the simulator and the recording generator speak BLE with
 * them. Written from docs/domain.md 1.2/1.5 independently of the decoders' layout tables, so the round-trip tests
 * check the decoders against a second reading of the spec.
 * Values are canonical (km/h, m, %, ...); a field missing from a present group is sent as its sentinel.
 */
import type { HeartRate, PaceWidth, RscMeasurement, TreadmillField } from '../../shared/src/ble/index.js';

type Wire = 'u8' | 'u16' | 's16' | 'u24' | 'u32';
interface WireField<K extends string> {
  readonly name: K;
  readonly wire: Wire;
  readonly scale: number;
}

const SENTINEL: Record<Wire, number> = { u8: 0xff, u16: 0xffff, s16: 0x7fff, u24: 0xffffff, u32: 0xffffffff };

class ByteWriter {
  readonly bytes: number[] = [];

  write(wire: Wire, raw: number): void {
    const size = { u8: 1, u16: 2, s16: 2, u24: 3, u32: 4 }[wire];
    const unsigned = raw < 0 ? raw + 2 ** (8 * size) : raw;
    for (let i = 0; i < size; i++) this.bytes.push(Math.floor(unsigned / 2 ** (8 * i)) % 256);
  }

  writeValue<K extends string>(spec: WireField<K>, value: number | undefined): void {
    this.write(spec.wire, value === undefined ? SENTINEL[spec.wire] : Math.round(value * spec.scale));
  }

  toUint8Array(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const f = <K extends string>(name: K, wire: Wire, scale = 1): WireField<K> => ({ name, wire, scale });

/** Flag bit -> the fields it brings, in wire order; bit 0 (speed) is handled apart because it is inverted. */
function treadmillGroups(paceWidth: PaceWidth): [number, WireField<TreadmillField>[]][] {
  const wide = paceWidth === 'uint16';
  return [
    [1, [f('avgSpeedKmh', 'u16', 100)]],
    [2, [f('distanceM', 'u24')]],
    [3, [f('inclinePct', 's16', 10), f('rampDeg', 's16', 10)]],
    [4, [f('elevationGainM', 'u16', 10), f('elevationLossM', 'u16', 10)]],
    [5, [wide ? f('paceSPer500m', 'u16') : f('paceKmMin', 'u8', 10)]],
    [6, [wide ? f('avgPaceSPer500m', 'u16') : f('avgPaceKmMin', 'u8', 10)]],
    [7, [f('energyKcal', 'u16'), f('energyPerHourKcal', 'u16'), f('energyPerMinuteKcal', 'u8')]],
    [8, [f('hrBpm', 'u8')]],
    [9, [f('met', 'u8', 10)]],
    [10, [f('elapsedS', 'u16')]],
    [11, [f('remainingS', 'u16')]],
    [12, [f('forceN', 's16'), f('powerW', 's16')]],
  ];
}

export type TreadmillValues = Partial<Record<TreadmillField, number>>;

/** One Treadmill Data notification; no speed means More Data = 1 (a fragment before the last). */
export function encodeTreadmillData(
  values: TreadmillValues,
  options: { paceWidth?: PaceWidth; extraFlags?: number } = {},
): Uint8Array {
  const body = new ByteWriter();
  let flags = options.extraFlags ?? 0;
  if (values.speedKmh === undefined) flags |= 1;
  else body.writeValue(f('speedKmh', 'u16', 100), values.speedKmh);
  for (const [bit, fields] of treadmillGroups(options.paceWidth ?? 'uint8')) {
    if (fields.every((spec) => values[spec.name] === undefined)) continue;
    flags |= 1 << bit;
    for (const spec of fields) body.writeValue(spec, values[spec.name]);
  }
  const frame = new ByteWriter();
  frame.write('u16', flags);
  frame.bytes.push(...body.bytes);
  return frame.toUint8Array();
}

export type HeartRateValues = Pick<HeartRate, 'hrBpm' | 'contact' | 'energyKj' | 'rrMs'>;

export function encodeHeartRate(values: HeartRateValues, options: { uint16?: boolean } = {}): Uint8Array {
  const frame = new ByteWriter();
  let flags = options.uint16 ? 1 : 0;
  if (values.contact !== undefined) flags |= (values.contact ? 1 << 1 : 0) | (1 << 2);
  if (values.energyKj !== undefined) flags |= 1 << 3;
  if (values.rrMs !== undefined) flags |= 1 << 4;
  frame.write('u8', flags);
  frame.write(options.uint16 ? 'u16' : 'u8', values.hrBpm ?? 0);
  if (values.energyKj !== undefined) frame.write('u16', values.energyKj);
  for (const ms of values.rrMs ?? []) frame.writeValue(f('rr', 'u16', 1024 / 1000), ms);
  return frame.toUint8Array();
}

export type RscValues = Pick<
  RscMeasurement,
  'speedKmh' | 'cadenceSpm' | 'strideLengthM' | 'distanceM' | 'running'
>;

export function encodeRsc(values: RscValues): Uint8Array {
  const frame = new ByteWriter();
  let flags = values.running ? 1 << 2 : 0;
  if (values.strideLengthM !== undefined) flags |= 1 << 0;
  if (values.distanceM !== undefined) flags |= 1 << 1;
  frame.write('u8', flags);
  frame.writeValue(f('speed', 'u16', 256 / 3.6), values.speedKmh ?? 0);
  frame.write('u8', values.cadenceSpm ?? 0);
  if (values.strideLengthM !== undefined) frame.writeValue(f('stride', 'u16', 100), values.strideLengthM);
  if (values.distanceM !== undefined) frame.writeValue(f('distance', 'u32', 10), values.distanceM);
  return frame.toUint8Array();
}
