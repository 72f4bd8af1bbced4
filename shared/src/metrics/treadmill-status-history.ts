/**
 * A treadmill's status over time (docs/architecture.md section 7.1, rollups table): the fleet item keeps only the
 * latest motor temperature, belt hours and odometer, so ingest also keeps one small record per treadmill and UTC
 * hour, for the treadmill page's trends. Pure: the hours a batch's machine readings fall in, and their values.
 */
import type { TelemetryEvent } from '../telemetry/events.js';

export const HOUR_MS = 3_600_000;
/** Hour records expire after this (TTL); longer than the longest range a trend may ask for. */
export const STATUS_HOUR_RETENTION_DAYS = 100;

/** What one UTC hour's machine readings left: the last value of each counter and the hottest motor reading. */
export interface StatusHour {
  /** `yyyy-mm-ddThh`, UTC. */
  hour: string;
  /** Time of the hour's last reading carrying a value below; later writes of the same hour win. */
  lastTs: number;
  motorTempC?: number;
  maxMotorTempC?: number;
  beltHours?: number;
  odometerKm?: number;
}

export const hourKey = (ts: number): string => new Date(ts).toISOString().slice(0, 13);

/** The epoch ms an `hourKey` starts at. */
export const hourStartTs = (hour: string): number => Date.parse(`${hour}:00:00.000Z`);

/** The hours of `events` with a machine reading (motor temperature, belt hours, odometer), oldest first. */
export function statusHoursOf(events: readonly TelemetryEvent[]): StatusHour[] {
  const byHour = new Map<string, StatusHour>();
  for (const event of events) {
    if (event.type !== 'machine') continue;
    const { motorTempC, beltHours, odometerKm } = event;
    if (motorTempC === undefined && beltHours === undefined && odometerKm === undefined) continue;
    const hour = hourKey(event.ts);
    const known = byHour.get(hour) ?? { hour, lastTs: event.ts };
    // Events arrive in seq order, which is not always time order: keep the latest reading of each counter.
    const later = event.ts >= known.lastTs;
    const next: StatusHour = { ...known, lastTs: Math.max(known.lastTs, event.ts) };
    if (motorTempC !== undefined) {
      if (later || known.motorTempC === undefined) next.motorTempC = motorTempC;
      next.maxMotorTempC = Math.max(known.maxMotorTempC ?? motorTempC, motorTempC);
    }
    if (beltHours !== undefined && (later || known.beltHours === undefined)) next.beltHours = beltHours;
    if (odometerKm !== undefined && (later || known.odometerKm === undefined)) next.odometerKm = odometerKm;
    byHour.set(hour, next);
  }
  return [...byHour.values()].sort((a, b) => a.lastTs - b.lastTs);
}
