/**
 * The research export (pure): members' weeks at gyms (the rollups' export records) in, a privacy-safe table of
 * aggregates out, with its data dictionary and what the manifest says about suppression.
 *
 * - The unit is the member: a cell counts distinct members, and its medians and IQRs are taken over the
 *   members' own totals in the cell (their minutes, calories, mean balance score).
 * - Cells are suppressed on one pattern for the whole cube (week x gym x direction x age band x sex and all
 *   their totals, suppression.ts), so exports grouped differently over the same weeks agree.
 * - Dates no finer than an ISO week (and the day it starts); 10-year age bands; no ids of members or sessions.
 */
import {
  DAY_MS,
  dayKey,
  isIsoWeek,
  WEEK_MS,
  weekEnd,
  weekStart,
  weekStartTs,
  weeksByThursday,
} from '../iso-week.js';
import type { MemberGymWeekRollup, ScoreTally } from '../metrics/rollups.js';
import type { CsvValue } from '../csv.js';
import { interquartileRange, median } from './quantiles.js';
import { type CubeKey, cubeCellId, keyLevels, type Suppression, suppressCube } from './suppression.js';

export const EXPORT_DIMENSIONS = ['week', 'gym', 'direction', 'age-band', 'sex'] as const;
export type ExportDimension = (typeof EXPORT_DIMENSIONS)[number];
export const EXPORT_FORMATS = ['csv', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const DEFAULT_MIN_CELL = 11;
/** Lower than this and suppression protects little; the manifest records the k used. */
export const SMALLEST_MIN_CELL = 5;
/** An input bound, not a privacy one: above this every cell of any gym's data would be left out. */
export const LARGEST_MIN_CELL = 1000;
export const MAX_EXPORT_WEEKS = 265;

export interface ExportQuery {
  /**
   * yyyy-mm-dd, both included: the export covers the ISO weeks whose Thursday falls in the range. An ISO week
   * (yyyy-Www) stands for its Monday as `from`, its Sunday as `to`.
   */
  from: string;
  to: string;
  by: readonly ExportDimension[];
  minCell: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A range end as UTC midnight of its day: a week starts the range on its Monday and ends it on its Sunday. */
function parseDay(day: string, name: 'from' | 'to'): number {
  if (isIsoWeek(day)) return weekStartTs(day) + (name === 'to' ? 6 * DAY_MS : 0);
  const ts = Date.parse(`${day}T00:00:00Z`);
  if (!DATE.test(day) || Number.isNaN(ts) || dayKey(ts) !== day)
    throw new RangeError(`${name} must be a day yyyy-mm-dd or an ISO week yyyy-Www, got "${day}"`);
  return ts;
}

/**
 * Reasons the query cannot run at `now` (epoch ms), in words for the caller; empty when it can. A range in which
 * weeks exist but none has ended yet is refused: an empty file would read as "no data".
 */
export function exportQueryProblems(query: ExportQuery, now: number): string[] {
  const problems: string[] = [];
  let from: number | undefined;
  let to: number | undefined;
  try {
    from = parseDay(query.from, 'from');
  } catch (error) {
    problems.push((error as Error).message);
  }
  try {
    to = parseDay(query.to, 'to');
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (from !== undefined && to !== undefined) {
    if (from > to) problems.push('from must not be after to');
    else if ((to - from) / WEEK_MS > MAX_EXPORT_WEEKS)
      problems.push(`the range may span at most ${MAX_EXPORT_WEEKS} weeks`);
    else {
      const period = exportPeriod(query.from, query.to, now);
      const notEnded = describeNotEnded(period.notEnded);
      if (period.weeks.length === 0 && notEnded !== null)
        problems.push(`no week from ${query.from} to ${query.to} has ended yet: ${notEnded}`);
    }
  }
  const unknown = query.by.filter((d) => !(EXPORT_DIMENSIONS as readonly string[]).includes(d));
  if (unknown.length > 0)
    problems.push(`by: unknown ${unknown.join(', ')} (choose from ${EXPORT_DIMENSIONS.join(', ')})`);
  if (new Set(query.by).size !== query.by.length) problems.push('by: a dimension is named twice');
  const k = query.minCell;
  if (!Number.isInteger(k) || k < SMALLEST_MIN_CELL || k > LARGEST_MIN_CELL)
    problems.push(`min-cell must be a whole number from ${SMALLEST_MIN_CELL} to ${LARGEST_MIN_CELL}`);
  return problems;
}

/** The ISO weeks whose Thursday falls from `from` to `to` (as ISO 8601 assigns weeks to years), in order. */
export function exportWeeks(from: string, to: string): string[] {
  return weeksByThursday(parseDay(from, 'from'), parseDay(to, 'to'));
}

/** A week of the range left out of the export because it had not ended (its Sunday still to come). */
export interface WeekNotEnded {
  week: string;
  /** Its Sunday (yyyy-mm-dd): the week is exportable from the Monday after, 00:00 UTC. */
  lastDay: string;
  state: 'running' | 'not started';
}

export interface ExportPeriod {
  /** The weeks exported: those of the range that had ended at `now`. */
  weeks: string[];
  /** The weeks of the range that had not, in order (at most one running, then those not started). */
  notEnded: WeekNotEnded[];
}

/**
 * The range's weeks split at `now` (epoch ms): a week still running or yet to come would publish partial
 * numbers that change as it fills, and a partial week's small cells differ from its final ones.
 */
export function exportPeriod(from: string, to: string, now: number): ExportPeriod {
  const period: ExportPeriod = { weeks: [], notEnded: [] };
  for (const week of exportWeeks(from, to)) {
    const monday = weekStartTs(week);
    if (now >= monday + WEEK_MS) period.weeks.push(week);
    else
      period.notEnded.push({
        week,
        lastDay: weekEnd(week),
        state: now >= monday ? 'running' : 'not started',
      });
  }
  return period;
}

/** The weeks not yet ended in words (`2026-W49 is still running; ...`); null when there are none. */
export function describeNotEnded(notEnded: readonly WeekNotEnded[]): string | null {
  const running = notEnded.find((w) => w.state === 'running');
  const future = notEnded.filter((w) => w.state === 'not started');
  const parts: string[] = [];
  if (running)
    parts.push(`${running.week} is still running; it will be exportable after Sunday ${running.lastDay}`);
  const [first] = future;
  const last = future.at(-1);
  if (first && last) {
    parts.push(
      future.length === 1
        ? `${first.week} has not started yet`
        : `${first.week} to ${last.week} have not started yet`,
    );
    // With a running week, its date is the one that matters next.
    if (!running)
      parts.push(
        `${future.length === 1 ? 'it' : 'the first'} will be exportable after Sunday ${first.lastDay}`,
      );
  }
  return parts.length === 0 ? null : parts.join('; ');
}

// ---------------------------------------------------------------------------------------------------------
// Columns

export type ColumnType = 'string' | 'integer' | 'number';

export interface ColumnDefinition {
  name: string;
  type: ColumnType;
  unit: string | null;
  description: string;
}

const KEY_COLUMNS: Record<ExportDimension, ColumnDefinition[]> = {
  week: [
    { name: 'week', type: 'string', unit: null, description: 'ISO 8601 week, UTC (yyyy-Www)' },
    { name: 'week_start', type: 'string', unit: 'date', description: 'Monday of the week (yyyy-mm-dd)' },
  ],
  gym: [{ name: 'gym', type: 'string', unit: null, description: 'Gym identifier' }],
  direction: [
    {
      name: 'direction',
      type: 'string',
      unit: null,
      description:
        'Walking direction: forward, backward, or unknown (no source told it); a session walked both ways counts in both',
    },
  ],
  'age-band': [
    {
      name: 'age_band',
      type: 'string',
      unit: 'years',
      description:
        'Age in the calendar year of the sessions, in 10-year bands (e.g. 30-39); unknown if not given',
    },
  ],
  sex: [{ name: 'sex', type: 'string', unit: null, description: 'female, male, or unknown (not given)' }],
};

export const METRIC_COLUMNS: readonly ColumnDefinition[] = [
  {
    name: 'members',
    type: 'integer',
    unit: 'members',
    description: 'Distinct members in the cell (at least k)',
  },
  {
    name: 'sessions',
    type: 'integer',
    unit: 'sessions',
    description: 'Sessions; by direction, the sessions with moving time in that direction',
  },
  { name: 'minutes_total', type: 'number', unit: 'min', description: 'Moving minutes, summed over members' },
  {
    name: 'minutes_median',
    type: 'number',
    unit: 'min',
    description: "Median of the members' moving minutes in the cell",
  },
  { name: 'distance_km', type: 'number', unit: 'km', description: 'Belt distance, summed over members' },
  {
    name: 'kcal_median',
    type: 'number',
    unit: 'kcal',
    description:
      "Median of the members' calories in the cell; by direction, each session's calories shared out by its moving time in each direction",
  },
  {
    name: 'kcal_iqr',
    type: 'number',
    unit: 'kcal',
    description: "Interquartile range (0.75 minus 0.25 quantile) of the members' calories in the cell",
  },
  {
    name: 'balance_median',
    type: 'number',
    unit: 'score 0-100',
    description:
      "Median of the members' mean balance score; empty when fewer than k members in the cell have a score",
  },
  {
    name: 'balance_iqr',
    type: 'number',
    unit: 'score 0-100',
    description: "Interquartile range of the members' mean balance score; empty as balance_median",
  },
  {
    name: 'balance_members',
    type: 'integer',
    unit: 'members',
    description: 'Members with at least one scored session in the cell',
  },
  {
    name: 'balance_scored_sessions',
    type: 'integer',
    unit: 'sessions',
    description: 'Sessions with a balance score (enough gait data; docs/domain.md 3.4)',
  },
  {
    name: 'backward_share',
    type: 'number',
    unit: 'fraction 0-1',
    description: 'Backward minutes over minutes of known direction; empty when no direction is known',
  },
];

export function exportColumns(by: readonly ExportDimension[]): ColumnDefinition[] {
  return [...by.flatMap((dimension) => KEY_COLUMNS[dimension]), ...METRIC_COLUMNS];
}

// ---------------------------------------------------------------------------------------------------------
// The cube

const DIRECTIONS = ['forward', 'backward', 'unknown'] as const;
const UNKNOWN = 'unknown';

/** What one member contributes to one cell. */
interface MemberTotals {
  sessions: number;
  minutes: number;
  distanceM: number;
  kcal: number;
  balance: ScoreTally;
  backwardMin: number;
  knownMin: number;
}

interface CellData {
  key: CubeKey;
  members: Map<string, MemberTotals>;
}

const addTotals = (a: MemberTotals, b: MemberTotals): MemberTotals => ({
  sessions: a.sessions + b.sessions,
  minutes: a.minutes + b.minutes,
  distanceM: a.distanceM + b.distanceM,
  kcal: a.kcal + b.kcal,
  balance: { scored: a.balance.scored + b.balance.scored, sum: a.balance.sum + b.balance.sum },
  backwardMin: a.backwardMin + b.backwardMin,
  knownMin: a.knownMin + b.knownMin,
});

/** The records of one rollup: its whole-session totals (direction null) and each direction walked. */
function recordsOf(rollup: MemberGymWeekRollup): Array<{ key: CubeKey; totals: MemberTotals }> {
  const values = (direction: string | null): CubeKey => [
    rollup.week,
    rollup.gymId,
    direction,
    rollup.ageBand ?? UNKNOWN,
    rollup.sex ?? UNKNOWN,
  ];
  const { forward, backward } = rollup.directions;
  const records = [
    {
      key: values(null),
      totals: {
        sessions: rollup.sessions,
        minutes: rollup.movingMin,
        distanceM: rollup.distanceM,
        kcal: rollup.kcal,
        balance: rollup.balance,
        backwardMin: backward.minutes,
        knownMin: forward.minutes + backward.minutes,
      },
    },
  ];
  for (const direction of DIRECTIONS) {
    const part = rollup.directions[direction];
    if (part.sessions === 0) continue;
    records.push({
      key: values(direction),
      totals: {
        sessions: part.sessions,
        minutes: part.minutes,
        distanceM: part.distanceM,
        kcal: part.kcal,
        balance: part.balance,
        backwardMin: direction === 'backward' ? part.minutes : 0,
        knownMin: direction === UNKNOWN ? 0 : part.minutes,
      },
    });
  }
  return records;
}

const DIRECTION_DIMENSION = EXPORT_DIMENSIONS.indexOf('direction');
/** Every dimension but direction: a direction's total is the whole-session record, not a sum of directions. */
const SUMMED_DIMENSIONS = EXPORT_DIMENSIONS.map((_, d) => d).filter((d) => d !== DIRECTION_DIMENSION);

/** Every cell of the cube at every level, with each member's totals in it. */
export function buildCube(rollups: Iterable<MemberGymWeekRollup>): Map<string, CellData> {
  const cells = new Map<string, CellData>();
  for (const rollup of rollups) {
    for (const record of recordsOf(rollup)) {
      for (const key of keyLevels(record.key, SUMMED_DIMENSIONS)) {
        const id = cubeCellId(key);
        let cell = cells.get(id);
        if (!cell) {
          cell = { key, members: new Map() };
          cells.set(id, cell);
        }
        const before = cell.members.get(rollup.memberKey);
        cell.members.set(rollup.memberKey, before ? addTotals(before, record.totals) : record.totals);
      }
    }
  }
  return cells;
}

// ---------------------------------------------------------------------------------------------------------
// The table

export interface ExportTable {
  columns: ColumnDefinition[];
  rows: CsvValue[][];
  suppressed: { primary: number; complementary: number };
  /**
   * When cells exist but every one is suppressed: what would publish some at the same weeks (the dimensions
   * of `by` whose removal alone would, and whether the smallest k would); null otherwise.
   */
  remedies: { withoutDimension: ExportDimension[]; smallestK: boolean } | null;
}

const round = (x: number, decimals: number): number => {
  const factor = 10 ** decimals;
  return Math.round(x * factor) / factor;
};
const roundOrNull = (x: number | null, decimals: number): number | null =>
  x === null ? null : round(x, decimals);

const DIRECTION_ORDER: Record<string, number> = { forward: 0, backward: 1, unknown: 2 };
const SEX_ORDER: Record<string, number> = { female: 0, male: 1, unknown: 2 };
const ageOrder = (band: string) => (band === UNKNOWN ? Number.POSITIVE_INFINITY : Number.parseInt(band, 10));

function compareValues(dimension: ExportDimension, a: string, b: string): number {
  switch (dimension) {
    case 'direction':
      return DIRECTION_ORDER[a]! - DIRECTION_ORDER[b]!;
    case 'sex':
      return SEX_ORDER[a]! - SEX_ORDER[b]!;
    case 'age-band':
      return ageOrder(a) - ageOrder(b);
    default:
      return a < b ? -1 : a > b ? 1 : 0;
  }
}

function metricsOf(members: Map<string, MemberTotals>, k: number): CsvValue[] {
  const all = [...members.values()];
  const sum = (pick: (m: MemberTotals) => number) => all.reduce((total, m) => total + pick(m), 0);
  const scored = all.filter((m) => m.balance.scored > 0).map((m) => m.balance.sum / m.balance.scored);
  const kcal = all.map((m) => m.kcal);
  const knownMin = sum((m) => m.knownMin);
  const publishBalance = scored.length >= k;
  return [
    all.length,
    sum((m) => m.sessions),
    round(
      sum((m) => m.minutes),
      1,
    ),
    roundOrNull(median(all.map((m) => m.minutes)), 1),
    round(sum((m) => m.distanceM) / 1000, 2),
    roundOrNull(median(kcal), 1),
    roundOrNull(interquartileRange(kcal), 1),
    publishBalance ? roundOrNull(median(scored), 1) : null,
    publishBalance ? roundOrNull(interquartileRange(scored), 1) : null,
    scored.length,
    sum((m) => m.balance.scored),
    knownMin > 0 ? round(sum((m) => m.backwardMin) / knownMin, 3) : null,
  ];
}

/**
 * The published rows grouped by `by` (in that order, sorted by it), from a cube of the query's weeks; and how
 * many cells of that grouping were suppressed.
 */
export function exportTable(
  cube: Map<string, CellData>,
  by: readonly ExportDimension[],
  k: number,
): ExportTable {
  const cells = [...cube.values()].map((cell) => ({ key: cell.key, members: cell.members.size }));
  const suppression = suppressCube(cells, k);
  const positionsOf = (dimensions: readonly ExportDimension[]) =>
    dimensions.map((dimension) => EXPORT_DIMENSIONS.indexOf(dimension));
  const positions = positionsOf(by);
  const atLevelOf = (levelPositions: readonly number[]) =>
    [...cube.entries()].filter(([, cell]) =>
      cell.key.every((value, d) => (value !== null) === levelPositions.includes(d)),
    );
  const atLevel = atLevelOf(positions);
  const counts: Record<Suppression, number> = { primary: 0, complementary: 0 };
  const published: CellData[] = [];
  for (const [id, cell] of atLevel) {
    const status = suppression.get(id);
    if (status) counts[status]++;
    else published.push(cell);
  }
  published.sort((a, b) => {
    for (const [i, dimension] of by.entries()) {
      const d = positions[i]!;
      const order = compareValues(dimension, a.key[d]!, b.key[d]!);
      if (order !== 0) return order;
    }
    return 0;
  });
  const rows = published.map((cell) => [
    ...by.flatMap((dimension, i) => {
      const value = cell.key[positions[i]!]!;
      return dimension === 'week' ? [value, weekStart(value)] : [value];
    }),
    ...metricsOf(cell.members, k),
  ]);

  // Advice from the data, not a rule of thumb: one pattern covers every grouping, so checking a coarser one is
  // a lookup; nothing is revealed that an export the caller may run anyway would not show.
  let remedies: ExportTable['remedies'] = null;
  if (atLevel.length > 0 && published.length === 0) {
    const publishes = (dimensions: readonly ExportDimension[], pattern: Map<string, Suppression>) =>
      atLevelOf(positionsOf(dimensions)).some(([id]) => !pattern.has(id));
    remedies = {
      withoutDimension: by.filter((dropped) =>
        publishes(
          by.filter((d) => d !== dropped),
          suppression,
        ),
      ),
      smallestK: k > SMALLEST_MIN_CELL && publishes(by, suppressCube(cells, SMALLEST_MIN_CELL)),
    };
  }
  return { columns: exportColumns(by), rows, suppressed: counts, remedies };
}
