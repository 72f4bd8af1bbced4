/**
 * One running dashboard for a browser test file: embedded DynamoDB (dynalite), a seeded simulator whose
 * messages go through the gateway's parser into the real ingest handler, the local api-server with the real
 * API handler, and headless Chromium. Each dashboard test file starts one in `beforeAll`.
 */
import { expect } from 'vitest';
import { createProcessing, type Processing } from '../../functions/lib/processing.js';
import { type ApiServer, startApiServer } from '../../scripts/local/api-server.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { type Chromium, DashboardPage, launchChromium, VIEWPORTS } from './dashboard-driver.js';
import { SimulatedGyms } from './sim-feed.js';

/** The dev stack's users (scripts/local): operator of gym A, operator of gym B, researcher. */
export const USERS = {
  operatorA: { username: 'operator-a', password: 'retro-a' },
  operatorB: { username: 'operator-b', password: 'retro-b' },
  researcher: { username: 'researcher', password: 'retro-r' },
} as const;
export type UserName = keyof typeof USERS;

export interface DashboardFixture {
  kit: EmbeddedAws;
  processing: Processing;
  gyms: SimulatedGyms;
  server: ApiServer;
  chromium: Chromium;
  /** GET /api{path} as `user`, expecting 200; to compare with what the page shows. */
  api<T>(path: string, user?: UserName): Promise<T>;
  /** A new page at `viewport`, signed in as `user` when given. */
  page(viewport?: keyof typeof VIEWPORTS, user?: UserName): Promise<DashboardPage>;
  stop(): Promise<void>;
}

export interface DashboardFixtureOptions {
  /** Simulated minutes of traffic, ending now (so the fleet is live). */
  minutes?: number;
  seed?: number;
  /** Session length range in minutes; interval programs switch direction every 3 minutes. */
  sessionMinutes?: [number, number];
  /** Where research exports are written and served from (POST /api/exports); exports answer 503 without. */
  exportsDir?: string;
}

export async function startDashboardFixture(
  options: DashboardFixtureOptions = {},
): Promise<DashboardFixture> {
  const { minutes = 15, seed = 42, sessionMinutes = [1.5, 3] } = options;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const kit = await startEmbeddedAws({ shards: 1 });
  const processing = createProcessing(kit.dynamo.doc, kit.tablePrefix);
  const now = Date.now();
  const gyms = new SimulatedGyms(
    processing,
    { seed, gyms: 2, treadmillsPerGym: 6, sessionMinutes, idleMinutes: [0.2, 0.8] },
    now - minutes * 60_000,
  );
  await gyms.advanceTo(now);
  const server = await startApiServer({
    port: 0,
    dynamo: { doc: kit.dynamo.doc, tablePrefix: kit.tablePrefix },
    ...(options.exportsDir && { exportsDir: options.exportsDir }),
  });
  const chromium = await launchChromium();

  const tokens = new Map<UserName, string>();
  async function token(user: UserName): Promise<string> {
    const known = tokens.get(user);
    if (known) return known;
    const login = await fetch(`${server.url}/auth/dev-login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(USERS[user]),
    });
    const { token: issued } = (await login.json()) as { token: string };
    tokens.set(user, issued);
    return issued;
  }

  return {
    kit,
    processing,
    gyms,
    server,
    chromium,
    async api<T>(path: string, user: UserName = 'operatorA'): Promise<T> {
      const response = await fetch(`${server.url}/api${path}`, {
        headers: { authorization: `Bearer ${await token(user)}` },
      });
      expect(response.status).toBe(200);
      return (await response.json()) as T;
    },
    async page(viewport: keyof typeof VIEWPORTS = 'desktop', user?: UserName): Promise<DashboardPage> {
      const dashboard = new DashboardPage(await chromium.page(VIEWPORTS[viewport]), server.url);
      if (user) await dashboard.login(USERS[user].username, USERS[user].password);
      return dashboard;
    },
    async stop() {
      await chromium.close();
      await server.stop();
      await kit.stop();
    },
  };
}
