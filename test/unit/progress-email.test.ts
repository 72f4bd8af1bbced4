import { describe, expect, it } from 'vitest';
import { chooseInsight, type InsightInput } from '../../shared/src/email/insight.js';
import { buildProgressReport } from '../../shared/src/email/progress-report.js';
import type { WeekNumbers } from '../../shared/src/email/week-numbers.js';
import { shiftWeek } from '../../shared/src/iso-week.js';
import { dayRangeLabel, escapeHtml, renderProgressEmail } from '../../shared/src/email/render.js';
import type { MemberWeekRollup } from '../../shared/src/metrics/rollups.js';
import { addSample, emptyStats } from '../../shared/src/metrics/stats.js';

function week(
  name: string,
  numbers: { sessions: number; fwd: number; bwd: number; scores?: number[]; bwdSpeed?: number | null },
): MemberWeekRollup {
  const balanceScore = (numbers.scores ?? []).reduce(addSample, emptyStats());
  return {
    userToken: 'm_a_001',
    week: name,
    sessions: numbers.sessions,
    movingMin: numbers.fwd + numbers.bwd,
    forwardMin: numbers.fwd,
    backwardMin: numbers.bwd,
    unknownMin: 0,
    distanceM: numbers.fwd * 80 + numbers.bwd * 40,
    forwardM: numbers.fwd * 80,
    backwardM: numbers.bwd * 40,
    kcal: (numbers.fwd + numbers.bwd) * 4.5,
    balanceScore,
    best: {
      longestMovingMin: (numbers.fwd + numbers.bwd) / Math.max(1, numbers.sessions),
      longestDistanceM: (numbers.fwd * 80 + numbers.bwd * 40) / Math.max(1, numbers.sessions),
      balanceScore: balanceScore.n > 0 ? balanceScore.max : null,
      forwardSpeedKmh: numbers.fwd > 0 ? 4.8 : null,
      backwardSpeedKmh: numbers.bwd > 0 ? (numbers.bwdSpeed ?? 2.4) : null,
    },
    ageBand: '40-49',
    sex: 'female',
  };
}

const history = [
  week('2026-W44', { sessions: 2, fwd: 40, bwd: 8, scores: [70, 72] }),
  week('2026-W45', { sessions: 2, fwd: 42, bwd: 12, scores: [73] }),
  // W46: no sessions
  week('2026-W47', { sessions: 3, fwd: 45, bwd: 20, scores: [76, 78], bwdSpeed: 2.8 }),
];

/** Words of medical claims that an email must never make. */
const MEDICAL =
  /\b(pain|cure|heal|treat|therap|rehab|disease|prevent|patient|diagnos|clinical|injur|arthritis|stroke|symptom|fall risk)/i;

describe('progress report', () => {
  const report = buildProgressReport('2026-W47', history)!;

  it('takes the numbers of the week and compares with the last one (none here)', () => {
    expect(report.firstDay).toBe('2026-11-16');
    expect(report.lastDay).toBe('2026-11-22');
    expect(report.current).toMatchObject({ sessions: 3, forwardMin: 45, backwardMin: 20, balance: 77 });
    expect(report.previous).toBeNull();
    expect(report.recent.map((w) => [w.week, w.movingMin])).toEqual([
      ['2026-W44', 48],
      ['2026-W45', 54],
      ['2026-W46', 0],
      ['2026-W47', 65],
    ]);
    expect(report.balanceTrend).toEqual({ values: [71, 73, null, 77], change: 6 });
  });

  it('marks the personal bests this week set', () => {
    const bests = Object.fromEntries(report.bests.map((b) => [b.name, b]));
    expect(bests.balance).toEqual({ name: 'balance', value: 78, isNew: true });
    expect(bests.backwardSpeed).toEqual({ name: 'backwardSpeed', value: 2.8, isNew: true });
    expect(bests.forwardSpeed?.isNew).toBe(false);
    expect(buildProgressReport('2026-W44', history)!.bests.every((b) => !b.isNew)).toBe(true);
  });

  it('is null for a week without sessions', () => {
    expect(buildProgressReport('2026-W46', history)).toBeNull();
    expect(buildProgressReport('2026-W48', history)).toBeNull();
  });

  it('walks ISO weeks across a year end', () => {
    expect(shiftWeek('2027-W01', -1)).toBe('2026-W53');
    expect(shiftWeek('2026-W53', 1)).toBe('2027-W01');
    expect(dayRangeLabel('2026-11-30', '2026-12-06')).toBe('30 November – 6 December 2026');
  });
});

describe('insight', () => {
  const numbers = (week: string, sessions: number, fwd: number, bwd: number, balance: number | null = null) =>
    ({
      week,
      start: '2026-11-16',
      sessions,
      movingMin: fwd + bwd,
      forwardMin: fwd,
      backwardMin: bwd,
      distanceM: 0,
      kcal: 0,
      balance,
    }) satisfies WeekNumbers;
  const input = (over: Partial<InsightInput>): InsightInput => ({
    current: numbers('2026-W47', 2, 30, 10),
    previous: null,
    balanceTrend: { values: [null, null, null, 70], change: null },
    bestBackwardSpeedKmh: 2.5,
    ...over,
  });

  const cases: Array<[string, InsightInput]> = [
    ['backward-rhythm', input({ current: numbers('2026-W47', 3, 20, 32) })],
    ['balance-rising', input({ balanceTrend: { values: [70, 72, null, 75], change: 5 } })],
    ['backward-speed', input({ previous: numbers('2026-W46', 2, 30, 5) })],
    ['try-backward', input({ current: numbers('2026-W47', 2, 40, 0) })],
    ['backward-share', input({})],
  ];

  it.each(cases)('%s: drawn from the member’s numbers, without medical claims', (id, given) => {
    const insight = chooseInsight(given);
    expect(insight.id).toBe(id);
    expect(`${insight.title} ${insight.text}`).not.toMatch(MEDICAL);
    expect(insight.source.length).toBeGreaterThan(5);
  });

  it('quotes the member’s own numbers', () => {
    expect(chooseInsight(cases[0]![1]).text).toContain('32 minutes over 3 sessions');
    expect(chooseInsight(cases[1]![1]).text).toContain('from 70 to 75');
    expect(chooseInsight(cases[4]![1]).text).toMatch(/^25 % of your walking/);
  });
});

describe('rendering', () => {
  const report = buildProgressReport('2026-W47', history)!;
  const email = renderProgressEmail(report, {
    unsubscribePage: 'https://retro.example/unsubscribe.html?token=a&b',
  });

  it('says the week in the subject', () => {
    expect(email.subject).toBe('Your treadmill week, 16–22 November 2026: 3 sessions, 65 min');
  });

  it('has a text part with the same chart drawn in characters', () => {
    expect(email.text).toContain('  Sessions        3\n');
    expect(email.text).toMatch(/2 Nov\s+#+=+\.* 54 min \(42 forward, 12 backward\)/);
    expect(email.text).toContain('Unsubscribe: https://retro.example/unsubscribe.html?token=a&b');
    expect(email.text).not.toMatch(MEDICAL);
  });

  it('draws the chart as table cells with widths, with the numbers beside them and a label for screen readers', () => {
    expect(email.html).toMatch(
      /<table role="img" aria-label="Active minutes per week, 26 Oct: 40 forward, 8 backward;/,
    );
    // 16 Nov, the busiest week: 45 of its 65 minutes forward.
    expect(email.html).toContain('width="69%" height="14" bgcolor="#2f6fb3"');
    expect(email.html).toContain('href="https://retro.example/unsubscribe.html?token=a&amp;b"');
    expect(email.html).not.toMatch(/<script|<img|<link|<style/);
    expect(escapeHtml('<a href="x">\'&')).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  });
});
