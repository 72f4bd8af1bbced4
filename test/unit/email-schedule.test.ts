import { describe, expect, it } from 'vitest';
import { nextRunAfter, parseWeeklySchedule } from '../../shared/src/email/schedule.js';

describe('weekly email schedule', () => {
  it('reads the EventBridge weekly form, by day name or number (1 = Sunday)', () => {
    expect(parseWeeklySchedule('cron(0 7 ? * MON *)')).toEqual({ weekday: 1, hour: 7, minute: 0 });
    expect(parseWeeklySchedule('cron(30 18 ? * 1 *)')).toEqual({ weekday: 0, hour: 18, minute: 30 });
  });

  it('refuses every other form in one line, rather than guessing', () => {
    for (const expression of [
      'rate(7 days)',
      'cron(0 7 * * ? *)',
      'cron(0 25 ? * MON *)',
      'cron(0 7 ? * XYZ *)',
    ])
      expect(() => parseWeeklySchedule(expression)).toThrow(/expected a weekly schedule/);
  });

  it('gives the next run strictly after the time given', () => {
    const monday7 = parseWeeklySchedule('cron(0 7 ? * MON *)');
    // Sunday 2026-12-06 12:00 UTC -> Monday 2026-12-07 07:00.
    expect(nextRunAfter(monday7, Date.UTC(2026, 11, 6, 12))).toBe(Date.UTC(2026, 11, 7, 7));
    // Monday 06:59 -> the same day; Monday 07:00 exactly -> a week later.
    expect(nextRunAfter(monday7, Date.UTC(2026, 11, 7, 6, 59))).toBe(Date.UTC(2026, 11, 7, 7));
    expect(nextRunAfter(monday7, Date.UTC(2026, 11, 7, 7))).toBe(Date.UTC(2026, 11, 14, 7));
  });
});
