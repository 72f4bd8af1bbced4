import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AlertKind,
  type AlertSignal,
  DEFAULT_ALERT_CONFIG,
  type EventAlertInput,
  evaluateEventAlerts,
  evaluateOfflineAlert,
  heartRateLimitBpm,
  isWithinOpeningHours,
  sessionEndedSignals,
} from '../../shared/src/alerts/index.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { StreamBuilder, T0 } from '../support/events.js';

// T0 is 09:00 UTC on a Tuesday in November: 10:00 in Berlin, inside the default opening hours.
const MIN = 60_000;

const backward = () => 'backward' as const;
const forward = () => 'forward' as const;
const beltDirection = (event: TelemetryEvent) =>
  event.type === 'belt' ? (event.direction ?? 'unknown') : 'unknown';

function evaluate(events: readonly TelemetryEvent[], extra: Partial<EventAlertInput> = {}): AlertSignal[] {
  return evaluateEventAlerts({
    gymId: 'gym-a',
    treadmillId: 'tm-01',
    events,
    direction: beltDirection,
    sessionId: 's-1',
    // No alert open unless a test says so: clears then come only from raises of the same batch.
    openKinds: [],
    ...extra,
  });
}

const raises = (signals: readonly AlertSignal[], kind?: AlertKind) =>
  signals.filter((s) => s.action === 'raise' && (kind === undefined || s.kind === kind));
const kindsOf = (signals: readonly AlertSignal[]) => signals.map((s) => `${s.action}:${s.kind}`);

describe('safety-key stop', () => {
  it('raises a critical alert for the member session on a safety_stop state', () => {
    const events = new StreamBuilder()
      .walk(T0, 3, { speedKmh: 3 })
      .add(T0 + 3000, { type: 'machine', state: 'safety_stop' }).events;
    const [signal, ...rest] = raises(evaluate(events));
    expect(rest).toEqual([]);
    expect(signal).toMatchObject({
      kind: 'safety_stop',
      severity: 'critical',
      ts: T0 + 3000,
      sessionId: 's-1',
      gymId: 'gym-a',
      treadmillId: 'tm-01',
    });
  });

  it('is not cleared by a restart: a person has to look', () => {
    const events = new StreamBuilder().add(T0, { type: 'machine', state: 'started' }).events;
    expect(evaluate(events).filter((s) => s.kind === 'safety_stop')).toEqual([]);
  });
});

describe('treadmill error code', () => {
  it('raises with the code and clears on a later start without an error', () => {
    const stream = new StreamBuilder().add(T0, { type: 'machine', errorCode: 'ERR-27', state: 'stopped' });
    const first = evaluate(stream.events);
    expect(raises(first, 'error_code')).toMatchObject([
      { severity: 'critical', detail: { errorCode: 'ERR-27' }, ts: T0 },
    ]);
    expect(raises(first, 'error_code')[0]).not.toHaveProperty('sessionId');

    const later = new StreamBuilder().add(T0 + MIN, { type: 'machine', state: 'started' }).events;
    expect(evaluate(later, { openKinds: ['error_code'] })).toMatchObject([
      { kind: 'error_code', action: 'clear', ts: T0 + MIN },
    ]);
  });

  it('keeps raising when the start itself reports an error', () => {
    const events = new StreamBuilder().add(T0, { type: 'machine', state: 'started', errorCode: 'E1' }).events;
    expect(kindsOf(evaluate(events))).toContain('raise:error_code');
    expect(kindsOf(evaluate(events))).not.toContain('clear:error_code');
  });
});

describe('motor temperature', () => {
  const temps = (values: number[]) => {
    const stream = new StreamBuilder();
    values.forEach((motorTempC, i) => {
      stream.add(T0 + i * 1000, { type: 'machine', motorTempC });
    });
    return stream.events;
  };

  it('raises over the limit with the peak of the batch', () => {
    const [signal] = raises(evaluate(temps([85, 93, 97, 91])));
    expect(signal).toMatchObject({ kind: 'motor_overheat', count: 3, firstTs: T0 + 1000, ts: T0 + 3000 });
    expect(signal?.detail).toMatchObject({ motorTempC: 91, peak: 97, limitC: 90 });
  });

  it('clears only below the limit minus the hysteresis', () => {
    expect(evaluate(temps([88]), { openKinds: ['motor_overheat'] })).toEqual([]);
    expect(evaluate(temps([84]), { openKinds: ['motor_overheat'] })).toMatchObject([
      { kind: 'motor_overheat', action: 'clear' },
    ]);
  });

  it('opens and closes within one batch as a raise followed by a clear', () => {
    expect(kindsOf(evaluate(temps([95, 80])))).toEqual(['raise:motor_overheat', 'clear:motor_overheat']);
  });
});

describe('offline during opening hours', () => {
  const base = { gymId: 'gym-a', treadmillId: 'tm-01', offline: true };

  it('raises once silent past the limit during opening hours, with the same ts on every sweep', () => {
    const first = evaluateOfflineAlert({ ...base, lastSeenTs: T0, now: T0 + 6 * MIN });
    const again = evaluateOfflineAlert({ ...base, lastSeenTs: T0, now: T0 + 9 * MIN });
    expect(first).toMatchObject({ kind: 'offline', action: 'raise', severity: 'critical', ts: T0 + 5 * MIN });
    expect(again).toEqual(first);
  });

  it('stays quiet before the limit and while the gym is closed', () => {
    expect(evaluateOfflineAlert({ ...base, lastSeenTs: T0, now: T0 + 4 * MIN })).toBeUndefined();
    const lateEvening = Date.UTC(2026, 10, 24, 22, 30); // 23:30 in Berlin
    expect(
      evaluateOfflineAlert({ ...base, lastSeenTs: lateEvening - 20 * MIN, now: lateEvening }),
    ).toBeUndefined();
  });

  it('honours opening hours past midnight and the configured time zone', () => {
    const hours = { openHour: 18, closeHour: 2, timeZone: 'America/New_York' };
    expect(isWithinOpeningHours(Date.UTC(2026, 10, 24, 5, 30), hours)).toBe(true); // 00:30 in New York
    expect(isWithinOpeningHours(Date.UTC(2026, 10, 24, 9, 0), hours)).toBe(false); // 04:00
    expect(isWithinOpeningHours(Date.UTC(2026, 10, 24, 23, 0), hours)).toBe(true); // 18:00
  });

  it('clears when the treadmill is back: from the sweeper and from any event but an offline heartbeat', () => {
    expect(evaluateOfflineAlert({ ...base, offline: false, lastSeenTs: T0, now: T0 })).toMatchObject({
      action: 'clear',
      ts: T0,
    });
    const heartbeat = new StreamBuilder().add(T0, { type: 'heartbeat', online: true }).events;
    expect(evaluate(heartbeat, { openKinds: ['offline'] })).toMatchObject([
      { kind: 'offline', action: 'clear' },
    ]);
    const down = new StreamBuilder().add(T0, { type: 'heartbeat', online: false }).events;
    expect(evaluate(down, { openKinds: ['offline'] })).toEqual([]);
  });
});

describe('maintenance due', () => {
  it('raises when the belt odometer crosses a service interval in the batch', () => {
    const events = new StreamBuilder()
      .add(T0, { type: 'machine', odometerKm: 4999.6 })
      .add(T0 + MIN, { type: 'machine', odometerKm: 5000.1 }).events;
    expect(raises(evaluate(events, { odometerKm: 4999.2 }))).toMatchObject([
      {
        kind: 'maintenance_due',
        severity: 'info',
        ts: T0 + MIN,
        detail: { dueAtKm: 5000, odometerKm: 5000.1 },
      },
    ]);
  });

  it('raises on motor hours, and takes the state before the batch into account', () => {
    const events = new StreamBuilder().add(T0, { type: 'machine', beltHours: 2000.5 }).events;
    const [signal] = raises(evaluate(events, { beltHours: 1999.9 }));
    expect(signal?.detail).toMatchObject({ dueAtHours: 2000 });
    expect(signal?.message).toContain('2000 h');
    expect(evaluate(events, { beltHours: 2000.1 })).toEqual([]);
  });

  it('uses the first reading as the baseline when nothing earlier is known', () => {
    const events = new StreamBuilder().add(T0, { type: 'machine', odometerKm: 7200 }).events;
    expect(evaluate(events)).toEqual([]);
  });

  it('uses the model interval from the config', () => {
    const events = new StreamBuilder().add(T0, { type: 'machine', odometerKm: 1001 }).events;
    const config = { ...DEFAULT_ALERT_CONFIG, maintenanceBeltKm: 1000 };
    expect(raises(evaluate(events, { odometerKm: 999, config }), 'maintenance_due')).toHaveLength(1);
  });
});

describe('stumble', () => {
  it('makes one signal per batch with the latest ts and the count', () => {
    const events = new StreamBuilder()
      .add(T0, { type: 'step', foot: 'L', stumble: true })
      .add(T0 + 500, { type: 'step', foot: 'R', stumble: false })
      .add(T0 + 900, { type: 'step', foot: 'R', stumble: true })
      .add(T0 + 1500, { type: 'step', foot: 'L', stumble: true }).events;
    expect(evaluate(events)).toMatchObject([
      { kind: 'stumble', action: 'raise', ts: T0 + 1500, firstTs: T0, count: 3, sessionId: 's-1' },
    ]);
  });

  it('is info until the configured count of a session, then a warning', () => {
    const events = new StreamBuilder().add(T0, { type: 'step', foot: 'L', stumble: true }).events;
    const config = { ...DEFAULT_ALERT_CONFIG, stumbleAlertCount: 2 };
    expect(evaluate(events, { config })).toMatchObject([
      { kind: 'stumble', severity: 'info', escalateAt: { count: 2, severity: 'warning' } },
    ]);
  });

  it('closes when the sweeper closes its session, with the other alerts about the member', () => {
    expect(
      sessionEndedSignals('gym-a', 'tm-01', T0, ['stumble', 'offline', 'heart_rate_high']).map(
        (signal) => `${signal.action}:${signal.kind}`,
      ),
    ).toEqual(['clear:heart_rate_high', 'clear:stumble']);
  });

  it('closes when its session ends: the member has left', () => {
    const events = new StreamBuilder().add(T0, { type: 'session', action: 'end' }).events;
    expect(kindsOf(evaluate(events, { openKinds: ['stumble'] }))).toContain('clear:stumble');
  });
});

describe('severities (docs/architecture.md section 7.3)', () => {
  it('makes fault, overheating and offline critical, and carries the cooldown on raises', () => {
    const events = new StreamBuilder()
      .add(T0, { type: 'machine', state: 'stopped', errorCode: 'E07' })
      .add(T0 + 1000, { type: 'machine', motorTempC: 95 }).events;
    const config = { ...DEFAULT_ALERT_CONFIG, notifyCooldownMs: 7 * MIN };
    expect(raises(evaluate(events, { config }))).toMatchObject([
      { kind: 'error_code', severity: 'critical', cooldownMs: 7 * MIN },
      { kind: 'motor_overheat', severity: 'critical', cooldownMs: 7 * MIN },
    ]);
    const offline = evaluateOfflineAlert({
      gymId: 'gym-a',
      treadmillId: 'tm-01',
      lastSeenTs: T0,
      now: T0 + 6 * MIN,
      offline: true,
    });
    expect(offline).toMatchObject({ severity: 'critical' });
  });
});

describe('heart rate over 85 % of the age-predicted maximum', () => {
  it('computes the limit from the age and ignores implausible or unknown ages', () => {
    expect(heartRateLimitBpm(40, DEFAULT_ALERT_CONFIG)).toBe(153);
    expect(heartRateLimitBpm(undefined, DEFAULT_ALERT_CONFIG)).toBeUndefined();
    expect(heartRateLimitBpm(150, DEFAULT_ALERT_CONFIG)).toBeUndefined();
  });

  it('raises from heart-rate and belt samples over the limit', () => {
    const events = new StreamBuilder()
      .add(T0, { type: 'hr', hrBpm: 150 })
      .add(T0 + 1000, { type: 'hr', hrBpm: 158 })
      .add(T0 + 2000, { type: 'belt', speedKmh: 3, hrBpm: 161 }).events;
    const [signal] = raises(evaluate(events, { memberAgeYears: 40 }));
    expect(signal).toMatchObject({ kind: 'heart_rate_high', count: 2, ts: T0 + 2000 });
    expect(signal?.detail).toMatchObject({ limitBpm: 153, peak: 161 });
  });

  it('is off when the age is unknown, and skips samples without skin contact', () => {
    const high = new StreamBuilder().add(T0, { type: 'hr', hrBpm: 190 }).events;
    expect(evaluate(high)).toEqual([]);
    const noContact = new StreamBuilder().add(T0, { type: 'hr', hrBpm: 190, contact: false }).events;
    expect(evaluate(noContact, { memberAgeYears: 40 })).toEqual([]);
  });

  it('clears below the limit minus the hysteresis, and at the end of the session', () => {
    const calmer = new StreamBuilder().add(T0, { type: 'hr', hrBpm: 150 }).events;
    expect(evaluate(calmer, { memberAgeYears: 40, openKinds: ['heart_rate_high'] })).toEqual([]);
    const calm = new StreamBuilder().add(T0, { type: 'hr', hrBpm: 140 }).events;
    expect(kindsOf(evaluate(calm, { memberAgeYears: 40, openKinds: ['heart_rate_high'] }))).toEqual([
      'clear:heart_rate_high',
    ]);
    const end = new StreamBuilder().add(T0, { type: 'session', action: 'end' }).events;
    expect(kindsOf(evaluate(end, { openKinds: ['heart_rate_high'] }))).toEqual(['clear:heart_rate_high']);
  });
});

describe('backward walking over the speed cap or the incline limit', () => {
  it('raises above 3.5 km/h backward, not at the cap and not forward', () => {
    const fast = new StreamBuilder().walk(T0, 3, { speedKmh: 4.2 }).events;
    expect(raises(evaluate(fast, { direction: backward }))).toMatchObject([
      { kind: 'backward_overspeed', count: 3, detail: { speedKmh: 4.2, capKmh: 3.5 }, sessionId: 's-1' },
    ]);
    const atCap = new StreamBuilder().walk(T0, 3, { speedKmh: 3.5 }).events;
    expect(raises(evaluate(atCap, { direction: backward }))).toEqual([]);
    expect(raises(evaluate(fast, { direction: forward }))).toEqual([]);
  });

  it('uses the direction of each event, and does nothing when it is unknown', () => {
    const events = new StreamBuilder()
      .add(T0, { type: 'belt', speedKmh: 5, direction: 'forward' })
      .add(T0 + 1000, { type: 'belt', speedKmh: 4, direction: 'backward' })
      .add(T0 + 2000, { type: 'belt', speedKmh: 6 }).events;
    expect(raises(evaluate(events))).toMatchObject([{ kind: 'backward_overspeed', ts: T0 + 1000 }]);
    // The forward sample before the raise is a leading clear only when an alert is open.
    expect(kindsOf(evaluate(events))).toEqual(['raise:backward_overspeed']);
    expect(kindsOf(evaluate(events, { openKinds: ['backward_overspeed'] }))).toEqual([
      'clear:backward_overspeed',
      'raise:backward_overspeed',
    ]);
  });

  it('raises above 10 % incline backward', () => {
    const steep = new StreamBuilder().walk(T0, 2, { speedKmh: 2, inclinePct: 12 }).events;
    expect(raises(evaluate(steep, { direction: backward }))).toMatchObject([
      { kind: 'backward_incline', detail: { inclinePct: 12, maxPct: 10 } },
    ]);
    const limit = new StreamBuilder().walk(T0, 2, { speedKmh: 2, inclinePct: 10 }).events;
    expect(raises(evaluate(limit, { direction: backward }))).toEqual([]);
  });

  it('takes a configured cap', () => {
    const events = new StreamBuilder().walk(T0, 1, { speedKmh: 2.5 }).events;
    const config = { ...DEFAULT_ALERT_CONFIG, backwardSpeedCapKmh: 2 };
    expect(raises(evaluate(events, { direction: backward, config }))).toHaveLength(1);
  });

  it('clears when the member slows down, turns forward or the belt stops', () => {
    const open: AlertKind[] = ['backward_overspeed', 'backward_incline'];
    const slower = new StreamBuilder().walk(T0, 1, { speedKmh: 3, inclinePct: 5 }).events;
    expect(kindsOf(evaluate(slower, { direction: backward, openKinds: open }))).toEqual([
      'clear:backward_overspeed',
      'clear:backward_incline',
    ]);
    const stopped = new StreamBuilder().add(T0, { type: 'machine', state: 'stopped' }).events;
    expect(kindsOf(evaluate(stopped, { openKinds: open }))).toEqual([
      'clear:backward_overspeed',
      'clear:backward_incline',
    ]);
  });
});

describe('one signal per kind and batch', () => {
  it('emits clears only for open kinds, but always the clear that ends a raise of the same batch', () => {
    const events = new StreamBuilder()
      .add(T0, { type: 'heartbeat', online: true })
      .add(T0 + 1000, { type: 'machine', motorTempC: 95 })
      .add(T0 + 2000, { type: 'machine', motorTempC: 70 }).events;
    expect(kindsOf(evaluate(events, { openKinds: [] }))).toEqual([
      'raise:motor_overheat',
      'clear:motor_overheat',
    ]);
    // Without openKinds every clear goes out, e.g. the offline clear that any event implies.
    expect(kindsOf(evaluate(events, { openKinds: undefined }))).toEqual([
      'raise:motor_overheat',
      'clear:offline',
      'clear:motor_overheat',
    ]);
  });

  it('counts every raising event exactly once however the stream is cut into batches', () => {
    const stream = new StreamBuilder();
    for (let i = 0; i < 40; i++) {
      stream.add(T0 + i * 700, { type: 'step', foot: i % 2 ? 'L' : 'R', stumble: i % 3 === 0 });
      stream.add(T0 + i * 700 + 300, { type: 'belt', speedKmh: i % 5 === 0 ? 4 : 3 });
    }
    const events = stream.events;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: events.length - 1 }), { maxLength: 10 }),
        (cuts) => {
          const bounds = [0, ...cuts.sort((a, b) => a - b), events.length];
          const signals = bounds
            .slice(1)
            .flatMap((end, i) => evaluate(events.slice(bounds[i], end), { direction: backward }));
          const total = (kind: AlertKind) => raises(signals, kind).reduce((n, s) => n + (s.count ?? 1), 0);
          expect(total('stumble')).toBe(14);
          expect(total('backward_overspeed')).toBe(8);
          expect(raises(signals).length).toBeLessThanOrEqual(2 * (bounds.length - 1));
        },
      ),
    );
  });
});
