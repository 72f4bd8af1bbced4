/**
 * ISO 8601 weeks and calendar days, in UTC: the keys the rollups are stored under (`2026-W48`, `2026-11-24`)
 * and the arithmetic on them that the export, the progress email and the local stack share.
 *
 * A week runs Monday to Sunday and belongs to the year of its Thursday, so week 1 is the week holding 4 January
 * and a year has 52 or 53 weeks.
 */

export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

/** Days since Monday (0 = Monday, 6 = Sunday) of the UTC day holding `ts`. */
const daysSinceMonday = (ts: number): number => (new Date(ts).getUTCDay() + 6) % 7;

/** Monday 00:00 UTC of week 1 of an ISO year. */
function week1Monday(year: number): number {
  const jan4 = Date.UTC(year, 0, 4);
  return jan4 - daysSinceMonday(jan4) * DAY_MS;
}

/** `2026-W48`: the ISO week holding `ts`. */
export function isoWeekKey(ts: number): string {
  const date = new Date(ts);
  const weekday = daysSinceMonday(ts);
  const thursday = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - weekday + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - week1Monday(year)) / WEEK_MS) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** `2026-11-24`: the UTC day holding `ts`. */
export const dayKey = (ts: number): string => new Date(ts).toISOString().slice(0, 10);

/** The day `days` days after `day` (negative: before), both yyyy-mm-dd. */
export const addDays = (day: string, days: number): string =>
  dayKey(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS);

/** Monday 00:00 UTC of an ISO week key, as epoch ms. */
export function weekStartTs(week: string): number {
  const [year, number] = week.split('-W').map(Number) as [number, number];
  return week1Monday(year) + (number - 1) * WEEK_MS;
}

/** Monday of an ISO week key, as yyyy-mm-dd. */
export const weekStart = (week: string): string => dayKey(weekStartTs(week));

/** Sunday of an ISO week key, as yyyy-mm-dd. */
export const weekEnd = (week: string): string => dayKey(weekStartTs(week) + 6 * DAY_MS);

/** `2026-W47` naming a week that exists (W53 only in years that have one). */
export function isIsoWeek(week: string): boolean {
  if (!/^\d{4}-W\d{2}$/.test(week)) return false;
  const number = Number(week.slice(6));
  return number >= 1 && isoWeekKey(weekStartTs(week) + 3 * DAY_MS) === week;
}

/** The ISO week `offset` weeks from `week` (negative: earlier). */
export const shiftWeek = (week: string, offset: number): string =>
  isoWeekKey(weekStartTs(week) + (3 + offset * 7) * DAY_MS);

/** The last week that has ended at `now`: the one before the week holding it. */
export const lastCompleteWeek = (now: number): string => shiftWeek(isoWeekKey(now), -1);

/**
 * The weeks whose Thursday falls from `fromTs` to `toTs` (UTC midnights, both included), in order: the weeks
 * ISO 8601 assigns to that range of days.
 */
export function weeksByThursday(fromTs: number, toTs: number): string[] {
  const weeks: string[] = [];
  // The Thursday of the week `fromTs` falls in, then every 7 days.
  let thursday = fromTs + (3 - daysSinceMonday(fromTs)) * DAY_MS;
  if (thursday < fromTs) thursday += WEEK_MS;
  for (; thursday <= toTs; thursday += WEEK_MS) weeks.push(isoWeekKey(thursday));
  return weeks;
}
