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
  /**
   * Notification policy the rules attach from the gym's config (docs/architecture.md section 7.3): a new alert
   * of this treadmill and kind within this long of the last notified one is recorded but not notified.
   */
  cooldownMs?: number;
  /** The alert takes `severity` once its count reaches `count` (e.g. a session's third stumble). */
  escalateAt?: { count: number; severity: AlertSeverity };
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
  /** Stumbles in one session at which the stumble alert turns from info to a (notified) warning. */
  stumbleAlertCount: number;
  /** A new alert of a treadmill and kind this soon after the last notified one is not notified again. */
  notifyCooldownMs: number;
}

export type AlertStatus = 'open' | 'acknowledged' | 'resolved';

/** A snooze holds this alert's notifications (`alert`) or also those of later alerts of its treadmill and kind. */
export const SNOOZE_SCOPES = ['alert', 'kind'] as const;
export type SnoozeScope = (typeof SNOOZE_SCOPES)[number];

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
  /** No notification for this alert (and, scope `kind`, for later ones of its treadmill and kind) before this. */
  snoozedUntil?: number;
  snoozeScope?: SnoozeScope;
  snoozedBy?: string;
  /** When this alert was first notified; absent while it was only recorded (info, cooldown, snoozed). */
  notifiedTs?: number;
  /** When an alert of this treadmill and kind was last notified (carried to the alert that replaces it). */
  lastNotifiedTs?: number;
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
