import type { TelemetryEvent } from '../telemetry/events.js';
import type { AlertConfig, AlertSignal } from './types.js';

export const DEFAULT_ALERT_CONFIG: AlertConfig = {
  motorTempMaxC: 90,
  motorTempHysteresisC: 5,
  maintenanceBeltKm: 5000,
  maintenanceMotorHours: 1000,
  backwardSpeedCapKmh: 3.5,
  backwardInclineMaxPct: 10,
  hrMaxFraction: 0.85,
  offlineAfterMs: 5 * 60_000,
  openingHours: { openHour: 6, closeHour: 22, timeZone: 'Europe/Berlin' },
};

export interface EventAlertInput {
  gymId: string;
  treadmillId: string;
  /** One treadmill's events of one batch, in seq order. */
  events: readonly TelemetryEvent[];
  direction: (event: TelemetryEvent) => 'forward' | 'backward' | 'unknown';
  sessionId?: string;
  memberAgeYears?: number;
  odometerKm?: number;
  beltHours?: number;
  config?: AlertConfig;
}

/** Pure: alerts raised or cleared by a treadmill's events of one batch (at most one signal per kind). */
export function evaluateEventAlerts(input: EventAlertInput): AlertSignal[] {
  void input;
  throw new Error('evaluateEventAlerts: not implemented yet');
}

export interface OfflineAlertInput {
  gymId: string;
  treadmillId: string;
  lastSeenTs: number;
  now: number;
  /** The treadmill's fleet status is offline (or just turned offline). */
  offline: boolean;
  config?: AlertConfig;
}

/** Pure: offline alert for the sweeper (silent past `offlineAfterMs` during opening hours) or its clearing. */
export function evaluateOfflineAlert(input: OfflineAlertInput): AlertSignal | undefined {
  void input;
  throw new Error('evaluateOfflineAlert: not implemented yet');
}
