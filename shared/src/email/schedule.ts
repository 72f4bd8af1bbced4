/**
 * When the weekly progress email runs: the EventBridge Scheduler expression the deployment uses (cdk.json,
 * `progressEmailSchedule`), read here so that the local stack keeps the same timetable. Only the weekly
 * form is understood, `cron(M H ? * DAY *)` in UTC: anything else is an error, never a guess.
 */

const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const WEEKLY_CRON = /^cron\((\d{1,2}) (\d{1,2}) \? \* ([A-Z]{3}|[1-7]) \*\)$/;
const DAY_MS = 86_400_000;

export interface WeeklySchedule {
  /** 0 = Sunday, as Date.getUTCDay. */
  weekday: number;
  hour: number;
  minute: number;
}

export function parseWeeklySchedule(expression: string): WeeklySchedule {
  const match = WEEKLY_CRON.exec(expression.trim());
  const [, minute, hour, day] = match ?? [];
  // EventBridge numbers days 1 (Sunday) to 7 (Saturday).
  const weekday = day === undefined ? -1 : /^\d$/.test(day) ? Number(day) - 1 : WEEKDAYS.indexOf(day);
  if (weekday < 0 || Number(hour) > 23 || Number(minute) > 59)
    throw new Error(`expected a weekly schedule like "cron(0 7 ? * MON *)", got "${expression}"`);
  return { weekday, hour: Number(hour), minute: Number(minute) };
}

/** The first run strictly after `ts`. */
export function nextRunAfter(schedule: WeeklySchedule, ts: number): number {
  const midnight = Math.floor(ts / DAY_MS) * DAY_MS;
  const daysAhead = (schedule.weekday - new Date(midnight).getUTCDay() + 7) % 7;
  const run = midnight + daysAhead * DAY_MS + (schedule.hour * 60 + schedule.minute) * 60_000;
  return run > ts ? run : run + 7 * DAY_MS;
}
