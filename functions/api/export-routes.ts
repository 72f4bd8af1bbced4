/**
 * The research export for the `researcher` group: runs the export over the caller's gyms, stores the data file
 * and manifest.json (S3 in AWS, a local directory otherwise) and answers with short-lived download URLs.
 * Served by the API locally and, in AWS, by functions/export (same routes, its own bucket permissions).
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import {
  DEFAULT_MIN_CELL,
  EXPORT_DIMENSIONS,
  EXPORT_FORMATS,
  type ExportDimension,
  LARGEST_MIN_CELL,
  SMALLEST_MIN_CELL,
} from '../../shared/src/export/research-export.js';
import type { ExportStore } from '../lib/export-store.js';
import { exportReport } from '../../shared/src/export/manifest.js';
import { ExportQueryError, runResearchExport } from '../lib/research-export-job.js';
import type { RollupsRepo } from '../lib/rollups-repo.js';
import { SOFTWARE } from '../lib/software.js';
import { ApiError, defineRoute, type Route } from './router.js';
import { apiSchemas, noParams, noQuery } from './schema-registry.js';

export interface ExportApiDeps {
  rollups: RollupsRepo;
  /** Null where no export bucket (EXPORT_BUCKET) or directory is configured: the route answers 503. */
  exportStore: ExportStore | null;
  now: () => number;
}

/** How long a download URL works. */
export const EXPORT_URL_TTL_S = 900;

export const exportQuery = z.object({
  from: z
    .string()
    .max(10)
    .describe(
      'first day, yyyy-mm-dd, or an ISO week yyyy-Www from its Monday (the export covers the ISO weeks whose Thursday is in range)',
    ),
  to: z.string().max(10).describe('last day, yyyy-mm-dd, or an ISO week yyyy-Www to its Sunday'),
  by: z
    .string()
    .max(EXPORT_DIMENSIONS.join(',').length)
    .default(EXPORT_DIMENSIONS.join(','))
    .describe(`comma-separated grouping, from ${EXPORT_DIMENSIONS.join(', ')}`)
    .transform((text) => text.split(',').filter((part) => part.length > 0) as ExportDimension[]),
  format: z.enum(EXPORT_FORMATS).default('csv'),
  minCell: z.coerce
    .number()
    .int()
    .default(DEFAULT_MIN_CELL)
    .describe(
      `k: cells with fewer distinct members are suppressed (${SMALLEST_MIN_CELL} to ${LARGEST_MIN_CELL})`,
    ),
});

/** What an export may ask for, so that a form offers exactly that (the checks stay in exportQueryProblems). */
export const exportRulesResponse = z.object({
  dimensions: z.array(z.enum(EXPORT_DIMENSIONS)).describe('the grouping to choose from, in their order'),
  formats: z.array(z.enum(EXPORT_FORMATS)),
  minCell: z.object({
    default: z.number().int(),
    smallest: z.number().int().describe('the deployment’s minimum k'),
    largest: z.number().int(),
  }),
});
apiSchemas.add(exportRulesResponse, { id: 'ResearchExportRules' });

export const exportResponse = z.object({
  id: z.string(),
  rows: z.number().int(),
  weeks: z.array(z.string()).describe('the weeks exported: those of the range that had ended'),
  weeksNotEnded: z
    .array(
      z.object({
        week: z.string(),
        lastDay: z.string().describe('its Sunday; exportable from the Monday after'),
        state: z.enum(['running', 'not started']),
      }),
    )
    .describe('weeks of the range left out because they had not ended'),
  suppressedCells: z.object({
    cells: z.number().int().describe('cells of the grouping with data: rows plus suppressed cells'),
    total: z.number().int(),
    primary: z.number().int().describe('fewer than k distinct members'),
    complementary: z.number().int().describe('left out to protect another suppressed cell'),
    reasons: z.object({ primary: z.string(), complementary: z.string() }),
    summary: z.string(),
    advice: z.string().nullable().describe('what to change when every cell is suppressed'),
  }),
  summary: z
    .array(z.string())
    .describe('what the export says about itself, one line each (as the CLI prints)'),
  expiresAt: z.number().int().describe('epoch milliseconds when the URLs stop working'),
  files: z.array(z.object({ name: z.string(), url: z.string() })),
});
apiSchemas.add(exportResponse, { id: 'ResearchExport' });

const exportId = (now: number): string =>
  `${new Date(now).toISOString().replace(/[-:]/g, '').slice(0, 15)}Z-${randomBytes(4).toString('hex')}`;

export const EXPORT_ROUTES: readonly Route<ExportApiDeps>[] = [
  defineRoute({
    method: 'GET',
    path: '/exports/rules',
    summary: 'What a research export may ask for: grouping dimensions, formats and the bounds of k',
    tag: 'research',
    access: ['researcher'],
    params: noParams,
    query: noQuery,
    response: exportRulesResponse,
    handle: async () => ({
      dimensions: [...EXPORT_DIMENSIONS],
      formats: [...EXPORT_FORMATS],
      minCell: { default: DEFAULT_MIN_CELL, smallest: SMALLEST_MIN_CELL, largest: LARGEST_MIN_CELL },
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/exports',
    summary:
      'Export aggregates of the caller’s gyms as CSV or Parquet with a manifest (small cells suppressed)',
    tag: 'research',
    access: ['researcher'],
    params: noParams,
    query: exportQuery,
    response: exportResponse,
    handle: async ({ query, caller, deps }) => {
      if (!deps.exportStore) throw new ApiError(503, 'not_configured', 'exports are not configured here');
      const id = exportId(deps.now());
      try {
        const { manifest, keys } = await runResearchExport({
          rollups: deps.rollups,
          query: { from: query.from, to: query.to, by: query.by, minCell: query.minCell },
          format: query.format,
          sink: deps.exportStore,
          prefix: `${id}/`,
          gyms: caller.gyms,
          software: SOFTWARE,
          now: deps.now,
        });
        const store = deps.exportStore;
        return {
          id,
          rows: manifest.rows,
          weeks: manifest.period.weeks,
          weeksNotEnded: manifest.period.notEnded,
          suppressedCells: manifest.privacy.suppressedCells,
          summary: exportReport(manifest),
          expiresAt: deps.now() + EXPORT_URL_TTL_S * 1000,
          files: await Promise.all(
            keys.map(async (key) => ({
              name: key.slice(id.length + 1),
              url: await store.url(key, EXPORT_URL_TTL_S),
            })),
          ),
        };
      } catch (error) {
        if (error instanceof ExportQueryError)
          throw new ApiError(400, 'bad_request', 'invalid export query', error.problems);
        throw error;
      }
    },
  }),
];
