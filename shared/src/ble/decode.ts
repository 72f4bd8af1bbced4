/** One entry point for every characteristic, by kind name or 16-bit UUID. */
import { DecodeError } from './errors.js';
import { decodeHeartRate, type HeartRate } from './heart-rate.js';
import { decodeMachineFeatures, type MachineFeatures } from './machine-feature.js';
import { decodeMachineStatus, type MachineStatus } from './machine-status.js';
import { decodeRsc, type RscMeasurement } from './rsc.js';
import { decodeSpeedRange, type SpeedRange } from './speed-range.js';
import { decodeTrainingStatus, type TrainingStatus } from './training-status.js';
import { decodeTreadmillData, mergeTreadmillFragments, type TreadmillData } from './treadmill-data.js';

/** Kind name -> 16-bit UUID (lower-case hex). */
export const CHARACTERISTIC_UUIDS = {
  ftms: '2acd',
  'ftms-status': '2ada',
  'training-status': '2ad3',
  'speed-range': '2ad4',
  feature: '2acc',
  hrs: '2a37',
  rsc: '2a53',
} as const;
export type CharacteristicKind = keyof typeof CHARACTERISTIC_UUIDS;
export const CHARACTERISTIC_KINDS = Object.keys(CHARACTERISTIC_UUIDS) as CharacteristicKind[];

export interface ReadingByKind {
  ftms: TreadmillData;
  'ftms-status': MachineStatus;
  'training-status': TrainingStatus;
  'speed-range': SpeedRange;
  feature: MachineFeatures;
  hrs: HeartRate;
  rsc: RscMeasurement;
}
export type DecodedReading = ReadingByKind[CharacteristicKind];

const DECODERS: { readonly [K in CharacteristicKind]: (frame: Uint8Array) => ReadingByKind[K] } = {
  ftms: decodeTreadmillData,
  'ftms-status': decodeMachineStatus,
  'training-status': decodeTrainingStatus,
  'speed-range': decodeSpeedRange,
  feature: decodeMachineFeatures,
  hrs: decodeHeartRate,
  rsc: decodeRsc,
};

const KIND_BY_UUID = new Map<string, CharacteristicKind>(
  CHARACTERISTIC_KINDS.map((kind) => [CHARACTERISTIC_UUIDS[kind], kind]),
);
/** The Bluetooth base UUID: 16-bit UUIDs sit in its first group, `0000xxxx-0000-1000-8000-00805f9b34fb`. */
const BASE_UUID = /^0000([0-9a-f]{4})-0000-1000-8000-00805f9b34fb$/;

/** 'ftms', '2acd', '0x2ACD' and '00002acd-0000-1000-8000-00805f9b34fb' all name Treadmill Data. */
export function resolveCharacteristic(name: string): CharacteristicKind | undefined {
  const key = name.trim().toLowerCase();
  if (Object.hasOwn(CHARACTERISTIC_UUIDS, key)) return key as CharacteristicKind;
  const short = BASE_UUID.exec(key)?.[1] ?? (key.startsWith('0x') ? key.slice(2) : key);
  return KIND_BY_UUID.get(short);
}

/**
 * Decodes one notification, or for Treadmill Data the fragments of one split record (merged). Other
 * characteristics are never split, so they accept one fragment only. Throws DecodeError, nothing else.
 */
export function decodeCharacteristic<K extends CharacteristicKind>(
  kind: K,
  input: Uint8Array | readonly Uint8Array[],
): ReadingByKind[K];
export function decodeCharacteristic(kind: string, input: Uint8Array | readonly Uint8Array[]): DecodedReading;
export function decodeCharacteristic(
  kind: string,
  input: Uint8Array | readonly Uint8Array[],
): DecodedReading {
  const resolved = resolveCharacteristic(kind);
  if (resolved === undefined)
    throw new DecodeError(
      'unknown-characteristic',
      `unknown characteristic "${kind}" (expected one of ${CHARACTERISTIC_KINDS.join(', ')} or its UUID)`,
    );
  if (input instanceof Uint8Array) return DECODERS[resolved](input);
  if (resolved === 'ftms') return mergeTreadmillFragments(input);
  const [only, ...rest] = input;
  if (only === undefined) throw new DecodeError('no-fragments', `${resolved}: no frame given`);
  if (rest.length > 0)
    throw new DecodeError(
      'fragments-not-supported',
      `${resolved}: only Treadmill Data (ftms) records are split`,
    );
  return DECODERS[resolved](only);
}
