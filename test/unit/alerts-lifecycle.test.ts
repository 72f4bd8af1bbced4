import { describe, expect, it } from 'vitest';
import {
  type AlertCommand,
  type AlertSignal,
  alertIdFor,
  decideAlert,
  type StoredAlert,
} from '../../shared/src/alerts/index.js';
import { T0 } from '../support/events.js';

const raise = (ts: number, extra: Partial<AlertSignal> = {}): AlertCommand => ({
  type: 'signal',
  signal: {
    gymId: 'gym-a',
    treadmillId: 'tm-01',
    kind: 'error_code',
    action: 'raise',
    severity: 'warning',
    ts,
    message: `error at ${ts}`,
    ...extra,
  },
});
const clear = (ts: number): AlertCommand => ({
  type: 'signal',
  signal: {
    gymId: 'gym-a',
    treadmillId: 'tm-01',
    kind: 'error_code',
    action: 'clear',
    severity: 'info',
    ts,
    message: 'cleared',
  },
});

/** Applies commands in order, as the repo would; a command that changes nothing leaves the alert as it is. */
function run(commands: readonly AlertCommand[], start?: StoredAlert): StoredAlert | undefined {
  let alert = start;
  for (const command of commands) alert = decideAlert(alert, command)?.next ?? alert;
  return alert;
}

describe('alert lifecycle', () => {
  it('opens with a deterministic id, version 1, and the opening transition in the outbox', () => {
    const decision = decideAlert(undefined, raise(T0 + 5, { firstTs: T0, count: 3 }));
    expect(decision?.transition).toMatchObject({ change: 'opened', version: 1, status: 'open', count: 3 });
    expect(decision?.next).toMatchObject({
      alertId: alertIdFor('gym-a', 'tm-01', 'error_code', T0),
      firstSeenTs: T0,
      lastSeenTs: T0 + 5,
      pending: [{ change: 'opened', version: 1 }],
    });
  });

  it('counts a newer raise without a transition, and ignores a replayed or older one', () => {
    const opened = run([raise(T0)]);
    const bumped = decideAlert(opened, raise(T0 + 10, { count: 2 }));
    expect(bumped?.transition).toBeUndefined();
    expect(bumped?.next).toMatchObject({
      count: 3,
      lastSeenTs: T0 + 10,
      version: 1,
      message: `error at ${T0 + 10}`,
    });
    expect(decideAlert(bumped?.next, raise(T0 + 10, { count: 2 }))).toBeUndefined();
    expect(decideAlert(bumped?.next, raise(T0 + 3))).toBeUndefined();
  });

  it('escalates on a raise of higher severity', () => {
    const escalated = decideAlert(run([raise(T0)]), raise(T0 + 1, { severity: 'critical' }));
    expect(escalated?.transition).toMatchObject({ change: 'escalated', version: 2, severity: 'critical' });
    expect(escalated?.next.pending.map((t) => t.version)).toEqual([1, 2]);
  });

  it('acknowledges once, then resolves; operator actions on a resolved alert change nothing', () => {
    const acked = decideAlert(run([raise(T0)]), { type: 'acknowledge', by: 'op-1', now: T0 + 60_000 });
    expect(acked?.transition).toMatchObject({
      change: 'acknowledged',
      status: 'acknowledged',
      by: 'op-1',
      version: 2,
    });
    expect(decideAlert(acked?.next, { type: 'acknowledge', by: 'op-2', now: T0 + 70_000 })).toBeUndefined();
    const resolved = decideAlert(acked?.next, { type: 'resolve', by: 'op-2', now: T0 + 80_000 });
    expect(resolved?.next).toMatchObject({
      status: 'resolved',
      resolvedBy: 'op-2',
      resolvedTs: T0 + 80_000,
      version: 3,
    });
    expect(decideAlert(resolved?.next, { type: 'resolve', by: 'op-3', now: T0 + 90_000 })).toBeUndefined();
  });

  it('auto-resolves on a clear newer than the last raise only', () => {
    const opened = run([raise(T0), raise(T0 + 10)]);
    expect(decideAlert(opened, clear(T0 + 5))).toBeUndefined();
    expect(decideAlert(opened, clear(T0 + 20))?.transition).toMatchObject({
      change: 'resolved',
      status: 'resolved',
      by: 'auto',
    });
    expect(decideAlert(undefined, clear(T0))).toBeUndefined();
  });

  it('opens a new alert over a resolved one, archiving it and keeping its undelivered transitions', () => {
    const resolved = run([raise(T0), clear(T0 + 10)]);
    const reopened = decideAlert(resolved, raise(T0 + 20));
    expect(reopened?.archived).toMatchObject({ alertId: alertIdFor('gym-a', 'tm-01', 'error_code', T0) });
    expect(reopened?.archived).not.toHaveProperty('pending');
    expect(reopened?.next).toMatchObject({
      alertId: alertIdFor('gym-a', 'tm-01', 'error_code', T0 + 20),
      version: 1,
      count: 1,
      status: 'open',
    });
    expect(reopened?.next).not.toHaveProperty('resolvedBy');
    expect(reopened?.next.pending.map((t) => `${t.change}@${t.version}`)).toEqual([
      'opened@1',
      'resolved@2',
      'opened@1',
    ]);
  });

  it('does not reopen on a replay of raises the resolved alert already counted', () => {
    const resolved = run([raise(T0), raise(T0 + 10), clear(T0 + 20)]);
    expect(decideAlert(resolved, raise(T0 + 10))).toBeUndefined();
    const byOperator = decideAlert(run([raise(T0)]), { type: 'resolve', by: 'op', now: T0 + 60_000 })?.next;
    expect(decideAlert(byOperator, raise(T0 + 30_000))).toBeUndefined();
    expect(decideAlert(byOperator, raise(T0 + 61_000))?.transition?.change).toBe('opened');
  });
});

const MIN = 60_000;
const queued = (alert: StoredAlert | undefined) => alert?.pending.map((t) => `${t.change}@${t.version}`);

describe('what is notified (docs/architecture.md section 7.3)', () => {
  it('records an info alert without notifying it, nor its resolution', () => {
    const alert = run([raise(T0, { severity: 'info' }), clear(T0 + 10)]);
    expect(alert).toMatchObject({ status: 'resolved', version: 2 });
    expect(queued(alert)).toEqual([]);
  });

  it('notifies a stumble once it reaches the count of its escalation, as an escalation', () => {
    const stumble = (ts: number) =>
      raise(ts, {
        kind: 'stumble',
        severity: 'info',
        sessionId: 's-1',
        escalateAt: { count: 3, severity: 'warning' },
      });
    const two = run([stumble(T0), stumble(T0 + 10)]);
    expect(two).toMatchObject({ severity: 'info', count: 2 });
    expect(queued(two)).toEqual([]);
    const three = run([stumble(T0 + 20)], two);
    expect(three).toMatchObject({ severity: 'warning', count: 3, notifiedTs: T0 + 20 });
    expect(queued(three)).toEqual(['escalated@2']);
  });

  it('ends a stumble alert when a raise of another session comes, and opens one for that session', () => {
    const stumble = (ts: number, sessionId: string) =>
      raise(ts, { kind: 'stumble', severity: 'info', sessionId });
    const first = run([stumble(T0, 's-1')]);
    const next = decideAlert(first, stumble(T0 + 5 * MIN, 's-2'));
    expect(next?.archived).toMatchObject({ sessionId: 's-1', status: 'resolved', resolvedBy: 'auto' });
    expect(next?.next).toMatchObject({ sessionId: 's-2', status: 'open', count: 1, version: 1 });
  });

  it('does not notify a new alert within the cooldown of the last notified one of its treadmill and kind', () => {
    const flapping = run([
      raise(T0, { cooldownMs: 15 * MIN }),
      clear(T0 + MIN),
      raise(T0 + 2 * MIN, { cooldownMs: 15 * MIN }),
      clear(T0 + 3 * MIN),
    ]);
    // The first alert opened and resolved; the second, within 15 minutes, only recorded.
    expect(queued(flapping)).toEqual(['opened@1', 'resolved@2']);
    const later = run([raise(T0 + 16 * MIN, { cooldownMs: 15 * MIN })], flapping);
    expect(queued(later)).toEqual(['opened@1', 'resolved@2', 'opened@1']);
  });

  it('always notifies an escalation of a notified alert, even within the cooldown', () => {
    const alert = run([
      raise(T0, { cooldownMs: 15 * MIN }),
      raise(T0 + MIN, { severity: 'critical', cooldownMs: 15 * MIN }),
    ]);
    expect(queued(alert)).toEqual(['opened@1', 'escalated@2']);
  });
});

describe('snooze', () => {
  const snooze = (untilTs: number, scope: 'alert' | 'kind', now = T0 + 1): AlertCommand => ({
    type: 'snooze',
    by: 'op-ann',
    now,
    untilTs,
    scope,
  });

  it('holds every notification while snoozed, and is idempotent', () => {
    const opened = run([raise(T0, { severity: 'info' })]);
    const snoozed = decideAlert(opened, snooze(T0 + 60 * MIN, 'alert'))?.next;
    expect(snoozed).toMatchObject({ snoozedUntil: T0 + 60 * MIN, snoozeScope: 'alert', snoozedBy: 'op-ann' });
    expect(decideAlert(snoozed, snooze(T0 + 60 * MIN, 'alert'))).toBeUndefined();
    const escalated = run([raise(T0 + MIN, { severity: 'critical' })], snoozed);
    expect(escalated).toMatchObject({ severity: 'critical', version: 2 });
    expect(queued(escalated)).toEqual([]);
    // After the snooze, a change is notified again.
    const resolvedLater = run([raise(T0 + 61 * MIN, { severity: 'critical' })], escalated);
    expect(resolvedLater?.severity).toBe('critical');
  });

  it('still sends the end of an alert whose opening went out, snoozed or not', () => {
    const opened = run([raise(T0)]);
    expect(queued(opened)).toEqual(['opened@1']);
    const snoozed = decideAlert(opened, snooze(T0 + 60 * MIN, 'alert'))?.next;
    // The receiver was told it opened: a resolution during the snooze must reach them too.
    expect(queued(run([clear(T0 + MIN)], snoozed))).toEqual(['opened@1', 'resolved@2']);
  });

  it('ends with a time at or before now, and not at all on a resolved alert', () => {
    const snoozed = decideAlert(run([raise(T0)]), snooze(T0 + 60 * MIN, 'alert'))?.next;
    const ended = decideAlert(snoozed, snooze(T0, 'alert', T0 + 2))?.next;
    expect(ended).not.toHaveProperty('snoozedUntil');
    expect(decideAlert(run([raise(T0), clear(T0 + 1)]), snooze(T0 + MIN, 'kind'))).toBeUndefined();
  });

  it('of scope kind carries over to the next alert of the treadmill and kind; of scope alert does not', () => {
    const base = run([raise(T0)]);
    for (const scope of ['kind', 'alert'] as const) {
      const snoozed = decideAlert(base, snooze(T0 + 60 * MIN, scope))?.next;
      const next = run([clear(T0 + MIN), raise(T0 + 2 * MIN)], snoozed);
      expect(next?.alertId).toBe(alertIdFor('gym-a', 'tm-01', 'error_code', T0 + 2 * MIN));
      // Resolved while snoozed: its end still follows its opening; the next alert opens silently under a snooze
      // of the kind only.
      expect(queued(next)).toEqual(
        scope === 'kind' ? ['opened@1', 'resolved@2'] : ['opened@1', 'resolved@2', 'opened@1'],
      );
      expect(next?.snoozedUntil).toBe(scope === 'kind' ? T0 + 60 * MIN : undefined);
    }
  });
});
