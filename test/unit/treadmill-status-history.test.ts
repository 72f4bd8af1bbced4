/**
 * A treadmill's status by hour (shared/src/metrics/treadmill-status-history.ts) and the sessions CSV
 * (functions/api/views.ts): pure, so every case is exact.
 */
import { describe, expect, it } from 'vitest';
import { sessionsCsv, statusHourViewOf } from '../../functions/api/views.js';
import type { SessionListItem } from '../../functions/lib/sessions-repo.js';
import { parseCsv } from '../../shared/src/csv.js';
import { hourKey, statusHoursOf } from '../../shared/src/metrics/treadmill-status-history.js';
import { StreamBuilder, T0 } from '../support/events.js';

const HOUR = 3_600_000;

describe('statusHoursOf', () => {
  it('keeps, per UTC hour, the last value of each counter and the hottest motor reading', () => {
    const stream = new StreamBuilder()
      .add(T0 + 60_000, { type: 'machine', motorTempC: 40, beltHours: 700, odometerKm: 12.5 })
      .add(T0 + 120_000, { type: 'belt', speedKmh: 3 })
      .add(T0 + 600_000, { type: 'machine', motorTempC: 88.5 })
      .add(T0 + 900_000, { type: 'machine', motorTempC: 61, beltHours: 700.2 })
      .add(T0 + HOUR + 5_000, { type: 'machine', state: 'started' })
      .add(T0 + HOUR + 10_000, { type: 'machine', odometerKm: 13 });
    expect(statusHoursOf(stream.events)).toEqual([
      {
        hour: '2026-11-24T09',
        lastTs: T0 + 900_000,
        motorTempC: 61,
        maxMotorTempC: 88.5,
        beltHours: 700.2,
        odometerKm: 12.5,
      },
      { hour: '2026-11-24T10', lastTs: T0 + HOUR + 10_000, odometerKm: 13 },
    ]);
  });

  it('takes the latest reading by time when seq order is not time order', () => {
    const stream = new StreamBuilder()
      .add(T0 + 900_000, { type: 'machine', motorTempC: 50 })
      .add(T0 + 300_000, { type: 'machine', motorTempC: 70 });
    expect(statusHoursOf(stream.events)).toEqual([
      { hour: hourKey(T0), lastTs: T0 + 900_000, motorTempC: 50, maxMotorTempC: 70 },
    ]);
  });

  it('has no hour for a batch without a machine reading', () => {
    const stream = new StreamBuilder()
      .add(T0, { type: 'machine', state: 'stopped' })
      .add(T0 + 1_000, { type: 'heartbeat', online: true });
    expect(statusHoursOf(stream.events)).toEqual([]);
  });

  it('shows an hour with every counter, null when the hour had none', () => {
    expect(statusHourViewOf({ hour: '2026-11-24T09', lastTs: T0 + 5, beltHours: 3 })).toEqual({
      hour: '2026-11-24T09',
      ts: T0,
      lastTs: T0 + 5,
      motorTempC: null,
      maxMotorTempC: null,
      beltHours: 3,
      odometerKm: null,
    });
  });
});

describe('sessionsCsv', () => {
  const ended: SessionListItem = {
    sessionId: 'gym-a:tm-01:7',
    gymId: 'gym-a',
    treadmillId: 'tm-01',
    userToken: 'm_a_001',
    program: 'interval',
    startTs: T0,
    status: 'ended',
    endTs: T0 + 600_000,
    endReason: 'session_end',
    durationS: 600,
    distanceM: 512.5,
    forwardS: 300,
    backwardS: 290,
    backwardShare: 0.49,
    balanceDirection: 'backward, "assisted"',
  };
  const active: SessionListItem = {
    sessionId: 'gym-a:tm-02:9',
    gymId: 'gym-a',
    treadmillId: 'tm-02',
    startTs: T0 + 60_000,
    status: 'active',
  };

  it('writes a header and one row per session, quoting what needs it and leaving unknowns empty', () => {
    const [header, first, second, ...rest] = parseCsv(sessionsCsv([ended, active])).map((r) => r.fields);
    expect(rest).toEqual([]);
    const row = (fields: string[] | undefined) =>
      Object.fromEntries((header ?? []).map((name, i) => [name, fields?.[i]]));
    expect(row(first)).toMatchObject({
      session_id: 'gym-a:tm-01:7',
      member: 'm_a_001',
      start_utc: '2026-11-24T09:00:00.000Z',
      end_utc: '2026-11-24T09:10:00.000Z',
      distance_m: '512.5',
      backward_share: '0.49',
      balance_direction: 'backward, "assisted"',
    });
    expect(row(second)).toMatchObject({ status: 'active', member: '', end_utc: '', kcal: '' });
    expect(sessionsCsv([ended])).toContain('"backward, ""assisted"""');
    expect(sessionsCsv([])).toMatch(/^session_id,[a-z_,]+\r\n$/);
  });
});
