/** manifest.json, written beside every research export: what was asked, what came out, how to read it. */
import {
  type ColumnDefinition,
  type ExportFormat,
  type ExportQuery,
  type ExportTable,
  weekStart,
} from './research-export.js';

export interface ExportFile {
  name: string;
  format: ExportFormat;
  bytes: number;
  sha256: string;
}

export interface ExportManifest {
  dataset: 'retrostride-research-export';
  query: ExportQuery & { format: ExportFormat };
  period: {
    rule: string;
    weeks: string[];
    firstDay: string | null;
    lastDay: string | null;
  };
  privacy: {
    k: number;
    unit: 'distinct members';
    suppressedCells: { primary: number; complementary: number };
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

const DAY_MS = 86_400_000;

export function buildManifest(input: {
  query: ExportQuery;
  format: ExportFormat;
  weeks: readonly string[];
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
      rule: 'the ISO 8601 weeks (Monday to Sunday, UTC) whose Thursday falls from `from` to `to`',
      weeks: [...weeks],
      firstDay: first === undefined ? null : weekStart(first),
      lastDay:
        last === undefined
          ? null
          : new Date(Date.parse(`${weekStart(last)}T00:00:00Z`) + 6 * DAY_MS).toISOString().slice(0, 10),
    },
    privacy: {
      k: query.minCell,
      unit: 'distinct members',
      suppressedCells: table.suppressed,
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
