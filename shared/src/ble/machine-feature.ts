/** FTMS Fitness Machine Feature (0x2ACC), FTMS §4.3, Tables 4.2–4.4: two 32-bit bit fields. */
import { type DecodeOutcome, markEndedInside, requireLength, viewOf, warnTrailingBytes } from './fields.js';

/** In bit order (bit 0 first); bits 17–31 are reserved. */
export const MACHINE_FEATURES = [
  'averageSpeed',
  'cadence',
  'totalDistance',
  'inclination',
  'elevationGain',
  'pace',
  'stepCount',
  'resistanceLevel',
  'strideCount',
  'expendedEnergy',
  'heartRateMeasurement',
  'metabolicEquivalent',
  'elapsedTime',
  'remainingTime',
  'powerMeasurement',
  'forceOnBeltAndPowerOutput',
  'userDataRetention',
] as const;
export type MachineFeature = (typeof MACHINE_FEATURES)[number];

/** In bit order (bit 0 first); bits 17–31 are reserved. */
export const TARGET_SETTING_FEATURES = [
  'speedTarget',
  'inclinationTarget',
  'resistanceTarget',
  'powerTarget',
  'heartRateTarget',
  'targetedExpendedEnergy',
  'targetedSteps',
  'targetedStrides',
  'targetedDistance',
  'targetedTrainingTime',
  'timeInTwoHrZones',
  'timeInThreeHrZones',
  'timeInFiveHrZones',
  'indoorBikeSimulation',
  'wheelCircumference',
  'spinDownControl',
  'targetedCadence',
] as const;
export type TargetSettingFeature = (typeof TARGET_SETTING_FEATURES)[number];

export interface MachineFeatures extends DecodeOutcome {
  readonly kind: 'feature';
  machineFeatures: Record<MachineFeature, boolean>;
  targetSettingFeatures?: Record<TargetSettingFeature, boolean>;
}

const FIELD_BYTES = 4;

/** Advertised features are sometimes wrong (docs/domain.md 1.4): trust the flags of the data itself more. */
export function decodeMachineFeatures(bytes: Uint8Array): MachineFeatures {
  requireLength(bytes, FIELD_BYTES, 'fitness machine feature');
  const view = viewOf(bytes);
  const warnings: string[] = [];
  const features: MachineFeatures = {
    kind: 'feature',
    machineFeatures: namedBits(view.getUint32(0, true), MACHINE_FEATURES, 'machine feature', warnings),
    partial: false,
    warnings,
  };
  if (bytes.length < 2 * FIELD_BYTES) {
    markEndedInside(features, 'targetSettingFeatures', FIELD_BYTES, FIELD_BYTES, bytes.length);
    return features;
  }
  features.targetSettingFeatures = namedBits(
    view.getUint32(FIELD_BYTES, true),
    TARGET_SETTING_FEATURES,
    'target setting',
    features.warnings,
  );
  warnTrailingBytes(features, 2 * FIELD_BYTES, bytes.length);
  return features;
}

function namedBits<N extends string>(
  bits: number,
  names: readonly N[],
  what: string,
  warnings: string[],
): Record<N, boolean> {
  const named = {} as Record<N, boolean>;
  names.forEach((name, bit) => {
    named[name] = (bits & (1 << bit)) !== 0;
  });
  const reserved = (bits & ~((1 << names.length) - 1)) >>> 0;
  if (reserved !== 0) warnings.push(`reserved ${what} bits set (0x${reserved.toString(16)})`);
  return named;
}
