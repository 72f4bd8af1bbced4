/**
 * Alert rules (docs/domain.md 4.3 and 5.2): pure functions from a treadmill's events to alert signals. The repo
 * (functions/lib/alerts-repo.ts) turns signals into alert items and transitions.
 *
 * Which alerts clear by themselves: conditions that can be seen to end (error code, motor temperature,
 * offline, backward speed and incline, heart rate), and a stumble when its session ends (it is about that
 * member). Events that need a person to look (safety stop) and maintenance (a service is done by a person) stay
 * open until an operator resolves them.
 *
 * Severities (docs/architecture.md section 7.3): what stops a treadmill or makes it unsafe is critical (safety
 * stop, fault, offline, overheating); what an operator should look at soon is a warning (heart rate, backward
 * speed and incline, repeated stumbles); what only informs is info (one stumble, service due).
 */
import type { TelemetryEvent } from '../telemetry/events.js';
import type {
  AlertConfig,
  AlertDetail,
  AlertKind,
  AlertSeverity,
  AlertSignal,
  OpeningHours,
} from './types.js';

export const DEFAULT_ALERT_CONFIG: AlertConfig = {
  motorTempMaxC: 90,
  motorTempHysteresisC: 5,
  // docs/domain.md 5.2: service intervals are per model; these are placeholders a model's config overrides [D].
  maintenanceBeltKm: 5000,
  maintenanceMotorHours: 1000,
  // docs/domain.md 4.1 [D]: backward walking starts at 1.0-2.0 km/h; 3.5 km/h caps it well below the walk-run
  // transition of about 5.9 km/h.
  backwardSpeedCapKmh: 3.5,
  // docs/domain.md 4.3: Hooper tested backward walking only up to 10 % incline.
  backwardInclineMaxPct: 10,
  hrMaxFraction: 0.85,
  hrHysteresisBpm: 5,
  offlineAfterMs: 5 * 60_000,
  openingHours: { openHour: 6, closeHour: 22, timeZone: 'Europe/Berlin' },
  // One stumble is on the dashboard (info); the third of a session is worth a notification (section 7.3).
  stumbleAlertCount: 3,
  notifyCooldownMs: 15 * 60_000,
};

/** Belt speeds below this mean nobody is walking (as the session reducer's moving threshold). */
const BELT_MOVING_KMH = 0.5;
/** Ages outside this range are data errors; the heart-rate rule then treats the age as unknown. */
const PLAUSIBLE_AGE_YEARS = { min: 5, max: 110 } as const;

/** Alerts about the member on the belt: they end when nobody walks any more. */
const ACTIVITY_KINDS: readonly AlertKind[] = ['heart_rate_high', 'backward_overspeed', 'backward_incline'];
/** Alerts that end with the member's session: the activity ones and a stumble (its member has left). */
const SESSION_END_KINDS: readonly AlertKind[] = [...ACTIVITY_KINDS, 'stumble'];

export interface EventAlertInput {
  gymId: string;
  treadmillId: string;
  /**
   * One treadmill's events of one batch, in seq order. Pass all of them, also those at or below the
   * treadmill's seq watermark: the repo is idempotent by signal ts, so a replay after a crash changes nothing,
   * while filtering would lose the alerts of a batch that crashed before the alerts were written.
   */
  events: readonly TelemetryEvent[];
  direction: (event: TelemetryEvent) => 'forward' | 'backward' | 'unknown';
  sessionId?: string;
  /** Unknown: the heart-rate rule is off (a guessed age would either flood operators or hide risk). */
  memberAgeYears?: number;
  /** Treadmill odometer and belt hours BEFORE this batch (fleet state); maintenance fires on crossing. */
  odometerKm?: number;
  beltHours?: number;
  /**
   * Kinds with an open (or acknowledged) alert on this treadmill. When given, clears are emitted only for
   * these, which saves a write per batch that would find nothing to clear; when absent, every clear is emitted.
   */
  openKinds?: readonly AlertKind[];
  config?: AlertConfig;
}

interface Observation {
  kind: AlertKind;
  action: 'raise' | 'clear';
  ts: number;
  severity: AlertSeverity;
  message: string;
  detail?: AlertDetail;
  /** The measured value behind a raise (speed, heart rate, ...), reported as `peak` when several raise. */
  value?: number;
  escalateAt?: AlertSignal['escalateAt'];
}

const SESSION_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>([
  'safety_stop',
  'stumble',
  'heart_rate_high',
  'backward_overspeed',
  'backward_incline',
]);

export const SEVERITY_RANK: Readonly<Record<AlertSeverity, number>> = { info: 0, warning: 1, critical: 2 };

export const maxSeverity = (a: AlertSeverity, b: AlertSeverity): AlertSeverity =>
  SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a;

const round1 = (x: number): number => Math.round(x * 10) / 10;

const clear = (kind: AlertKind, ts: number, message: string): Observation => ({
  kind,
  action: 'clear',
  ts,
  severity: 'info',
  message,
});

function machineObservations(
  event: TelemetryEvent & { type: 'machine' },
  config: AlertConfig,
): Observation[] {
  const out: Observation[] = [];
  const { ts } = event;
  if (event.state === 'safety_stop') {
    out.push({
      kind: 'safety_stop',
      action: 'raise',
      ts,
      severity: 'critical',
      message: 'Safety key pulled: the belt stopped by emergency stop',
    });
  }
  if (event.errorCode !== undefined) {
    out.push({
      kind: 'error_code',
      action: 'raise',
      ts,
      severity: 'critical',
      message: `Treadmill reports error ${event.errorCode}`,
      detail: { errorCode: event.errorCode },
    });
  } else if (event.state === 'started') {
    out.push(clear('error_code', ts, 'Treadmill started without an error'));
  }
  const temp = event.motorTempC;
  if (temp !== undefined) {
    if (temp > config.motorTempMaxC) {
      out.push({
        kind: 'motor_overheat',
        action: 'raise',
        ts,
        severity: 'critical',
        message: `Motor at ${temp} °C, over the limit of ${config.motorTempMaxC} °C`,
        detail: { motorTempC: temp, limitC: config.motorTempMaxC },
        value: temp,
      });
    } else if (temp < config.motorTempMaxC - config.motorTempHysteresisC) {
      out.push(clear('motor_overheat', ts, `Motor cooled to ${temp} °C`));
    }
  }
  if (event.state === 'stopped' || event.state === 'reset' || event.state === 'safety_stop') {
    for (const kind of ACTIVITY_KINDS) out.push(clear(kind, ts, 'Belt stopped'));
  }
  return out;
}

function beltObservations(
  event: TelemetryEvent & { type: 'belt' },
  direction: 'forward' | 'backward' | 'unknown',
  config: AlertConfig,
): Observation[] {
  const { ts, speedKmh, inclinePct } = event;
  if (speedKmh < BELT_MOVING_KMH || direction === 'forward') {
    const why = speedKmh < BELT_MOVING_KMH ? 'Belt stopped' : 'Walking forward again';
    return [clear('backward_overspeed', ts, why), clear('backward_incline', ts, why)];
  }
  if (direction === 'unknown') return [];
  const out: Observation[] = [];
  const cap = config.backwardSpeedCapKmh;
  out.push(
    speedKmh > cap
      ? {
          kind: 'backward_overspeed',
          action: 'raise',
          ts,
          severity: 'warning',
          message: `Backward walking at ${speedKmh} km/h, over the cap of ${cap} km/h`,
          detail: { speedKmh, capKmh: cap },
          value: speedKmh,
        }
      : clear('backward_overspeed', ts, `Backward speed back to ${speedKmh} km/h`),
  );
  if (inclinePct !== undefined) {
    const max = config.backwardInclineMaxPct;
    out.push(
      inclinePct > max
        ? {
            kind: 'backward_incline',
            action: 'raise',
            ts,
            severity: 'warning',
            message: `Backward walking on ${inclinePct} % incline, over ${max} %`,
            detail: { inclinePct, maxPct: max },
            value: inclinePct,
          }
        : clear('backward_incline', ts, `Incline back to ${inclinePct} %`),
    );
  }
  return out;
}

/** Age-predicted maximum heart rate (220 - age) times the configured fraction; undefined for unknown age. */
export function heartRateLimitBpm(ageYears: number | undefined, config: AlertConfig): number | undefined {
  if (ageYears === undefined || !Number.isFinite(ageYears)) return undefined;
  if (ageYears < PLAUSIBLE_AGE_YEARS.min || ageYears > PLAUSIBLE_AGE_YEARS.max) return undefined;
  return round1(config.hrMaxFraction * (220 - ageYears));
}

function heartRateObservation(ts: number, hrBpm: number, limit: number, config: AlertConfig): Observation[] {
  if (hrBpm > limit) {
    const pct = Math.round(config.hrMaxFraction * 100);
    return [
      {
        kind: 'heart_rate_high',
        action: 'raise',
        ts,
        severity: 'warning',
        message: `Heart rate ${hrBpm} bpm, over ${pct} % of the age-predicted maximum (${limit} bpm)`,
        detail: { hrBpm, limitBpm: limit },
        value: hrBpm,
      },
    ];
  }
  if (hrBpm < limit - config.hrHysteresisBpm) {
    return [clear('heart_rate_high', ts, `Heart rate back to ${hrBpm} bpm`)];
  }
  return [];
}

/** The service interval a counter crossed into between two readings, if it crossed one. */
function crossedInterval(before: number | undefined, now: number, interval: number): number | undefined {
  // Without an earlier reading the first one is the baseline: when the last service was is unknown.
  if (before === undefined) return undefined;
  const index = Math.floor(now / interval);
  return index > Math.floor(before / interval) ? index * interval : undefined;
}

function maintenanceObservation(
  events: readonly TelemetryEvent[],
  before: { odometerKm?: number; beltHours?: number },
  config: AlertConfig,
): Observation | undefined {
  let km = before.odometerKm;
  let hours = before.beltHours;
  let ts: number | undefined;
  const reasons: string[] = [];
  const detail: AlertDetail = {};
  for (const event of events) {
    if (event.type !== 'machine') continue;
    if (event.odometerKm !== undefined) {
      const dueAtKm = crossedInterval(km, event.odometerKm, config.maintenanceBeltKm);
      if (dueAtKm !== undefined) {
        ts = event.ts;
        reasons.push(`belt at ${dueAtKm} km (service every ${config.maintenanceBeltKm} km)`);
        Object.assign(detail, { odometerKm: round1(event.odometerKm), dueAtKm });
      }
      km = event.odometerKm;
    }
    if (event.beltHours !== undefined) {
      const dueAtHours = crossedInterval(hours, event.beltHours, config.maintenanceMotorHours);
      if (dueAtHours !== undefined) {
        ts = event.ts;
        reasons.push(`motor at ${dueAtHours} h (service every ${config.maintenanceMotorHours} h)`);
        Object.assign(detail, { beltHours: round1(event.beltHours), dueAtHours });
      }
      hours = event.beltHours;
    }
  }
  if (ts === undefined) return undefined;
  return {
    kind: 'maintenance_due',
    action: 'raise',
    ts,
    severity: 'info',
    message: `Service due: ${reasons.join(', ')}`,
    detail,
  };
}

function observe(input: EventAlertInput, config: AlertConfig): Observation[] {
  const out: Observation[] = [];
  const hrLimit = heartRateLimitBpm(input.memberAgeYears, config);
  for (const event of input.events) {
    if (event.type !== 'heartbeat' || event.online) {
      out.push(clear('offline', event.ts, 'Treadmill back online'));
    }
    switch (event.type) {
      case 'machine':
        out.push(...machineObservations(event, config));
        break;
      case 'belt':
        out.push(...beltObservations(event, input.direction(event), config));
        if (event.hrBpm !== undefined && hrLimit !== undefined) {
          out.push(...heartRateObservation(event.ts, event.hrBpm, hrLimit, config));
        }
        break;
      case 'hr':
        // A chest strap without skin contact reports noise, not a heart rate.
        if (event.contact !== false && hrLimit !== undefined) {
          out.push(...heartRateObservation(event.ts, event.hrBpm, hrLimit, config));
        }
        break;
      case 'step':
        if (event.stumble === true) {
          out.push({
            kind: 'stumble',
            action: 'raise',
            ts: event.ts,
            severity: 'info',
            message: `Stumble detected (${event.foot === 'L' ? 'left' : 'right'} foot)`,
            detail: { foot: event.foot },
            escalateAt: { count: config.stumbleAlertCount, severity: 'warning' },
          });
        }
        break;
      case 'session':
        if (event.action === 'end') {
          for (const kind of SESSION_END_KINDS) out.push(clear(kind, event.ts, 'Session ended'));
        }
        break;
      default:
        break;
    }
  }
  const maintenance = maintenanceObservation(input.events, input, config);
  if (maintenance) out.push(maintenance);
  return out;
}

function toSignal(input: EventAlertInput, observation: Observation, config: AlertConfig): AlertSignal {
  const signal: AlertSignal = {
    gymId: input.gymId,
    treadmillId: input.treadmillId,
    kind: observation.kind,
    action: observation.action,
    severity: observation.severity,
    ts: observation.ts,
    message: observation.message,
  };
  if (observation.detail) signal.detail = observation.detail;
  if (observation.action === 'raise') signal.cooldownMs = config.notifyCooldownMs;
  if (observation.escalateAt) signal.escalateAt = observation.escalateAt;
  if (input.sessionId !== undefined && SESSION_KINDS.has(observation.kind))
    signal.sessionId = input.sessionId;
  return signal;
}

/** All raises of one kind in a batch as one signal: the latest ts and message, a count, the worst severity. */
function aggregateRaises(
  input: EventAlertInput,
  raises: readonly Observation[],
  config: AlertConfig,
): AlertSignal | undefined {
  const latest = raises.at(-1);
  const first = raises[0];
  if (latest === undefined || first === undefined) return undefined;
  const signal = toSignal(input, latest, config);
  signal.severity = raises.reduce<AlertSeverity>((worst, r) => maxSeverity(worst, r.severity), 'info');
  if (raises.length > 1) {
    signal.firstTs = first.ts;
    signal.count = raises.length;
    const values = raises.flatMap((r) => (r.value === undefined ? [] : [r.value]));
    if (values.length > 0) signal.detail = { ...signal.detail, peak: Math.max(...values) };
  }
  return signal;
}

/**
 * Pure: alerts raised or cleared by one treadmill's events of one batch. Per kind at most a clear before the
 * first raise (ends an alert from an earlier batch), one raise for all raising events, and a clear after the
 * last raise; so writes stay per batch, not per event.
 */
export function evaluateEventAlerts(input: EventAlertInput): AlertSignal[] {
  const config = input.config ?? DEFAULT_ALERT_CONFIG;
  const open = input.openKinds === undefined ? undefined : new Set(input.openKinds);
  const byKind = new Map<AlertKind, Observation[]>();
  for (const observation of observe(input, config)) {
    const list = byKind.get(observation.kind);
    if (list) list.push(observation);
    else byKind.set(observation.kind, [observation]);
  }
  const signals: AlertSignal[] = [];
  for (const [kind, observations] of byKind) {
    const firstRaise = observations.findIndex((o) => o.action === 'raise');
    const lastRaise = observations.findLastIndex((o) => o.action === 'raise');
    const mayClearEarlier = open === undefined || open.has(kind);
    const leadingClear = observations
      .slice(0, firstRaise === -1 ? observations.length : firstRaise)
      .findLast((o) => o.action === 'clear');
    if (leadingClear && mayClearEarlier) signals.push(toSignal(input, leadingClear, config));
    if (firstRaise === -1) continue;
    const raised = aggregateRaises(
      input,
      observations.filter((o) => o.action === 'raise'),
      config,
    );
    if (raised) signals.push(raised);
    const trailingClear = observations.slice(lastRaise + 1).findLast((o) => o.action === 'clear');
    if (trailingClear) signals.push(toSignal(input, trailingClear, config));
  }
  return signals.sort((a, b) => a.ts - b.ts);
}

/**
 * Pure: the clears for a session the sweeper closed (idle, no end event): what was about its member ends with
 * it, a stumble included. `openKinds` limits them to the alerts there are.
 */
export function sessionEndedSignals(
  gymId: string,
  treadmillId: string,
  ts: number,
  openKinds: readonly AlertKind[],
): AlertSignal[] {
  return SESSION_END_KINDS.filter((kind) => openKinds.includes(kind)).map((kind) => ({
    gymId,
    treadmillId,
    kind,
    action: 'clear',
    severity: 'info',
    ts,
    message: 'Session ended',
  }));
}

export interface OfflineAlertInput {
  gymId: string;
  treadmillId: string;
  /** Event time of the treadmill's last event. */
  lastSeenTs: number;
  now: number;
  /** The treadmill's fleet status is offline. */
  offline: boolean;
  config?: AlertConfig;
}

const hourFormats = new Map<string, Intl.DateTimeFormat>();

/** The hour (0-23) of an instant on the wall clock of a time zone. */
export function localHour(ts: number, timeZone: string): number {
  let format = hourFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', hourCycle: 'h23' });
    hourFormats.set(timeZone, format);
  }
  const hour = format.formatToParts(ts).find((p) => p.type === 'hour');
  return Number(hour?.value ?? Number.NaN);
}

export function isWithinOpeningHours(ts: number, hours: OpeningHours): boolean {
  const hour = localHour(ts, hours.timeZone);
  return hours.openHour <= hours.closeHour
    ? hour >= hours.openHour && hour < hours.closeHour
    : hour >= hours.openHour || hour < hours.closeHour;
}

/**
 * Pure: the offline alert for the sweeper. Call it on every sweep for treadmills that are offline (so a
 * treadmill that went silent at night raises once the gym opens) and when one comes back. The raise's ts is
 * the moment the treadmill counted as offline, the same on every sweep, so repeated sweeps change nothing.
 */
export function evaluateOfflineAlert(input: OfflineAlertInput): AlertSignal | undefined {
  const config = input.config ?? DEFAULT_ALERT_CONFIG;
  const base = { gymId: input.gymId, treadmillId: input.treadmillId, kind: 'offline' as const };
  if (!input.offline) {
    return {
      ...base,
      action: 'clear',
      severity: 'info',
      ts: input.lastSeenTs,
      message: 'Treadmill back online',
    };
  }
  const offlineSince = input.lastSeenTs + config.offlineAfterMs;
  if (input.now < offlineSince || !isWithinOpeningHours(input.now, config.openingHours)) return undefined;
  return {
    ...base,
    action: 'raise',
    severity: 'critical',
    ts: offlineSince,
    cooldownMs: config.notifyCooldownMs,
    // No time in the text: readers show detail.lastSeenTs in their own time format and zone.
    message: 'Treadmill silent during opening hours',
    detail: { lastSeenTs: input.lastSeenTs },
  };
}
