/**
 * The dashboard under its Content-Security-Policy in headless Chromium: the local server sends the policy
 * CloudFront sends (functions/api/dashboard-site.ts), and every page works without the browser refusing
 * anything: the fleet with its uPlot chart, a session's bars, the researcher's weeks, the outbox's email preview
 * (a srcdoc frame, which inherits the policy) and the unsubscribe page.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgressMime, progressEmailLinks } from '../../functions/lib/email-delivery.js';
import { FileOutbox } from '../../functions/lib/email-outbox.js';
import { createProcessing, type Processing } from '../../functions/lib/processing.js';
import { UnsubscribeTokens } from '../../functions/lib/unsubscribe-tokens.js';
import { type ApiServer, startApiServer } from '../../scripts/local/api-server.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { buildProgressReport } from '../../shared/src/email/progress-report.js';
import { renderProgressEmail } from '../../shared/src/email/render.js';
import { DAY_MS, lastCompleteWeek, weekStartTs } from '../../shared/src/iso-week.js';
import { type Chromium, DashboardPage, launchChromium } from '../support/dashboard-driver.js';
import { walkedSession } from '../support/rollup-fixtures.js';
import { SimulatedGyms } from '../support/sim-feed.js';

const SECRET = 'e2e-csp-unsubscribe-secret-of-at-least-32-bytes';
/** More members than the research export's k in the last week that has ended, so a row has numbers. */
const MEMBERS = 13;

describe('the dashboard under its Content-Security-Policy', () => {
  let kit: EmbeddedAws;
  let processing: Processing;
  let server: ApiServer;
  let chromium: Chromium;
  let outboxDir: string;
  let token: string;

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    kit = await startEmbeddedAws({ shards: 1 });
    processing = createProcessing(kit.dynamo.doc, kit.tablePrefix);
    const now = Date.now();
    const gyms = new SimulatedGyms(
      processing,
      { seed: 7, gyms: 1, treadmillsPerGym: 3, sessionMinutes: [1.5, 3], idleMinutes: [0.2, 0.5] },
      now - 8 * 60_000,
    );
    await gyms.advanceTo(now);
    const week = lastCompleteWeek(now);
    for (let i = 0; i < MEMBERS; i++) {
      await processing.rollups.addSession(
        walkedSession({
          gymId: 'gym-a',
          userToken: `csp_${i}`,
          startTs: weekStartTs(week) + (i % 7) * DAY_MS + 9 * 3_600_000 + i * 60_000,
          forwardS: 240,
          backwardS: 120,
        }),
        { ageBand: '40-49', sex: 'female' },
      );
    }
    outboxDir = await mkdtemp(join(tmpdir(), 'retrostride-csp-outbox-'));
    process.env.UNSUBSCRIBE_SECRET = SECRET;
    process.env.EMAIL_OUTBOX_DIR = outboxDir;
    server = await startApiServer({ port: 0, dynamo: { doc: kit.dynamo.doc, tablePrefix: kit.tablePrefix } });
    token = new UnsubscribeTokens(SECRET).sign({ userToken: 'csp_0', week });
    const report = buildProgressReport(week, await processing.rollups.listMemberWeeks('csp_0', week, week));
    if (!report) throw new Error('no progress report for the seeded member');
    const links = progressEmailLinks(server.url, token);
    const message = {
      userToken: 'csp_0',
      week,
      gymId: 'gym-a',
      from: 'Retrostride <progress@retrostride.example>',
      to: 'csp@example.org',
      email: renderProgressEmail(report, links),
      links,
      date: now,
    };
    await new FileOutbox(outboxDir).send(message, await buildProgressMime(message));
    chromium = await launchChromium();
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
    await kit?.stop();
    delete process.env.UNSUBSCRIBE_SECRET;
    delete process.env.EMAIL_OUTBOX_DIR;
    if (outboxDir) await rm(outboxDir, { recursive: true, force: true });
  });

  /** What the browser refused on this page or in its frames: it reports each refusal on the console. */
  function refusals(page: Page): string[] {
    const seen: string[] = [];
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy/i.test(message.text())) seen.push(message.text());
    });
    page.on('pageerror', (error) => seen.push(`page error: ${error.message}`));
    return seen;
  }

  it('serves the pages with the policy', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self'/);
  });

  it("runs an operator's fleet, session and outbox views without a refusal", async () => {
    const dashboard = new DashboardPage(await chromium.page(), server.url);
    const refused = refusals(dashboard.page);
    await dashboard.login('operator-a', 'retro-a');
    await dashboard.tiles();
    // uPlot draws the hour-of-day chart (its styles set through CSSOM, its stylesheet from this origin).
    await dashboard.byTestId('utilisation-chart').locator('canvas').first().waitFor();
    const [first] = await dashboard.sessions();
    await dashboard.page
      .locator(`[data-testid="session-row"][data-session-id="${first?.sessionId ?? ''}"] a`)
      .click();
    await dashboard.byTestId('session-view').waitFor();
    await dashboard.byTestId('nav-outbox').click();
    await dashboard.byTestId('outbox-email').first().click();
    const preview = dashboard.page.frameLocator('[data-testid="outbox-preview"]');
    await expect.poll(() => preview.getByText('Unsubscribe').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(refused).toEqual([]);
    await dashboard.page.context().close();
  });

  it("shows a researcher the last weeks' research cells without a refusal", async () => {
    const dashboard = new DashboardPage(await chromium.page(), server.url);
    const refused = refusals(dashboard.page);
    await dashboard.login('researcher', 'retro-r');
    await dashboard.byTestId('research-week').first().waitFor();
    expect(await dashboard.byTestId('research-week').count()).toBe(8);
    // Newest first: the last week that has ended, with gym-a's distinct members (at least the seeded ones).
    const members = Number(
      await dashboard.byTestId('research-week').first().getByTestId('research-members').textContent(),
    );
    expect(members).toBeGreaterThanOrEqual(MEMBERS);
    expect(await dashboard.byTestId('research-trend-note').textContent()).toContain('distinct members');
    // The export form is on the same page, under the same policy.
    await dashboard.byTestId('export-form').waitFor();
    expect(refused).toEqual([]);
    await dashboard.page.context().close();
  });

  it('runs the unsubscribe page without a refusal', async () => {
    const page = await chromium.page();
    const refused = refusals(page);
    await page.goto(`${server.url}/unsubscribe.html?token=${encodeURIComponent(token)}`);
    await page.getByTestId('unsubscribe-confirm').click();
    await expect
      .poll(() => page.getByTestId('unsubscribe-message').textContent(), { timeout: 15_000 })
      .toBe('Done: you will get no more weekly progress emails.');
    expect(refused).toEqual([]);
    await page.context().close();
  });
});
