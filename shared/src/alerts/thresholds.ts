/**
 * Alert thresholds an operator sets for their gym (docs/architecture.md section 7.3): each bounded, each
 * defaulting to DEFAULT_ALERT_CONFIG. Pure: the API validates with the bounds, the repo stores what it was
 * given, and the rules take the gym's config made here (a stored value out of bounds falls back to the default).
 */
import { DEFAULT_ALERT_CONFIG } from './rules.js';
import type { AlertConfig } from './types.js';

export interface GymAlertThresholds {
  /** Motor temperature (°C) over which the overheating alert raises. */
  motorTempMaxC: number;
  /** Silence (minutes) after which a treadmill counts as offline during opening hours. */
  offlineAfterMinutes: number;
  /** Stumbles in one session at which the stumble alert turns into a notified warning. */
  stumbleAlertCount: number;
}

export type ThresholdName = keyof GymAlertThresholds;

/**
 * Inclusive bounds, integers. Motor: below 60 °C a motor at work raises all day, above 120 °C the insulation
 * is already failing. Offline: not below the sweeper's 5 minutes (it only looks at treadmills silent that long),
 * at most 4 hours. Stumbles: 1 (every stumble) to 20 in a session.
 */
export const THRESHOLD_BOUNDS: Readonly<Record<ThresholdName, { min: number; max: number }>> = {
  motorTempMaxC: { min: 60, max: 120 },
  offlineAfterMinutes: { min: 5, max: 240 },
  stumbleAlertCount: { min: 1, max: 20 },
};

export const THRESHOLD_NAMES = Object.keys(THRESHOLD_BOUNDS) as ThresholdName[];

const MINUTE_MS = 60_000;

/** The thresholds a config holds. */
export function thresholdsOf(config: AlertConfig): GymAlertThresholds {
  return {
    motorTempMaxC: config.motorTempMaxC,
    offlineAfterMinutes: Math.round(config.offlineAfterMs / MINUTE_MS),
    stumbleAlertCount: config.stumbleAlertCount,
  };
}

export const DEFAULT_THRESHOLDS: GymAlertThresholds = thresholdsOf(DEFAULT_ALERT_CONFIG);

export const isWithinBounds = (name: ThresholdName, value: unknown): value is number =>
  typeof value === 'number' &&
  Number.isInteger(value) &&
  value >= THRESHOLD_BOUNDS[name].min &&
  value <= THRESHOLD_BOUNDS[name].max;

/** The gym's thresholds from what was stored: each value in bounds, else its default. */
export function thresholdsFrom(
  stored: Partial<Record<ThresholdName, unknown>> | undefined,
): GymAlertThresholds {
  const out = { ...DEFAULT_THRESHOLDS };
  for (const name of THRESHOLD_NAMES) {
    const value = stored?.[name];
    if (isWithinBounds(name, value)) out[name] = value;
  }
  return out;
}

/** The config the rules use for a gym: the base with the gym's thresholds in it. */
export function configWithThresholds(base: AlertConfig, thresholds: GymAlertThresholds): AlertConfig {
  return {
    ...base,
    motorTempMaxC: thresholds.motorTempMaxC,
    offlineAfterMs: thresholds.offlineAfterMinutes * MINUTE_MS,
    stumbleAlertCount: thresholds.stumbleAlertCount,
  };
}
