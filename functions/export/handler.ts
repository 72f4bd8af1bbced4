/**
 * The research export behind the API (POST /api/exports, `researcher` group): the export routes on a Lambda
 * of their own, so that only it may write the export bucket and read every week's rollups. Same event shape,
 * router and access checks as functions/api (route-handler.ts).
 *
 * Environment: TABLE_PREFIX, EXPORT_BUCKET (files go under {exportId}/, fetched through presigned URLs that
 * expire after EXPORT_URL_TTL_S).
 */
import { dynamoDocumentClient } from '../../shared/src/aws/clients.js';
import { tableNames } from '../../shared/src/tables.js';
import { EXPORT_ROUTES } from '../api/export-routes.js';
import { routeLambda } from '../api/route-handler.js';
import { depsFromEnv, envSchema, required, TABLE_ENV } from '../lib/environment.js';
import { S3ExportStore } from '../lib/export-store.js';
import { RollupsRepo } from '../lib/rollups-repo.js';

export const EXPORT_ENV = envSchema({ ...TABLE_ENV, EXPORT_BUCKET: required() });

export const handler = routeLambda(
  'export',
  EXPORT_ROUTES,
  depsFromEnv(EXPORT_ENV, (env) => ({
    rollups: new RollupsRepo(dynamoDocumentClient(), tableNames(env.TABLE_PREFIX).rollups),
    exportStore: new S3ExportStore(env.EXPORT_BUCKET),
    now: Date.now,
  })),
);
