/**
 * A researcher's utilisation of a gym (pure): the published cells of the research export of each whole ISO week
 * that has ended, one week at a time, so every number obeys the export's rules (docs/research-export.md,
 * Privacy): distinct members, k, complementary suppression over the week's whole cube of the caller's gyms.
 *
 * Fixed windows are what make differencing useless (docs/architecture.md section 8): a week's cells come from
 * that week alone, so every answer that holds the week shows the same cells, and nothing is summed over the
 * weeks asked for, so no answer has a total that another could be subtracted from.
 */
import type { CsvValue } from '../csv.js';
import { lastCompleteWeek, shiftWeek, weekEnd, weekStart } from '../iso-week.js';
import type { MemberGymWeekRollup } from '../metrics/rollups.js';
import { buildCube, type ExportDimension, exportTable } from './research-export.js';

export const RESEARCH_DIRECTIONS = ['forward', 'backward', 'unknown'] as const;
export type ResearchDirection = (typeof RESEARCH_DIRECTIONS)[number];

/** One published cell: the export's columns a utilisation view needs, in the export's units and rounding. */
export interface ResearchCell {
  members: number;
  sessions: number;
  movingMin: number;
  movingMinMedian: number | null;
  distanceKm: number;
  backwardShare: number | null;
}

export interface ResearchWeek {
  week: string;
  weekStart: string;
  lastDay: string;
  /** The gym's week over both directions; null when the export leaves it out (or there is nothing). */
  all: ResearchCell | null;
  byDirection: Record<ResearchDirection, ResearchCell | null>;
}

/** The last `count` ISO weeks that have ended at `now` (epoch ms), oldest first. */
export function endedWeeks(now: number, count: number): string[] {
  const last = lastCompleteWeek(now);
  return Array.from({ length: count }, (_, i) => shiftWeek(last, i + 1 - count));
}

const cellOf = (row: Record<string, CsvValue>): ResearchCell => ({
  members: Number(row.members),
  sessions: Number(row.sessions),
  movingMin: Number(row.minutes_total),
  movingMinMedian: row.minutes_median === null ? null : Number(row.minutes_median),
  distanceKm: Number(row.distance_km),
  backwardShare: row.backward_share === null ? null : Number(row.backward_share),
});

/** The published rows of the one-week export grouped `by`, as records by column name. */
function publishedRows(
  cube: ReturnType<typeof buildCube>,
  by: readonly ExportDimension[],
  k: number,
): Array<Record<string, CsvValue>> {
  const table = exportTable(cube, by, k);
  return table.rows.map((row) =>
    Object.fromEntries(table.columns.map((column, i) => [column.name, row[i] ?? null])),
  );
}

/**
 * `gymId`'s cells of the research export of `week` with minimum cell `k`. `rollups` are the week's member-gym
 * rollups of every gym the caller may see: the export over those gyms decides the suppression pattern, so a
 * cell here is published exactly when the caller's own export of that week would publish it.
 */
export function researchWeek(
  week: string,
  gymId: string,
  rollups: readonly MemberGymWeekRollup[],
  k: number,
): ResearchWeek {
  const other = rollups.find((rollup) => rollup.week !== week);
  if (other) throw new Error(`a rollup of ${other.week} given for ${week}`);
  const cube = buildCube(rollups);
  const ofGym = (rows: Array<Record<string, CsvValue>>) => rows.filter((row) => row.gym === gymId);
  const [all] = ofGym(publishedRows(cube, ['week', 'gym'], k));
  const directions = ofGym(publishedRows(cube, ['week', 'gym', 'direction'], k));
  const byDirection = Object.fromEntries(
    RESEARCH_DIRECTIONS.map((direction) => {
      const row = directions.find((candidate) => candidate.direction === direction);
      return [direction, row ? cellOf(row) : null];
    }),
  ) as Record<ResearchDirection, ResearchCell | null>;
  return {
    week,
    weekStart: weekStart(week),
    lastDay: weekEnd(week),
    all: all ? cellOf(all) : null,
    byDirection,
  };
}
