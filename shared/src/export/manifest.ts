/** manifest.json, written beside every research export: what was asked, what came out, how to read it. */
import { weekEnd, weekStart } from '../iso-week.js';
import {
  type ColumnDefinition,
  describeNotEnded,
  type ExportFormat,
  type ExportQuery,
  type ExportTable,
  SMALLEST_MIN_CELL,
  type WeekNotEnded,
} from './research-export.js';

export interface ExportFile {
  name: string;
  format: ExportFormat;
  bytes: number;
  sha256: string;
}

/** The cells left out of an export and why, in counts and in words. */
export interface SuppressedCells {
  /** Cells of the export's grouping that hold data: the published rows plus the suppressed cells. */
  cells: number;
  /** Suppressed cells: primary plus complementary. */
  total: number;
  /** Fewer than k distinct members. */
  primary: number;
  /** Left out to protect another suppressed cell. */
  complementary: number;
  reasons: { primary: string; complementary: string };
  /** One sentence: how many of how many, and why. */
  summary: string;
  /** What to change when nothing is published; null otherwise. */
  advice: string | null;
}

export interface ExportManifest {
  dataset: 'retrostride-research-export';
  query: ExportQuery & { format: ExportFormat };
  period: {
    rule: string;
    weeks: string[];
    firstDay: string | null;
    lastDay: string | null;
    /** Weeks of the range left out because they had not ended when the export was made. */
    notEnded: WeekNotEnded[];
    /** The same in words; null when every week of the range had ended. */
    notEndedNote: string | null;
  };
  privacy: {
    k: number;
    unit: 'distinct members';
    suppressedCells: SuppressedCells;
    method: string;
    ageBands: '10-year';
    finestDate: 'ISO week (the day it starts)';
    identifiers: 'none: no member, session or treadmill ids';
  };
  rows: number;
  files: ExportFile[];
  columns: ColumnDefinition[];
  software: { name: string; version: string };
  generatedAt: string;
  documentation: string;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** `a`, `a or b`, `a, b, or c`. */
function orList(items: readonly string[]): string {
  if (items.length <= 2) return items.join(' or ');
  return `${items.slice(0, -1).join(', ')}, or ${items.at(-1)!}`;
}

/** How many cells of the export's grouping were suppressed, for which reason, and what to do if all were. */
export function suppressionSummary(table: ExportTable, query: ExportQuery): SuppressedCells {
  const { primary, complementary } = table.suppressed;
  const total = primary + complementary;
  const cells = table.rows.length + total;
  const k = query.minCell;
  const why =
    `${primary} below k (fewer than ${k} distinct members), ` +
    `${complementary} by complementary suppression (to protect another cell)`;
  let summary: string;
  if (cells === 0) summary = 'No cell to publish or suppress: no data in these weeks';
  else if (total === 0)
    summary = `No cell suppressed: ${cells === 1 ? 'the 1 cell has' : `all ${cells} cells have`} at least ${k} distinct members`;
  else if (total === cells) summary = `All ${plural(cells, 'cell')} suppressed: ${why}; nothing is published`;
  else summary = `${total} of ${plural(cells, 'cell')} suppressed: ${why}`;

  let advice: string | null = null;
  const remedies = table.remedies;
  if (remedies) {
    const drop = remedies.withoutDimension;
    const changes = [
      ...(drop.length > 0 ? [`drop ${orList(drop)} from the grouping`] : []),
      ...(remedies.smallestK ? [`lower k (min-cell, not below ${SMALLEST_MIN_CELL})`] : []),
      // Not checked: the weeks outside the range are not read.
      'cover a longer period',
    ];
    const notEnough = [
      ...(query.by.length > 0 && drop.length === 0 ? ['dropping one dimension from the grouping'] : []),
      ...(k > SMALLEST_MIN_CELL && !remedies.smallestK ? [`k = ${SMALLEST_MIN_CELL}`] : []),
    ];
    advice =
      `To publish something: ${orList(changes)}` +
      (notEnough.length > 0 ? `; ${notEnough.join(' or ')} would still publish nothing for these weeks` : '');
  }
  return {
    cells,
    total,
    primary,
    complementary,
    reasons: {
      primary: `fewer than k = ${k} distinct members`,
      complementary:
        'complementary suppression: left out to protect another suppressed cell, so that no total minus the ' +
        'published cells gives it back',
    },
    summary,
    advice,
  };
}

export function buildManifest(input: {
  query: ExportQuery;
  format: ExportFormat;
  /** The weeks exported (ended), and those of the range left out because they had not. */
  weeks: readonly string[];
  notEnded: readonly WeekNotEnded[];
  table: ExportTable;
  files: ExportFile[];
  software: { name: string; version: string };
  /** ISO 8601 timestamp, from the caller's clock. */
  generatedAt: string;
}): ExportManifest {
  const { query, weeks, table } = input;
  const first = weeks[0];
  const last = weeks.at(-1);
  return {
    dataset: 'retrostride-research-export',
    query: {
      from: query.from,
      to: query.to,
      by: [...query.by],
      minCell: query.minCell,
      format: input.format,
    },
    period: {
      rule:
        'the ISO 8601 weeks (Monday to Sunday, UTC) whose Thursday falls from `from` to `to` and that had ended ' +
        'when the export was made (generatedAt)',
      weeks: [...weeks],
      firstDay: first === undefined ? null : weekStart(first),
      lastDay: last === undefined ? null : weekEnd(last),
      notEnded: input.notEnded.map((week) => ({ ...week })),
      notEndedNote: describeNotEnded(input.notEnded),
    },
    privacy: {
      k: query.minCell,
      unit: 'distinct members',
      suppressedCells: suppressionSummary(table, query),
      method:
        'Cells with fewer than k distinct members are left out (primary); so that no total minus the published ' +
        'cells under it gives a left-out cell back, further cells are left out (complementary), on one pattern ' +
        'for every grouping of the same weeks. Left-out cells are not listed.',
      ageBands: '10-year',
      finestDate: 'ISO week (the day it starts)',
      identifiers: 'none: no member, session or treadmill ids',
    },
    rows: table.rows.length,
    files: input.files,
    columns: table.columns,
    software: input.software,
    generatedAt: input.generatedAt,
    documentation: 'docs/research-export.md in the Retrostride repository',
  };
}

/** What an export says about itself after it is made, one line each: the CLI prints them, the API returns them. */
export function exportReport(manifest: ExportManifest): string[] {
  const { period } = manifest;
  const suppressed = manifest.privacy.suppressedCells;
  return [
    `${plural(manifest.rows, 'row')} over ${plural(period.weeks.length, 'week')} ` +
      `(${period.firstDay ?? '-'} to ${period.lastDay ?? '-'})`,
    ...(period.notEndedNote === null ? [] : [`Not exported, not ended yet: ${period.notEndedNote}`]),
    suppressed.summary,
    ...(suppressed.advice === null ? [] : [suppressed.advice]),
  ];
}
