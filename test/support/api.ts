/** Calling the API handler as API Gateway would, for a dev user (or nobody), without a server. */
import type { ApiEvent, ApiResult } from '../../functions/api/route-handler.js';
import type { Claims } from '../../functions/api/identity.js';
import {
  authorizerClaims,
  DEV_USERS,
  type DevUser,
  devTokenPayload,
} from '../../scripts/local/api-server.js';

export const devUser = (username: string): DevUser => {
  const user = DEV_USERS.find((candidate) => candidate.username === username);
  if (!user) throw new Error(`no dev user ${username}`);
  return user;
};

export const claimsOf = (username: string): Claims =>
  authorizerClaims(devTokenPayload(devUser(username), Date.UTC(2026, 10, 24)));

/** `target` is a path with an optional query string, e.g. `/api/gyms/gym-a/sessions?limit=5`. */
export function apiEvent(method: string, target: string, claims?: Claims): ApiEvent {
  const url = new URL(target, 'http://api.test');
  const query = Object.fromEntries(url.searchParams);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: {},
    ...(url.search.length > 1 && { queryStringParameters: query }),
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: url.host,
      domainPrefix: 'api',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: 'request',
      routeKey: '$default',
      stage: '$default',
      time: '24/Nov/2026:09:00:00 +0000',
      timeEpoch: Date.UTC(2026, 10, 24, 9),
      ...(claims && { authorizer: { jwt: { claims, scopes: null } } }),
    },
    isBase64Encoded: false,
  };
}

export interface ApiReply {
  status: number;
  body: Record<string, unknown>;
}

export async function call(
  handler: (event: ApiEvent) => Promise<ApiResult>,
  method: string,
  target: string,
  claims?: Claims,
): Promise<ApiReply> {
  const result = await handler(apiEvent(method, target, claims));
  return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
}
