/**
 * A member's numbers of one week as the progress email shows them, from their week rollup: what the report
 * (progress-report.ts) is built of and what the insight (insight.ts) reads.
 */
import { weekStart } from '../iso-week.js';
import type { MemberWeekRollup } from '../metrics/rollups.js';

export interface WeekNumbers {
  week: string;
  /** Monday, yyyy-mm-dd. */
  start: string;
  sessions: number;
  movingMin: number;
  forwardMin: number;
  backwardMin: number;
  distanceM: number;
  kcal: number;
  /** Mean of the week's balance scores; null when no session had one. */
  balance: number | null;
}

/** The numbers of `week`; zeros when the member has no rollup for it. */
export function weekNumbersOf(week: string, rollup: MemberWeekRollup | undefined): WeekNumbers {
  return {
    week,
    start: weekStart(week),
    sessions: rollup?.sessions ?? 0,
    movingMin: rollup?.movingMin ?? 0,
    forwardMin: rollup?.forwardMin ?? 0,
    backwardMin: rollup?.backwardMin ?? 0,
    distanceM: rollup?.distanceM ?? 0,
    kcal: rollup?.kcal ?? 0,
    balance: rollup && rollup.balanceScore.n > 0 ? rollup.balanceScore.mean : null,
  };
}
