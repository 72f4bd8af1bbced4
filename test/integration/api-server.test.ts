/**
 * The local server standing in for API Gateway, its Cognito authorizer and the static hosting: dev login and
 * tokens, the claims the handler receives, /config.json, and which files it serves. No route here reads a
 * table, so the DynamoDB client points nowhere.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardConfigSchema } from '../../functions/api/dashboard-site.js';
import { dynamoDocumentClient, LOCAL_CREDENTIALS } from '../../shared/src/aws/clients.js';
import {
  type ApiServer,
  authorizerClaims,
  DEV_USERS,
  startApiServer,
} from '../../scripts/local/api-server.js';

const TOKEN_TTL_MS = 60_000;

describe('local API server', () => {
  let server: ApiServer;
  let clock = Date.UTC(2026, 10, 24, 9);

  beforeAll(async () => {
    const doc = dynamoDocumentClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    server = await startApiServer({
      port: 0,
      dynamo: { doc, tablePrefix: 'unused' },
      now: () => clock,
      tokenTtlMs: TOKEN_TTL_MS,
    });
  });

  afterAll(() => server?.stop());

  const login = (body: unknown) =>
    fetch(`${server.url}/auth/dev-login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const tokenOf = async (username: string, password: string): Promise<string> => {
    const response = await login({ username, password });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  };

  const me = (token?: string) =>
    fetch(`${server.url}/api/me`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  /** A raw request, so the path reaches the server exactly as written (fetch would normalise `..`). */
  const rawGet = (path: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const { hostname, port } = new URL(server.url);
      request({ hostname, port, path, method: 'GET' }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });

  it('answers only requests addressed to a loopback host: DNS rebinding does not reach the dev logins', async () => {
    const withHost = (host: string, path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const { hostname, port } = new URL(server.url);
        request({ hostname, port, path, method: 'GET', headers: { host } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
    const { port } = new URL(server.url);
    expect(await withHost(`localhost:${port}`, '/config.json')).toBe(200);
    expect(await withHost(`127.0.0.1:${port}`, '/config.json')).toBe(200);
    expect(await withHost(`[::1]:${port}`, '/config.json')).toBe(200);
    // A name an attacker's DNS points at 127.0.0.1: 421 Misdirected Request, for pages, logins and /api alike.
    expect(await withHost(`rebind.attacker.example:${port}`, '/config.json')).toBe(421);
    expect(await withHost(`rebind.attacker.example:${port}`, '/api/me')).toBe(421);
    expect(await withHost(`rebind.attacker.example:${port}`, '/')).toBe(421);
  });

  it('signs in each dev user and passes their claims on as the Cognito authorizer would', async () => {
    for (const user of DEV_USERS) {
      const response = await me(await tokenOf(user.username, user.password));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        sub: `dev-${user.username}`,
        username: user.username,
        roles: user.groups,
        gyms: user.gyms,
      });
    }
  });

  it('flattens list claims to "[a b]" and numbers to text, as HTTP API does', () => {
    expect(authorizerClaims({ 'cognito:groups': ['operator', 'researcher'], exp: 17, sub: 'x' })).toEqual({
      'cognito:groups': '[operator researcher]',
      exp: '17',
      sub: 'x',
    });
  });

  it('refuses a wrong password (401) and a malformed login (400 with reasons)', async () => {
    const wrong = await login({ username: 'operator-a', password: 'retro-b' });
    expect(wrong.status).toBe(401);
    const unknown = await login({ username: 'nobody', password: 'retro-a' });
    expect(unknown.status).toBe(401);
    const malformed = await login({ username: '' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { reasons: string[] } }).error.reasons).toEqual([
      expect.stringMatching(/^username: /),
      expect.stringMatching(/^password: /),
    ]);
  });

  it('answers a bad or expired token itself (401 "Unauthorized"), a missing one through the handler', async () => {
    const token = await tokenOf('operator-a', 'retro-a');
    const [body, mac] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(body ?? '', 'base64url').toString()),
        'custom:gyms': 'gym-b',
      }),
    ).toString('base64url');
    for (const bad of [`${forged}.${mac}`, `${body}.x${mac}`, 'garbage']) {
      const response = await me(bad);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ message: 'Unauthorized' });
    }
    clock += TOKEN_TTL_MS + 1000;
    expect((await me(token)).status).toBe(401);

    const anonymous = await me();
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('tells the dashboard to use the dev login, naming users but no passwords', async () => {
    const response = await fetch(`${server.url}/config.json`);
    const text = await response.text();
    const config = dashboardConfigSchema.parse(JSON.parse(text));
    expect(config).toMatchObject({ apiBaseUrl: '/api', auth: { mode: 'dev', loginPath: '/auth/dev-login' } });
    expect(config.pollMs).toBeGreaterThanOrEqual(2000);
    for (const user of DEV_USERS) expect(text).not.toContain(user.password);
  });

  it("serves the dashboard's files with its Content-Security-Policy: own origin, the import map's hash", async () => {
    const index = await fetch(`${server.url}/`);
    const policy = index.headers.get('content-security-policy') ?? '';
    const directives = new Map(
      policy.split(';').map((part) => {
        const [name = '', ...sources] = part.trim().split(/\s+/);
        return [name, sources];
      }),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    // The one inline script, the import map, by its hash; nothing else inline, and no other origin.
    const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(await index.text())?.[1] ?? '';
    const hash = `'sha256-${createHash('sha256').update(importMap).digest('base64')}'`;
    expect(directives.get('script-src')).toEqual(["'self'", hash]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(policy).not.toMatch(/unsafe-eval|\*|http:|https:/);
    // The same policy on every file of the site, and on the unsubscribe page.
    for (const path of ['/unsubscribe.html', '/js/app.js', '/styles.css', '/vendor/uplot/uPlot.esm.js']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.headers.get('content-security-policy'), path).toBe(policy);
    }
  });

  it("serves the dashboard and uPlot's dist, nothing else", async () => {
    const index = await fetch(`${server.url}/`);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await index.text()).toContain('"uplot": "/vendor/uplot/uPlot.esm.js"');
    for (const path of [
      '/js/app.js',
      '/styles.css',
      '/vendor/uplot/uPlot.esm.js',
      '/vendor/uplot/uPlot.min.css',
    ]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(200);
    }
    for (const path of [
      '/tsconfig.json',
      '/nothing.js',
      '/../package.json',
      '/%2e%2e/%2e%2e/package.json',
      '/vendor/uplot/../../../package.json',
      '/vendor/uplot/uPlot.d.ts',
    ]) {
      expect(await rawGet(path), path).toBe(404);
    }
  });
});
