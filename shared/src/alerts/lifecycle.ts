/**
 * The life of one alert (one per treadmill and kind), pure: given the stored alert and a signal or an operator
 * action, what the alert becomes and which transition the notifier must deliver. The repo reads, decides here,
 * and writes conditionally; a replay of the same signal decides "no change".
 *
 * Every transition is recorded; only some are queued for notification (docs/architecture.md section 7.3): not
 * info alerts, not a new alert within the cooldown of the last notified one of its treadmill and kind, nothing
 * while snoozed, and the acknowledgement and resolution only of an alert whose opening was notified.
 */
import { maxSeverity } from './rules.js';
import type {
  AlertChange,
  AlertItem,
  AlertKind,
  AlertSeverity,
  AlertSignal,
  AlertTransition,
  SnoozeScope,
} from './types.js';

/** The current alert as stored, with the transitions the notifier has not delivered yet (the outbox). */
export interface StoredAlert extends AlertItem {
  pending: AlertTransition[];
}

export type AlertCommand =
  | { type: 'signal'; signal: AlertSignal }
  | { type: 'acknowledge'; by: string; now: number }
  | { type: 'resolve'; by: string; now: number }
  /** Holds notifications until `untilTs` (at or before `now` ends a snooze); no transition of its own. */
  | { type: 'snooze'; by: string; now: number; untilTs: number; scope: SnoozeScope };

export interface AlertDecision {
  next: StoredAlert;
  /** Set when the status or severity changed; `next.pending` ends with it when it is to be notified. */
  transition?: AlertTransition;
  /** A resolved alert that a new one replaces, to keep as history. */
  archived?: AlertItem;
}

/** Who resolves an alert whose condition cleared by itself. */
export const AUTO_RESOLVER = 'auto';

/** Deterministic, so a replay that opens the same alert again gives it the same id. */
export const alertIdFor = (
  gymId: string,
  treadmillId: string,
  kind: AlertKind,
  firstSeenTs: number,
): string => `${gymId}:${treadmillId}:${kind}:${firstSeenTs}`;

const isActive = (alert: AlertItem): boolean => alert.status !== 'resolved';

/** Alerts about one member's session: a new session's raise replaces the alert of the session before. */
const SESSION_BOUND_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>(['stumble']);

const isSnoozed = (alert: AlertItem, ts: number): boolean =>
  alert.snoozedUntil !== undefined && ts < alert.snoozedUntil;

/** Whether a transition is queued for the notifier (docs/architecture.md section 7.3). */
function notifies(alert: AlertItem, change: AlertChange, cooldownMs: number): boolean {
  // The end of an alert whose opening went out always follows it, snoozed or not: a snooze holds back news,
  // it must not leave a receiver believing an alert is still open.
  if (change === 'acknowledged' || change === 'resolved') return alert.notifiedTs !== undefined;
  if (isSnoozed(alert, alert.updatedTs)) return false;
  if (alert.severity === 'info') return false;
  // An escalation of an alert already notified always goes out: it is worse than what the receiver knows.
  if (change === 'escalated' && alert.notifiedTs !== undefined) return true;
  const last = alert.lastNotifiedTs;
  return last === undefined || alert.updatedTs - last >= cooldownMs;
}

function transitionOf(alert: AlertItem, change: AlertChange, by?: string): AlertTransition {
  const transition: AlertTransition = {
    alertId: alert.alertId,
    version: alert.version,
    change,
    gymId: alert.gymId,
    treadmillId: alert.treadmillId,
    kind: alert.kind,
    severity: alert.severity,
    status: alert.status,
    message: alert.message,
    count: alert.count,
    firstSeenTs: alert.firstSeenTs,
    lastSeenTs: alert.lastSeenTs,
    updatedTs: alert.updatedTs,
  };
  if (by !== undefined) transition.by = by;
  if (alert.sessionId !== undefined) transition.sessionId = alert.sessionId;
  if (alert.detail !== undefined) transition.detail = alert.detail;
  return transition;
}

function withTransition(
  alert: AlertItem,
  pending: readonly AlertTransition[],
  change: AlertChange,
  options: { by?: string; cooldownMs?: number } = {},
): AlertDecision {
  if (!notifies(alert, change, options.cooldownMs ?? 0)) {
    return { next: { ...alert, pending: [...pending] }, transition: transitionOf(alert, change, options.by) };
  }
  const notified: AlertItem =
    change === 'opened' || change === 'escalated'
      ? { ...alert, notifiedTs: alert.notifiedTs ?? alert.updatedTs, lastNotifiedTs: alert.updatedTs }
      : alert;
  const transition = transitionOf(notified, change, options.by);
  return { next: { ...notified, pending: [...pending, transition] }, transition };
}

/** The signal's severity, raised to its escalation's once the alert's count reaches it. */
function severityAt(signal: AlertSignal, count: number, current: AlertSeverity): AlertSeverity {
  const reached = signal.escalateAt !== undefined && count >= signal.escalateAt.count;
  const severity = maxSeverity(current, signal.severity);
  return reached && signal.escalateAt ? maxSeverity(severity, signal.escalateAt.severity) : severity;
}

/** A snooze of scope `kind` still running carries over to the alert that replaces this one. */
function carriedOver(current: StoredAlert | undefined, ts: number): Partial<AlertItem> {
  if (current === undefined) return {};
  const carried: Partial<AlertItem> = {};
  if (current.lastNotifiedTs !== undefined) carried.lastNotifiedTs = current.lastNotifiedTs;
  if (current.snoozeScope === 'kind' && isSnoozed(current, ts)) {
    carried.snoozedUntil = current.snoozedUntil;
    carried.snoozeScope = 'kind';
    if (current.snoozedBy !== undefined) carried.snoozedBy = current.snoozedBy;
  }
  return carried;
}

/** The item without its outbox: what the API lists and history keeps. */
export function alertItemOf(stored: StoredAlert): AlertItem {
  const { pending: _pending, ...item } = stored;
  return item;
}

const cooldownOf = (signal: AlertSignal) => ({ cooldownMs: signal.cooldownMs ?? 0 });

function open(signal: AlertSignal, current: StoredAlert | undefined): AlertDecision {
  const firstSeenTs = Math.min(signal.firstTs ?? signal.ts, signal.ts);
  const count = signal.count ?? 1;
  const alert: AlertItem = {
    alertId: alertIdFor(signal.gymId, signal.treadmillId, signal.kind, firstSeenTs),
    gymId: signal.gymId,
    treadmillId: signal.treadmillId,
    kind: signal.kind,
    severity: severityAt(signal, count, 'info'),
    status: 'open',
    message: signal.message,
    count,
    firstSeenTs,
    lastSeenTs: signal.ts,
    updatedTs: signal.ts,
    version: 1,
    ...carriedOver(current, signal.ts),
  };
  if (signal.sessionId !== undefined) alert.sessionId = signal.sessionId;
  if (signal.detail !== undefined) alert.detail = signal.detail;
  const decision = withTransition(alert, current?.pending ?? [], 'opened', cooldownOf(signal));
  return current ? { ...decision, archived: alertItemOf(current) } : decision;
}

/** A raise on an active alert: count it; a higher severity is a transition (escalation). */
function repeat(signal: AlertSignal, current: StoredAlert): AlertDecision {
  const count = current.count + (signal.count ?? 1);
  const severity = severityAt(signal, count, current.severity);
  const { sessionId: _sessionId, detail: _detail, ...rest } = current;
  const next: StoredAlert = {
    ...rest,
    severity,
    message: signal.message,
    count,
    lastSeenTs: signal.ts,
  };
  if (signal.sessionId !== undefined) next.sessionId = signal.sessionId;
  if (signal.detail !== undefined) next.detail = signal.detail;
  if (severity === current.severity) return { next };
  const { pending, ...escalated } = next;
  return withTransition(
    { ...escalated, version: current.version + 1, updatedTs: signal.ts },
    pending,
    'escalated',
    cooldownOf(signal),
  );
}

function resolve(current: StoredAlert, by: string, ts: number): AlertDecision {
  const { pending, ...alert } = current;
  return withTransition(
    {
      ...alert,
      status: 'resolved',
      resolvedBy: by,
      resolvedTs: ts,
      updatedTs: ts,
      version: alert.version + 1,
    },
    pending,
    'resolved',
    { by },
  );
}

/** A raise of another session than the active session-bound alert's: that alert ends with its session. */
const ofAnotherSession = (current: StoredAlert, signal: AlertSignal): boolean =>
  SESSION_BOUND_KINDS.has(signal.kind) &&
  signal.sessionId !== undefined &&
  current.sessionId !== undefined &&
  signal.sessionId !== current.sessionId;

function decideSignal(current: StoredAlert | undefined, signal: AlertSignal): AlertDecision | undefined {
  if (signal.action === 'clear') {
    // Only a clear newer than the last raise ends the alert; an older one is a replay or arrived late.
    if (current === undefined || !isActive(current) || signal.ts <= current.lastSeenTs) return undefined;
    return resolve(current, AUTO_RESOLVER, signal.ts);
  }
  if (current === undefined) return open(signal, undefined);
  if (isActive(current)) {
    if (signal.ts <= current.lastSeenTs) return undefined;
    if (!ofAnotherSession(current, signal)) return repeat(signal, current);
    const ended = resolve(current, AUTO_RESOLVER, signal.ts).next;
    return open(signal, ended);
  }
  // A raise no newer than the resolved alert's last raise or its resolution belongs to that alert (a replay).
  const resolvedTs = current.resolvedTs ?? current.updatedTs;
  return signal.ts > current.lastSeenTs && signal.ts > resolvedTs ? open(signal, current) : undefined;
}

function snooze(
  current: StoredAlert,
  command: Extract<AlertCommand, { type: 'snooze' }>,
): AlertDecision | undefined {
  const { snoozedUntil: _until, snoozeScope: _scope, snoozedBy: _by, ...rest } = current;
  if (command.untilTs <= command.now) {
    return current.snoozedUntil === undefined ? undefined : { next: rest };
  }
  if (current.snoozedUntil === command.untilTs && current.snoozeScope === command.scope) return undefined;
  return {
    next: { ...rest, snoozedUntil: command.untilTs, snoozeScope: command.scope, snoozedBy: command.by },
  };
}

/** Pure: what a signal or an operator action does to the stored alert; undefined when nothing changes. */
export function decideAlert(
  current: StoredAlert | undefined,
  command: AlertCommand,
): AlertDecision | undefined {
  switch (command.type) {
    case 'signal':
      return decideSignal(current, command.signal);
    case 'acknowledge': {
      if (current?.status !== 'open') return undefined;
      const { pending, ...alert } = current;
      return withTransition(
        {
          ...alert,
          status: 'acknowledged',
          acknowledgedBy: command.by,
          acknowledgedTs: command.now,
          updatedTs: command.now,
          version: alert.version + 1,
        },
        pending,
        'acknowledged',
        { by: command.by },
      );
    }
    case 'resolve':
      return current && isActive(current) ? resolve(current, command.by, command.now) : undefined;
    case 'snooze':
      return current && isActive(current) ? snooze(current, command) : undefined;
  }
}
