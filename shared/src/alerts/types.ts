/** Alert contract shared by the rules (pure), the ingest and sweeper handlers, the repo and the notifier. */

export const ALERT_KINDS = [
  'safety_stop',
  'error_code',
  'motor_overheat',
  'offline',
  'maintenance_due',
  'stumble',
  'heart_rate_high',
  'backward_overspeed',
  'backward_incline',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export type AlertSeverity = 'info' | 'warning' | 'critical';

export type AlertDetail = Record<string, string | number | boolean>;

/** What the rules conclude; the repo turns signals into alert items and transitions. */
export interface AlertSignal {
  gymId: string;
  treadmillId: string;
  kind: AlertKind;
  action: 'raise' | 'clear';
  severity: AlertSeverity;
  /** Event time (epoch ms) of the latest event behind the signal: the repo's idempotency key. */
  ts: number;
  /** Event time of the earliest event behind a raise, when it aggregates several; defaults to `ts`. */
  firstTs?: number;
  /** Number of events behind a raise (several events of one batch make one signal); defaults to 1. */
  count?: number;
  message: string;
  sessionId?: string;
  detail?: AlertDetail;
}

export interface OpeningHours {
  /** Local hour the gym opens, 0-23. */
  openHour: number;
  /** Local hour the gym closes, 1-24; below openHour means open past midnight. */
  closeHour: number;
  /** IANA time zone, e.g. `Europe/Berlin`. */
  timeZone: string;
}

export interface AlertConfig {
  motorTempMaxC: number;
  /** A motor overheat alert clears only once the temperature is below max minus this. */
  motorTempHysteresisC: number;
  maintenanceBeltKm: number;
  maintenanceMotorHours: number;
  backwardSpeedCapKmh: number;
  backwardInclineMaxPct: number;
  /** Fraction of the age-predicted maximum heart rate (220 - age) that raises an alert. */
  hrMaxFraction: number;
  /** A heart-rate alert clears only once the heart rate is this far below the threshold. */
  hrHysteresisBpm: number;
  /** Silence (ms) after which a treadmill counts as offline. */
  offlineAfterMs: number;
  openingHours: OpeningHours;
}

export type AlertStatus = 'open' | 'acknowledged' | 'resolved';

/** The stored alert (one per treadmill and kind); `version` counts its transitions. */
export interface AlertItem {
  alertId: string;
  gymId: string;
  treadmillId: string;
  kind: AlertKind;
  severity: AlertSeverity;
  status: AlertStatus;
  message: string;
  count: number;
  firstSeenTs: number;
  lastSeenTs: number;
  updatedTs: number;
  version: number;
  sessionId?: string;
  detail?: AlertDetail;
  acknowledgedBy?: string;
  acknowledgedTs?: number;
  resolvedBy?: string;
  resolvedTs?: number;
}

/** What a transition changed; `escalated` is a raise of higher severity on an open alert. */
export type AlertChange = 'opened' | 'escalated' | 'acknowledged' | 'resolved';

/** A change of an alert's status: what the notifier delivers (receivers dedupe by alertId + version). */
export interface AlertTransition {
  alertId: string;
  version: number;
  change: AlertChange;
  gymId: string;
  treadmillId: string;
  kind: AlertKind;
  severity: AlertSeverity;
  status: AlertStatus;
  message: string;
  count: number;
  firstSeenTs: number;
  lastSeenTs: number;
  /** When the transition was written (event time for signals, wall clock for operator actions). */
  updatedTs: number;
  /** `auto` when the condition cleared by itself, else the operator. */
  by?: string;
  sessionId?: string;
  detail?: AlertDetail;
}
