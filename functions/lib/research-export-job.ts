/**
 * Runs a research export: reads the query's weeks that have ended from the rollups (never the members table),
 * builds the suppressed table (shared/src/export), encodes it as CSV or Parquet and writes it with
 * manifest.json.
 */
import { createHash } from 'node:crypto';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { BasicType } from 'hyparquet-writer';
import { toCsv } from '../../shared/src/csv.js';
import { buildManifest, type ExportManifest } from '../../shared/src/export/manifest.js';
import {
  buildCube,
  type ColumnType,
  type ExportFormat,
  type ExportQuery,
  type ExportTable,
  exportPeriod,
  exportQueryProblems,
  exportTable,
} from '../../shared/src/export/research-export.js';
import { mapWithConcurrency } from './concurrency.js';
import type { ExportSink } from './export-store.js';
import type { RollupsRepo } from './rollups-repo.js';

export const EXPORT_DATA_NAME = 'research-export';
export const MANIFEST_NAME = 'manifest.json';
const WEEKS_IN_FLIGHT = 4;

export const CONTENT_TYPES: Record<ExportFormat | 'json', string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  parquet: 'application/vnd.apache.parquet',
  json: 'application/json; charset=utf-8',
};

const PARQUET_TYPES: Record<ColumnType, BasicType> = { string: 'STRING', integer: 'INT32', number: 'DOUBLE' };

export function encodeCsv(table: ExportTable): Uint8Array {
  return Buffer.from(
    toCsv(
      table.columns.map((column) => column.name),
      table.rows,
    ),
    'utf8',
  );
}

export function encodeParquet(table: ExportTable, createdBy: string): Uint8Array {
  const buffer = parquetWriteBuffer({
    columnData: table.columns.map((column, index) => ({
      name: column.name,
      data: table.rows.map((row) => row[index] ?? null),
      type: PARQUET_TYPES[column.type],
      nullable: true,
    })),
    createdBy,
    // Units travel with the file: a reader that loses the manifest still has them.
    kvMetadata: [
      {
        key: 'retrostride.columns',
        value: JSON.stringify(table.columns.map(({ name, unit }) => ({ name, unit }))),
      },
    ],
  });
  return new Uint8Array(buffer);
}

export interface ResearchExportOptions {
  rollups: RollupsRepo;
  query: ExportQuery;
  format: ExportFormat;
  sink: ExportSink;
  /** Key prefix for the files, e.g. `exports/2026-.../`; empty for a directory of its own. */
  prefix?: string;
  /** Only these gyms (an API caller's claims); all gyms when unset. */
  gyms?: readonly string[];
  software: { name: string; version: string };
  /** Decides which weeks have ended (only those are exported) and stamps the manifest. */
  now: () => number;
  /** Called after each week is read. */
  onProgress?: (weeksRead: number, weeks: number) => void;
}

export interface ResearchExportResult {
  manifest: ExportManifest;
  /** Keys written: the data file, then the manifest. */
  keys: string[];
}

export class ExportQueryError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ExportQueryError';
  }
}

export async function runResearchExport(options: ResearchExportOptions): Promise<ResearchExportResult> {
  const { query, format, sink } = options;
  // One instant for the whole export: the weeks left out and generatedAt must agree.
  const now = options.now();
  const problems = exportQueryProblems(query, now);
  if (problems.length > 0) throw new ExportQueryError(problems);
  const { weeks, notEnded } = exportPeriod(query.from, query.to, now);
  const allowed = options.gyms && new Set(options.gyms);
  let read = 0;
  options.onProgress?.(0, weeks.length);
  const perWeek = await mapWithConcurrency(weeks, WEEKS_IN_FLIGHT, async (week) => {
    const rollups = await options.rollups.listMemberGymWeeks(week);
    options.onProgress?.(++read, weeks.length);
    return allowed ? rollups.filter((rollup) => allowed.has(rollup.gymId)) : rollups;
  });
  const table = exportTable(buildCube(perWeek.flat()), query.by, query.minCell);

  const software = `${options.software.name} ${options.software.version}`;
  const data = format === 'csv' ? encodeCsv(table) : encodeParquet(table, software);
  const dataName = `${EXPORT_DATA_NAME}.${format}`;
  const prefix = options.prefix ?? '';
  const manifest = buildManifest({
    query,
    format,
    weeks,
    notEnded,
    table,
    files: [
      {
        name: dataName,
        format,
        bytes: data.byteLength,
        sha256: createHash('sha256').update(data).digest('hex'),
      },
    ],
    software: options.software,
    generatedAt: new Date(now).toISOString(),
  });
  const keys = [`${prefix}${dataName}`, `${prefix}${MANIFEST_NAME}`];
  await sink.put(keys[0]!, data, CONTENT_TYPES[format]);
  await sink.put(keys[1]!, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'), CONTENT_TYPES.json);
  return { manifest, keys };
}
