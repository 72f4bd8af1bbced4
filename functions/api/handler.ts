/**
 * The API Lambda (API Gateway HTTP API, payload format 2.0, Cognito JWT authorizer), thin: find the route,
 * read the caller from the authorizer's claims, let the route parse and answer (routes.ts), send JSON.
 * The local server (scripts/local/api-server.ts) calls this same handler with the same event shape.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { tableNames } from '../../shared/src/tables.js';
import { AlertsRepo } from '../lib/alerts-repo.js';
import { dynamoDocumentClient } from '../lib/aws-clients.js';
import { FileOutbox } from '../lib/email-outbox.js';
import { exportStoreFromEnv } from '../lib/export-store.js';
import { FleetRepo } from '../lib/fleet-repo.js';
import { MembersRepo } from '../lib/members-repo.js';
import { RollupsRepo } from '../lib/rollups-repo.js';
import { SessionsRepo } from '../lib/sessions-repo.js';
import { unsubscribeTokensFromEnv } from '../lib/unsubscribe-tokens.js';
import { type Claims, callerOf } from './identity.js';
import { API_BASE_PATH } from './openapi.js';
import { ApiError, findRoute, type Route } from './router.js';
import { type ApiDeps, ROUTES } from './routes.js';
import type { ErrorBody } from './schemas.js';

/** The v2 event as the JWT authorizer delivers it; `authorizer` is absent on routes without one. */
export type ApiEvent = APIGatewayProxyEventV2 & {
  requestContext: { authorizer?: { jwt?: { claims?: Claims; scopes?: string[] | null } } };
};
export type ApiResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  // Live data: a cached fleet view would hide a treadmill that stopped.
  'cache-control': 'no-store',
};

const json = (statusCode: number, body: unknown): ApiResult => ({
  statusCode,
  headers: JSON_HEADERS,
  body: JSON.stringify(body),
});

function errorResult(error: ApiError): ApiResult {
  const body: ErrorBody = {
    error: {
      status: error.status,
      code: error.code,
      message: error.message,
      ...(error.reasons && { reasons: error.reasons }),
    },
  };
  return json(error.status, body);
}

/**
 * The repos over these tables; the unsubscribe secret (UNSUBSCRIBE_SECRET), local email outbox
 * (EMAIL_OUTBOX_DIR) and export bucket (EXPORT_BUCKET) from the environment unless `overrides` has them.
 */
export function apiDepsFor(
  doc: DynamoDBDocumentClient,
  tablePrefix: string,
  now = Date.now,
  overrides: Partial<ApiDeps> = {},
): ApiDeps {
  const tables = tableNames(tablePrefix);
  const env = process.env;
  return {
    fleet: new FleetRepo(doc, tables.fleet),
    sessions: new SessionsRepo(doc, tables.sessions),
    alerts: new AlertsRepo(doc, tables.alerts),
    rollups: new RollupsRepo(doc, tables.rollups),
    members: new MembersRepo(doc, tables.members),
    unsubscribeTokens: unsubscribeTokensFromEnv(env),
    emailOutbox: env.EMAIL_OUTBOX_DIR ? new FileOutbox(env.EMAIL_OUTBOX_DIR) : null,
    exportStore: exportStoreFromEnv(env, () => new S3Client({})),
    now,
    ...overrides,
  };
}

export function createApiHandler(resolveDeps: () => ApiDeps, logger = new Logger({ serviceName: 'api' })) {
  return createRouteHandler(ROUTES, resolveDeps, logger);
}

/** A handler serving `routes` (the API's, or a subset on a Lambda of its own, as functions/export). */
export function createRouteHandler<D>(routes: readonly Route<D>[], resolveDeps: () => D, logger: Logger) {
  return async (event: ApiEvent): Promise<ApiResult> => {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    try {
      if (path !== API_BASE_PATH && !path.startsWith(`${API_BASE_PATH}/`))
        throw new ApiError(404, 'not_found', `no route ${method} ${path}`);
      const { route, params } = findRoute(routes, method, path.slice(API_BASE_PATH.length));
      const caller = callerOf(event.requestContext.authorizer?.jwt?.claims);
      const query = event.queryStringParameters ?? {};
      return json(200, await route.invoke({ params, query }, caller, resolveDeps()));
    } catch (error) {
      if (error instanceof ApiError) return errorResult(error);
      logger.error('request failed', { method, path, error: error as Error });
      return errorResult(new ApiError(500, 'internal', 'something went wrong; try again'));
    }
  };
}

let fromEnvironment: ApiDeps | undefined;

/** Lambda's entry point, configured by TABLE_PREFIX and the AWS_ENDPOINT_URL_* variables. */
export const handler = createApiHandler(() => {
  // Read here rather than through lib/processing.js, which would bundle the whole stream processing.
  const tablePrefix = process.env.TABLE_PREFIX;
  if (!tablePrefix) throw new Error('TABLE_PREFIX is not set');
  fromEnvironment ??= apiDepsFor(dynamoDocumentClient(), tablePrefix);
  return fromEnvironment;
});
