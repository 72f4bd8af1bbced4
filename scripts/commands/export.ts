/** `retrostride export`: the research export from the rollups to CSV or Parquet, with manifest.json. */
import { resolve } from 'node:path';
import {
  DEFAULT_MIN_CELL,
  EXPORT_DIMENSIONS,
  EXPORT_FORMATS,
  type ExportDimension,
  LARGEST_MIN_CELL,
  SMALLEST_MIN_CELL,
} from '../../shared/src/export/research-export.js';
import { exportReport } from '../../shared/src/export/manifest.js';
import { tableNames } from '../../shared/src/tables.js';
import { DirectoryExportSink } from '../../functions/lib/export-store.js';
import { ExportQueryError, runResearchExport } from '../../functions/lib/research-export-job.js';
import { RollupsRepo } from '../../functions/lib/rollups-repo.js';
import { SOFTWARE } from '../../functions/lib/software.js';
import {
  type Command,
  numberFlag,
  oneOf,
  parseCommandArgs,
  requireFlag,
  UsageError,
} from '../lib/command.js';
import { progressBar } from '../lib/progress-bar.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectToTables } from '../lib/stack-connection.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export privacy-safe aggregates for researchers (CSV or Parquet, with manifest.json)',
  usage:
    'export --from YYYY-MM-DD --to YYYY-MM-DD --out DIR [--by week,gym,direction,age-band,sex]\n' +
    '               [--format csv|parquet] [--min-cell 11] [--gym ID ...]\n\n' +
    '  --from, --to      the ISO weeks whose Thursday falls in this range (both days included);\n' +
    '                    a day or an ISO week (2026-W10: from its Monday, to its Sunday);\n' +
    '                    weeks that have not ended yet are left out, and listed\n' +
    `  --by              grouping, any of ${EXPORT_DIMENSIONS.join(', ')} (default all)\n` +
    `  --min-cell        k: cells with fewer distinct members are suppressed (default ${DEFAULT_MIN_CELL},\n` +
    `                    ${SMALLEST_MIN_CELL} to ${LARGEST_MIN_CELL})\n` +
    '  --gym             only this gym (repeat for several); default every gym\n' +
    '  --out             directory for research-export.csv|parquet and manifest.json\n' +
    CONNECTION_USAGE,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      from: { type: 'string' },
      to: { type: 'string' },
      by: { type: 'string' },
      format: { type: 'string' },
      'min-cell': { type: 'string' },
      gym: { type: 'string', multiple: true },
      out: { type: 'string' },
      ...CONNECTION_FLAGS,
    });
    const query = {
      from: requireFlag('from', values.from),
      to: requireFlag('to', values.to),
      by: (values.by ?? EXPORT_DIMENSIONS.join(',')).split(',').map((d) => d.trim()) as ExportDimension[],
      minCell: numberFlag('min-cell', values['min-cell']) ?? DEFAULT_MIN_CELL,
    };
    const format = oneOf('format', values.format, EXPORT_FORMATS) ?? 'csv';
    const out = resolve(requireFlag('out', values.out));
    const connection = await connectToTables(values);
    const bar = progressBar('reading weeks');
    try {
      const { manifest, keys } = await runResearchExport({
        rollups: new RollupsRepo(connection.doc, tableNames(connection.tablePrefix).rollups),
        query,
        format,
        sink: new DirectoryExportSink(out),
        ...(values.gym && { gyms: values.gym }),
        software: SOFTWARE,
        now: Date.now,
        onProgress: (done, total) => bar.update(done, total),
      });
      bar.done();
      for (const line of exportReport(manifest)) console.log(line);
      for (const key of keys) console.log(`wrote ${resolve(out, key)}`);
      return 0;
    } catch (error) {
      bar.done();
      if (error instanceof ExportQueryError) throw new UsageError(error.problems.join('; '));
      throw error;
    } finally {
      connection.close();
    }
  },
};
