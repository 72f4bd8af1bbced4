/**
 * Serving a route table (router.ts) to API Gateway HTTP API events (payload format 2.0, Cognito JWT
 * authorizer): find the route, read the caller from the authorizer's claims, let the route parse and answer,
 * send JSON. The API serves ROUTES, functions/export only EXPORT_ROUTES, so each bundle carries its own routes.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { InvalidCursorError } from '../lib/dynamo-paging.js';
import { lambdaHandler } from '../lib/lambda-entry.js';
import { type Claims, callerOf } from './identity.js';
import { API_BASE_PATH, ApiError, findRoute, type Route } from './router.js';
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

/** The answer to one request; dependencies are resolved inside, so a failure to build them answers 500. */
async function answer<D>(
  routes: readonly Route<D>[],
  event: ApiEvent,
  resolveDeps: () => D,
  logger: Pick<Logger, 'error'>,
): Promise<ApiResult> {
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
    // A cursor is the caller's own text: one not of this listing is their mistake, whichever route read it.
    if (error instanceof InvalidCursorError)
      return errorResult(new ApiError(400, 'bad_request', error.message));
    logger.error('request failed', { method, path, error: error as Error });
    return errorResult(new ApiError(500, 'internal', 'something went wrong; try again'));
  }
}

/** A handler serving `routes` without Lambda's wiring: the local api-server and tests call it directly. */
export const createRouteHandler =
  <D>(routes: readonly Route<D>[], resolveDeps: () => D, logger: Pick<Logger, 'error'>) =>
  (event: ApiEvent): Promise<ApiResult> =>
    answer(routes, event, resolveDeps, logger);

/**
 * The Lambda entry serving `routes` (lambda-entry.ts). One metric per request, ServerErrors (1 for an answer
 * of 500 or more, else 0): its Sum counts the failures, its SampleCount the requests.
 */
export function routeLambda<D>(service: string, routes: readonly Route<D>[], resolveDeps: () => D) {
  // The resolver itself is the dependency: `answer` calls it inside the request.
  return lambdaHandler(
    service,
    () => resolveDeps,
    async (event: ApiEvent, { deps, logger, metrics }): Promise<ApiResult> => {
      const result = await answer(routes, event, deps, logger);
      metrics.addMetric('ServerErrors', MetricUnit.Count, result.statusCode >= 500 ? 1 : 0);
      return result;
    },
  );
}
