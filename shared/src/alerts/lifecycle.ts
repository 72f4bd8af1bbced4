/**
 * The life of one alert (one per treadmill and kind), pure: given the stored alert and a signal or an operator
 * action, what the alert becomes and which transition the notifier must deliver. The repo reads, decides here,
 * and writes conditionally; a replay of the same signal decides "no change".
 */
import { maxSeverity } from './rules.js';
import type { AlertChange, AlertItem, AlertKind, AlertSignal, AlertTransition } from './types.js';

/** The current alert as stored, with the transitions the notifier has not delivered yet (the outbox). */
export interface StoredAlert extends AlertItem {
  pending: AlertTransition[];
}

export type AlertCommand =
  | { type: 'signal'; signal: AlertSignal }
  | { type: 'acknowledge'; by: string; now: number }
  | { type: 'resolve'; by: string; now: number };

export interface AlertDecision {
  next: StoredAlert;
  /** Set when the status or severity changed; `next.pending` already ends with it. */
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
  by?: string,
): AlertDecision {
  const transition = transitionOf(alert, change, by);
  return { next: { ...alert, pending: [...pending, transition] }, transition };
}

/** The item without its outbox: what the API lists and history keeps. */
export function alertItemOf(stored: StoredAlert): AlertItem {
  const { pending: _pending, ...item } = stored;
  return item;
}

function open(signal: AlertSignal, current: StoredAlert | undefined): AlertDecision {
  const firstSeenTs = Math.min(signal.firstTs ?? signal.ts, signal.ts);
  const alert: AlertItem = {
    alertId: alertIdFor(signal.gymId, signal.treadmillId, signal.kind, firstSeenTs),
    gymId: signal.gymId,
    treadmillId: signal.treadmillId,
    kind: signal.kind,
    severity: signal.severity,
    status: 'open',
    message: signal.message,
    count: signal.count ?? 1,
    firstSeenTs,
    lastSeenTs: signal.ts,
    updatedTs: signal.ts,
    version: 1,
  };
  if (signal.sessionId !== undefined) alert.sessionId = signal.sessionId;
  if (signal.detail !== undefined) alert.detail = signal.detail;
  const decision = withTransition(alert, current?.pending ?? [], 'opened');
  return current ? { ...decision, archived: alertItemOf(current) } : decision;
}

/** A raise on an active alert: count it; a higher severity is a transition (escalation). */
function repeat(signal: AlertSignal, current: StoredAlert): AlertDecision {
  const severity = maxSeverity(current.severity, signal.severity);
  const { sessionId: _sessionId, detail: _detail, ...rest } = current;
  const next: StoredAlert = {
    ...rest,
    severity,
    message: signal.message,
    count: current.count + (signal.count ?? 1),
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
    by,
  );
}

function decideSignal(current: StoredAlert | undefined, signal: AlertSignal): AlertDecision | undefined {
  if (signal.action === 'clear') {
    // Only a clear newer than the last raise ends the alert; an older one is a replay or arrived late.
    if (current === undefined || !isActive(current) || signal.ts <= current.lastSeenTs) return undefined;
    return resolve(current, AUTO_RESOLVER, signal.ts);
  }
  if (current === undefined) return open(signal, undefined);
  if (isActive(current)) return signal.ts > current.lastSeenTs ? repeat(signal, current) : undefined;
  // A raise no newer than the resolved alert's last raise or its resolution belongs to that alert (a replay).
  const resolvedTs = current.resolvedTs ?? current.updatedTs;
  return signal.ts > current.lastSeenTs && signal.ts > resolvedTs ? open(signal, current) : undefined;
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
        command.by,
      );
    }
    case 'resolve':
      return current && isActive(current) ? resolve(current, command.by, command.now) : undefined;
  }
}
