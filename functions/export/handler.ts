/**
 * The research export behind the API (POST /api/exports, `researcher` group): the export routes on a Lambda
 * of their own, so that only it may write the export bucket and read every week's rollups. Same event shape,
 * router and access checks as functions/api.
 *
 * Environment: TABLE_PREFIX, EXPORT_BUCKET (files go under {exportId}/, fetched through presigned URLs that
 * expire after EXPORT_URL_TTL_S).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { tableNames } from '../../shared/src/tables.js';
import { createRouteHandler } from '../api/handler.js';
import { EXPORT_ROUTES, type ExportApiDeps } from '../api/export-routes.js';
import { dynamoDocumentClient } from '../lib/aws-clients.js';
import { exportStoreFromEnv } from '../lib/export-store.js';
import { RollupsRepo } from '../lib/rollups-repo.js';

let deps: ExportApiDeps | undefined;

export const handler = createRouteHandler(
  EXPORT_ROUTES,
  () => {
    if (!deps) {
      const tablePrefix = process.env.TABLE_PREFIX;
      if (!tablePrefix) throw new Error('TABLE_PREFIX is not set');
      const exportStore = exportStoreFromEnv(process.env, () => new S3Client({}));
      if (!exportStore) throw new Error('EXPORT_BUCKET is not set');
      deps = {
        rollups: new RollupsRepo(dynamoDocumentClient(), tableNames(tablePrefix).rollups),
        exportStore,
        now: Date.now,
      };
    }
    return deps;
  },
  new Logger({ serviceName: 'export' }),
);
