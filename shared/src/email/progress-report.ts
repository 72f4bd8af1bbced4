/**
 * A member's weekly progress, from their own week rollups only: this week's numbers, the change against last
 * week, the last four weeks (chart and balance trend), personal bests, and one insight (insight.ts).
 */
import { addDays, shiftWeek, weekStart } from '../iso-week.js';
import type { MemberWeekRollup } from '../metrics/rollups.js';
import { chooseInsight, type Insight } from './insight.js';
import { type WeekNumbers, weekNumbersOf } from './week-numbers.js';

export const TREND_WEEKS = 4;

export type BestName = 'longestSession' | 'longestDistance' | 'balance' | 'forwardSpeed' | 'backwardSpeed';

export interface PersonalBest {
  name: BestName;
  /** The best ever, this week included. */
  value: number;
  /** This week set it (beat every earlier week); false in a member's first week. */
  isNew: boolean;
}

export interface ProgressReport {
  week: string;
  /** Monday and Sunday of the week, yyyy-mm-dd. */
  firstDay: string;
  lastDay: string;
  current: WeekNumbers;
  /** Last week, or null when the member had no session then. */
  previous: WeekNumbers | null;
  /** The four weeks ending with this one, oldest first; weeks without sessions are zeros. */
  recent: WeekNumbers[];
  /** The balance means of the four weeks and the change from the first to the last that has one. */
  balanceTrend: { values: (number | null)[]; change: number | null };
  bests: PersonalBest[];
  /** This is the first week the member has on record. */
  firstWeek: boolean;
  insight: Insight;
}

const BEST_OF: Record<BestName, (rollup: MemberWeekRollup) => number | null> = {
  longestSession: (r) => (r.best.longestMovingMin > 0 ? r.best.longestMovingMin : null),
  longestDistance: (r) => (r.best.longestDistanceM > 0 ? r.best.longestDistanceM : null),
  balance: (r) => r.best.balanceScore,
  forwardSpeed: (r) => r.best.forwardSpeedKmh,
  backwardSpeed: (r) => r.best.backwardSpeedKmh,
};

function personalBests(current: MemberWeekRollup, earlier: readonly MemberWeekRollup[]): PersonalBest[] {
  const bests: PersonalBest[] = [];
  for (const [name, of] of Object.entries(BEST_OF) as [BestName, (r: MemberWeekRollup) => number | null][]) {
    const now = of(current);
    const before = earlier.map(of).filter((v): v is number => v !== null);
    const record = before.length > 0 ? Math.max(...before) : null;
    if (now === null && record === null) continue;
    const isNew = now !== null && record !== null && now > record;
    bests.push({
      name,
      value: Math.max(now ?? Number.NEGATIVE_INFINITY, record ?? Number.NEGATIVE_INFINITY),
      isNew,
    });
  }
  return bests;
}

/**
 * The report for `week`, or null when the member had no session that week. `history` is the member's week
 * rollups up to and including `week`, in any order (earlier weeks feed the bests and the trend).
 */
export function buildProgressReport(
  week: string,
  history: readonly MemberWeekRollup[],
): ProgressReport | null {
  const byWeek = new Map(history.filter((r) => r.week <= week).map((r) => [r.week, r]));
  const rollup = byWeek.get(week);
  if (!rollup || rollup.sessions === 0) return null;
  const earlier = [...byWeek.values()].filter((r) => r.week < week);
  const recent = Array.from({ length: TREND_WEEKS }, (_, i) => {
    const w = shiftWeek(week, i - (TREND_WEEKS - 1));
    return weekNumbersOf(w, byWeek.get(w));
  });
  const values = recent.map((w) => w.balance);
  const known = values.filter((v): v is number => v !== null);
  const change = known.length >= 2 ? known.at(-1)! - known[0]! : null;
  const previousRollup = byWeek.get(shiftWeek(week, -1));
  const current = weekNumbersOf(week, rollup);
  const previous =
    previousRollup && previousRollup.sessions > 0 ? weekNumbersOf(previousRollup.week, previousRollup) : null;
  const firstDay = weekStart(week);
  const report = {
    week,
    firstDay,
    lastDay: addDays(firstDay, 6),
    current,
    previous,
    recent,
    balanceTrend: { values, change },
    bests: personalBests(rollup, earlier),
    firstWeek: earlier.length === 0,
  };
  return {
    ...report,
    insight: chooseInsight({ ...report, bestBackwardSpeedKmh: rollup.best.backwardSpeedKmh }),
  };
}
