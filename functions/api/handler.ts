/**
 * The API Lambda (API Gateway HTTP API, Cognito JWT authorizer): the route table (routes.ts) served by
 * route-handler.ts. The local server (scripts/local/api-server.ts) serves the same routes, with the same event
 * shape, through createApiHandler.
 *
 * Environment (API_ENV): TABLE_PREFIX; the unsubscribe secret shared with the progress email (at least 32
 * bytes), as UNSUBSCRIBE_SECRET_ARN in AWS (read from Secrets Manager on first use) or UNSUBSCRIBE_SECRET
 * locally (the unsubscribe route answers 503 without either); EXPORT_BUCKET and EMAIL_OUTBOX_DIR (local stack)
 * optional.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { dynamoDocumentClient } from '../../shared/src/aws/clients.js';
import { depsFromEnv } from '../lib/environment.js';
import { API_ENV, apiDepsFor } from './api-deps.js';
import { createRouteHandler, routeLambda } from './route-handler.js';
import { type ApiDeps, ROUTES } from './routes.js';

/** The API without Lambda's wiring, for the local server and tests. */
export const createApiHandler = (resolveDeps: () => ApiDeps, logger = new Logger({ serviceName: 'api' })) =>
  createRouteHandler(ROUTES, resolveDeps, logger);

export const handler = routeLambda(
  'api',
  ROUTES,
  depsFromEnv(API_ENV, (env) => apiDepsFor(dynamoDocumentClient(), env.TABLE_PREFIX, Date.now, {}, env)),
);
