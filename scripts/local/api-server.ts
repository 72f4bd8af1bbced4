/**
 * The API and the dashboard on one local port, standing in for API Gateway, its Cognito authorizer and the
 * static hosting:
 * - `/api/*` becomes the API Gateway v2 event the Lambda gets in AWS and goes to the SAME handler;
 * - `POST /auth/dev-login` signs in a dev user and returns a token (HMAC-signed with a secret made per
 *   process, so a restart signs everyone out); a request bearing it reaches the handler with the claims the
 *   Cognito authorizer would pass (list claims flattened to "[a b]", numbers as text);
 * - `/config.json` tells the dashboard to use the dev login; everything else is a static file, served with
 *   the dashboard's Content-Security-Policy as CloudFront serves it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { apiDepsFor } from '../../functions/api/api-deps.js';
import {
  type DashboardConfig,
  DEFAULT_POLL_MS,
  dashboardAssetDirs,
  dashboardContentSecurityPolicy,
} from '../../functions/api/dashboard-site.js';
import { createApiHandler } from '../../functions/api/handler.js';
import type { Claims, Role } from '../../functions/api/identity.js';
import type { ApiEvent } from '../../functions/api/route-handler.js';
import { envSchema, parseEnv, TABLE_ENV } from '../../functions/lib/environment.js';
import { dynamoDocumentClient } from '../../shared/src/aws/clients.js';
import { issueReasons } from '../../shared/src/telemetry/validate.js';
import { localExports } from './local-exports.js';

export interface DevUser {
  username: string;
  password: string;
  groups: Role[];
  gyms: string[];
  description: string;
}

/** Two operators, each scoped to one gym (tenant isolation is visible), and a researcher. */
export const DEV_USERS: readonly DevUser[] = [
  {
    username: 'operator-a',
    password: 'retro-a',
    groups: ['operator'],
    gyms: ['gym-a'],
    description: 'operator of gym-a',
  },
  {
    username: 'operator-b',
    password: 'retro-b',
    groups: ['operator'],
    gyms: ['gym-b'],
    description: 'operator of gym-b',
  },
  {
    username: 'researcher',
    password: 'retro-r',
    groups: ['researcher'],
    gyms: ['gym-a', 'gym-b'],
    description: 'researcher: utilisation of both gyms, small cells suppressed',
  },
];

export interface ApiServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  devUsers?: readonly DevUser[];
  /** The tables to serve; defaults to the environment (TABLE_PREFIX, AWS_ENDPOINT_URL_DYNAMODB). */
  dynamo?: { doc: DynamoDBDocumentClient; tablePrefix: string };
  now?: () => number;
  tokenTtlMs?: number;
  /** Where research exports are written and served from (/exports/, signed URLs); none when unset. */
  exportsDir?: string;
  /** Host names it answers besides the loopback ones and the one it listens on (`dev --allow-host`). */
  allowedHosts?: readonly string[];
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** The Host header's name without the port, lower case; `[::1]` keeps its brackets. */
const hostName = (hostHeader: string | undefined): string =>
  (hostHeader ?? '').toLowerCase().replace(/:\d+$/, '');

export interface ApiServer {
  /** e.g. `http://127.0.0.1:8080`, no trailing slash. */
  url: string;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_TOKEN_TTL_MS = 12 * 3_600_000;
export const DEV_LOGIN_PATH = '/auth/dev-login';
const ISSUER = 'retrostride-dev-login';
const AUDIENCE = 'retrostride-dashboard';

const JSON_TYPE = 'application/json; charset=utf-8';
/** What the site is made of; other files beside it (sources, configs) are never served. */
const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const loginSchema = z.object({ username: z.string().min(1).max(100), password: z.string().min(1).max(200) });

export type TokenPayload = Record<string, string | number | string[]>;

/** Signs and checks dev tokens: `base64url(payload).base64url(hmac)`. */
class DevTokens {
  readonly #secret = randomBytes(32);

  sign(payload: TokenPayload): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  /** The payload of a well-signed, unexpired token; null otherwise. */
  verify(token: string, nowMs: number): TokenPayload | null {
    const [body, mac, extra] = token.split('.');
    if (body === undefined || mac === undefined || extra !== undefined) return null;
    const expected = Buffer.from(this.#mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
    return typeof payload.exp === 'number' && payload.exp * 1000 > nowMs ? payload : null;
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url');
  }
}

/** The claims of a Cognito ID token for this user, as far as the API reads them. */
export function devTokenPayload(user: DevUser, nowMs: number, ttlMs = DEFAULT_TOKEN_TTL_MS): TokenPayload {
  const issuedS = Math.floor(nowMs / 1000);
  return {
    sub: `dev-${user.username}`,
    'cognito:username': user.username,
    'cognito:groups': user.groups,
    'custom:gyms': user.gyms.join(','),
    token_use: 'id',
    iss: ISSUER,
    aud: AUDIENCE,
    iat: issuedS,
    exp: issuedS + Math.floor(ttlMs / 1000),
  };
}

/** What HTTP API's JWT authorizer hands the Lambda: list claims as "[a b]", every other value as text. */
export function authorizerClaims(payload: TokenPayload): Claims {
  return Object.fromEntries(
    Object.entries(payload).map(([name, value]) => [
      name,
      Array.isArray(value) ? `[${value.join(' ')}]` : String(value),
    ]),
  );
}

const sameText = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RangeError('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': JSON_TYPE, 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

/** The v2 event API Gateway would build for this request. */
function apiEventOf(request: IncomingMessage, url: URL, body: string, claims: Claims | null): ApiEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = Object.hasOwn(query, name) ? `${query[name]},${value}` : value;
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search.length > 1 && { queryStringParameters: query }),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: url.hostname,
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      ...(claims && { authorizer: { jwt: { claims, scopes: null } } }),
    },
    ...(body.length > 0 && { body }),
    isBase64Encoded: false,
  };
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const users = options.devUsers ?? DEV_USERS;
  const now = options.now ?? Date.now;
  const tokenTtlMs = options.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS;
  const dynamo = options.dynamo ?? {
    doc: dynamoDocumentClient(),
    tablePrefix: parseEnv(envSchema(TABLE_ENV)).TABLE_PREFIX,
  };
  let publicUrl = '';
  // Export links on the origin the caller used (an --allow-host name, localhost), so they download there.
  const callerOrigin = new AsyncLocalStorage<string>();
  const exports = options.exportsDir
    ? localExports(options.exportsDir, () => callerOrigin.getStore() ?? publicUrl, now)
    : undefined;
  const deps = apiDepsFor(dynamo.doc, dynamo.tablePrefix, now, exports ? { exportStore: exports.store } : {});
  const handler = createApiHandler(() => deps);
  const tokens = new DevTokens();
  const assets = dashboardAssetDirs().sort((a, b) => b.urlPrefix.length - a.urlPrefix.length);
  // CloudFront's policy (infra/constructs/dashboard-site.ts), so the browser tests run the pages under it; the
  // dev login is on this origin, and the outbox preview exists only here.
  const contentSecurityPolicy = dashboardContentSecurityPolicy({ emailPreview: true });
  const config: DashboardConfig = {
    apiBaseUrl: '/api',
    pollMs: DEFAULT_POLL_MS,
    auth: {
      mode: 'dev',
      loginPath: DEV_LOGIN_PATH,
      users: users.map(({ username, description }) => ({ username, description })),
    },
  };

  async function login(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let input: unknown;
    try {
      input = JSON.parse(await readBody(request));
    } catch {
      return sendJson(response, 400, { error: { status: 400, code: 'bad_request', message: 'send JSON' } });
    }
    const parsed = loginSchema.safeParse(input);
    if (!parsed.success) {
      const reasons = issueReasons(parsed.error);
      return sendJson(response, 400, {
        error: { status: 400, code: 'bad_request', message: 'invalid login', reasons },
      });
    }
    const user = users.find((candidate) => candidate.username === parsed.data.username);
    if (!user || !sameText(user.password, parsed.data.password)) {
      return sendJson(response, 401, {
        error: { status: 401, code: 'unauthorized', message: 'wrong username or password' },
      });
    }
    const payload = devTokenPayload(user, now(), tokenTtlMs);
    const token = tokens.sign(payload);
    sendJson(response, 200, { token, tokenType: 'Bearer', expiresAt: Number(payload.exp) * 1000 });
  }

  async function api(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const authorization = request.headers.authorization;
    let claims: Claims | null = null;
    if (authorization !== undefined) {
      const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
      const payload = token ? tokens.verify(token, now()) : null;
      // API Gateway's authorizer answers a bad token itself, before the Lambda runs.
      if (!payload) return sendJson(response, 401, { message: 'Unauthorized' });
      claims = authorizerClaims(payload);
    }
    const result = await handler(apiEventOf(request, url, await readBody(request), claims));
    response.writeHead(result.statusCode, result.headers as Record<string, string>);
    response.end(result.body);
  }

  async function file(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const path = decodeURIComponent(url.pathname);
    const asset = assets.find((candidate) => path.startsWith(candidate.urlPrefix));
    const relative = normalize(path.slice(asset?.urlPrefix.length ?? 0) || 'index.html');
    const fullPath = asset && join(asset.dir, relative);
    // `normalize` leaves a leading `..` in place: such a path would leave the directory.
    if (
      !fullPath ||
      relative.startsWith('..') ||
      !fullPath.startsWith(asset.dir.replace(/[\\/]$/, '') + sep)
    ) {
      response.writeHead(404).end('not found');
      return;
    }
    const contentType = STATIC_TYPES[extname(fullPath)];
    const found = contentType === undefined ? undefined : await stat(fullPath).catch(() => undefined);
    if (!contentType || !found?.isFile()) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, {
      'content-type': contentType,
      'cache-control': 'no-cache',
      'content-security-policy': contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
    });
    response.end(request.method === 'HEAD' ? undefined : await readFile(fullPath));
  }

  const host = options.host ?? '127.0.0.1';
  // A page on any other name that an attacker's DNS points at 127.0.0.1 (DNS rebinding) is refused, so it
  // can neither sign in as a dev user nor read the API.
  const allowedHosts = new Set([
    ...LOOPBACK_HOSTS,
    host.includes(':') ? `[${host}]` : host,
    ...(options.allowedHosts ?? []).map((name) => name.toLowerCase()),
  ]);
  const server = createServer((request, response) => {
    const requestedHost = hostName(request.headers.host);
    if (!allowedHosts.has(requestedHost)) {
      response
        .writeHead(421, { 'content-type': 'text/plain' })
        .end(`host "${requestedHost}" is not served here (retrostride dev --allow-host ${requestedHost})\n`);
      return;
    }
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
    const method = request.method ?? 'GET';
    const work =
      url.pathname === '/api' || url.pathname.startsWith('/api/')
        ? callerOrigin.run(url.origin, () => api(request, response, url))
        : url.pathname === DEV_LOGIN_PATH && method === 'POST'
          ? login(request, response)
          : url.pathname === '/config.json' && method === 'GET'
            ? Promise.resolve(sendJson(response, 200, config))
            : method === 'GET' || method === 'HEAD'
              ? exports
                ? exports
                    .serve(request, response, url)
                    .then((served) => (served ? undefined : file(request, response, url)))
                : file(request, response, url)
              : Promise.resolve(void response.writeHead(405).end('method not allowed'));
    work.catch((error: unknown) => {
      const status = error instanceof RangeError || error instanceof URIError ? 400 : 500;
      if (!response.headersSent) response.writeHead(status);
      response.end(status === 400 ? 'bad request' : 'internal error');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('api server has no TCP address');
  const shownHost = host.includes(':') ? `[${host}]` : host;
  publicUrl = `http://${shownHost}:${address.port}`;

  let stopping: Promise<void> | undefined;
  return {
    url: publicUrl,
    stop: () => {
      stopping ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
