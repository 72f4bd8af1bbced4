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
