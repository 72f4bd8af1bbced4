/**
 * History in Chromium (issue 13 point 8), against a seeded simulator's traffic through the real ingest handler:
 * the sessions list in a time range with filters, a page at a time, its CSV; live rows with the fleet's distance
 * and split; deep links keeping range and filters; a treadmill's past sessions, motor temperature and belt
 * hours by hour, and alert history. At desktop and phone width, with the accessibility check.
 *
 * Screenshots go to test/e2e/screenshots/; with UPDATE_DOCS_SCREENSHOT=1 the desktop treadmill page also goes
 * to docs/treadmill-history.png.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionKey } from '../../functions/lib/sessions-repo.js';
import type { SessionItemView, TreadmillView } from '../../functions/api/views.js';
import { parseCsv } from '../../shared/src/csv.js';
import type { DashboardPage } from '../support/dashboard-driver.js';
import { type DashboardFixture, startDashboardFixture } from '../support/dashboard-fixture.js';

/** The page's globals used inside `evaluate` (it runs in the browser; this project has no DOM lib). */
declare const document: { documentElement: { scrollWidth: number } };
declare const window: { innerWidth: number };

const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const DOCS_SCREENSHOT = fileURLToPath(new URL('../../docs/treadmill-history.png', import.meta.url));
/** Rows a page of the list shows (functions/dashboard/js/views/sessions.js). */
const PAGE_SIZE = 50;

/** As the dashboard formats distances (functions/dashboard/js/format.js). */
const distanceText = (metres: number) =>
  metres >= 1000
    ? `${(metres / 1000).toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} km`
    : `${Math.round(metres).toLocaleString('en-GB')} m`;

interface SessionsPage {
  sessions: SessionItemView[];
  nextCursor: string | null;
}

describe('history in Chromium: sessions list, treadmill page', () => {
  let fixture: DashboardFixture;
  let operator: DashboardPage;
  /** The start of the "7d" range in the browser's (and this process's) time zone: 6 days before today. */
  const weekStart = () => {
    const now = new Date();
    return new Date(now.getFullYear(), now.getMonth(), now.getDate() - 6).getTime();
  };
  /** Every session the API lists for `query`, page after page. */
  async function listed(query: string): Promise<SessionItemView[]> {
    const all: SessionItemView[] = [];
    let cursor: string | null = null;
    do {
      const page: SessionsPage = await fixture.api<SessionsPage>(
        `/gyms/gym-a/sessions?${query}&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      );
      all.push(...page.sessions);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }
  const rowIds = () =>
    operator.page.$$eval('[data-testid="session-row"]', (rows) =>
      rows.map((row) => row.getAttribute('data-session-id') ?? ''),
    );

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    fixture = await startDashboardFixture();
    // More than a page of gym A's sessions: ended ones of a treadmill retired two hours ago (as stored).
    const now = Date.now();
    const retired = Array.from({ length: PAGE_SIZE + 10 }, (_, i) => ({
      ...sessionKey(`gym-a:tm-retired:${i + 1}`),
      sessionId: `gym-a:tm-retired:${i + 1}`,
      gymId: 'gym-a',
      treadmillId: 'tm-retired',
      program: 'forward',
      startTs: now - 2 * 3_600_000 - i * 60_000,
      status: 'ended',
      endTs: now - 2 * 3_600_000 - i * 60_000 + 50_000,
      durationS: 50,
      distanceM: 60,
      forwardS: 50,
      backwardS: 0,
    }));
    for (let i = 0; i < retired.length; i += 25)
      await fixture.kit.dynamo.doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [fixture.kit.tables.sessions]: retired.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
          },
        }),
      );
    operator = await fixture.page('desktop', 'operatorA');
    await operator.byTestId('treadmill-tile').first().waitFor();
  });

  afterAll(async () => {
    await fixture?.stop();
  });

  it('lists the range of a deep link, newest first, a page at a time with "More"', async () => {
    const expected = await listed(`from=${weekStart()}`);
    expect(expected.length).toBeGreaterThan(PAGE_SIZE);
    await operator.open('#/g/gym-a/sessions?range=7d');
    await operator.byTestId('session-row').first().waitFor();
    expect(await operator.byTestId('range-7d').getAttribute('aria-pressed')).toBe('true');
    expect(await rowIds()).toEqual(expected.slice(0, PAGE_SIZE).map((s) => s.sessionId));
    await operator.byTestId('sessions-more').click();
    await operator
      .byTestId('session-row')
      .nth(Math.min(expected.length, 2 * PAGE_SIZE) - 1)
      .waitFor();
    expect(await rowIds()).toEqual(expected.slice(0, 2 * PAGE_SIZE).map((s) => s.sessionId));
  });

  it('shows live rows with the distance and split the fleet has for them', async () => {
    const fleet = await fixture.api<{ treadmills: TreadmillView[] }>('/gyms/gym-a/treadmills');
    const live = fleet.treadmills.flatMap((t) => (t.session ? [t.session] : []));
    expect(live.length).toBeGreaterThan(0);
    for (const session of live) {
      const row = operator.page.locator(
        `[data-testid="session-row"][data-session-id="${session.sessionId}"]`,
      );
      await row.waitFor();
      expect(await row.getAttribute('data-status')).toBe('active');
      expect(await row.locator('[data-testid="session-distance"]').textContent()).toBe(
        distanceText(session.distanceM),
      );
      const split = row.locator('[data-testid="session-split"]');
      if (session.backwardShare === null) expect(await split.count()).toBe(0);
      else expect(await split.getAttribute('data-backward-share')).toBe(session.backwardShare.toFixed(2));
    }
  });

  it('filters by treadmill and direction server-side, keeps them in the link, and downloads them as CSV', async () => {
    const [first] = await listed(`from=${weekStart()}&direction=backward`);
    if (!first) throw new Error('no session with backward walking today');
    const treadmillId = first.treadmillId;
    await operator.page.selectOption('[data-testid="filter-treadmillId"]', treadmillId);
    await operator.page.selectOption('[data-testid="filter-direction"]', 'backward');
    await operator.byTestId('filters-apply').click();
    const expected = await listed(`from=${weekStart()}&treadmillId=${treadmillId}&direction=backward`);
    await expect.poll(rowIds, { timeout: 15_000 }).toEqual(expected.map((s) => s.sessionId));
    expect(new URL(operator.page.url()).hash).toBe(
      `#/g/gym-a/sessions?range=7d&treadmillId=${treadmillId}&direction=backward`,
    );

    const [download] = await Promise.all([
      operator.page.waitForEvent('download'),
      operator.byTestId('sessions-csv').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^sessions-gym-a-\d{4}-\d{2}-\d{2}\.csv$/);
    const [header, ...rows] = parseCsv(await readFile(await download.path(), 'utf8')).map((r) => r.fields);
    expect(header?.slice(0, 2)).toEqual(['session_id', 'treadmill_id']);
    expect(rows.map((row) => row[0])).toEqual(expected.map((s) => s.sessionId));
    expect(await operator.byTestId('sessions-status').textContent()).toBe(
      `CSV: ${expected.length} session${expected.length === 1 ? '' : 's'}.`,
    );

    // The link, opened afresh, shows the same list with its filters chosen.
    const again = await fixture.page('desktop', 'operatorA');
    await again.byTestId('treadmill-tile').first().waitFor();
    await again.open(new URL(operator.page.url()).hash);
    await again.byTestId('session-row').first().waitFor();
    expect(await again.page.inputValue('[data-testid="filter-treadmillId"]')).toBe(treadmillId);
    expect(await again.page.inputValue('[data-testid="filter-direction"]')).toBe('backward');
    expect(await again.page.$$eval('[data-testid="session-row"]', (r) => r.length)).toBe(expected.length);
  });

  it('takes a custom range from the link, bounded, and from the date fields', async () => {
    const page = await fixture.page('desktop', 'operatorA');
    await page.byTestId('treadmill-tile').first().waitFor();
    await page.open('#/g/gym-a/sessions?range=custom&from=2020-01-01&to=2099-12-31');
    await page
      .byTestId('range-note')
      .filter({ hasText: /at most 91 days/i })
      .waitFor();
    expect(await page.byTestId('range-custom').getAttribute('aria-pressed')).toBe('true');
    await page.page.fill('[data-testid="range-from"]', '2020-01-01');
    await page.page.fill('[data-testid="range-to"]', '2020-01-31');
    await page.byTestId('range-apply').click();
    await page.page.locator('td.empty', { hasText: 'No sessions in this range.' }).waitFor();
    expect(new URL(page.page.url()).hash).toBe(
      '#/g/gym-a/sessions?range=custom&from=2020-01-01&to=2020-01-31',
    );
  });

  it("shows a treadmill's past sessions, motor temperature and belt hours by hour, and its alert history", async () => {
    const fleet = await fixture.api<{ treadmills: TreadmillView[] }>('/gyms/gym-a/treadmills');
    const treadmill = fleet.treadmills.find((t) => t.motorTempC !== null) ?? fleet.treadmills[0];
    if (!treadmill) throw new Error('no treadmill in gym-a');
    const { treadmillId } = treadmill;
    await operator.open(`#/g/gym-a/treadmills/${treadmillId}?range=7d`);
    await operator.byTestId('past-session').first().waitFor();
    const past = await listed(`from=${weekStart()}&treadmillId=${treadmillId}`);
    expect(
      await operator.page.$$eval('[data-testid="past-session"]', (rows) =>
        rows.map((row) => row.getAttribute('data-session-id')),
      ),
    ).toEqual(past.slice(0, PAGE_SIZE).map((s) => s.sessionId));

    const history = await fixture.api<{
      hours: Array<{ maxMotorTempC: number | null; beltHours: number | null }>;
    }>(`/gyms/gym-a/treadmills/${treadmillId}/status-history?from=${weekStart()}&to=${Date.now()}`);
    expect(history.hours.length).toBeGreaterThan(0);
    const hottest = Math.max(...history.hours.map((hour) => hour.maxMotorTempC ?? -Infinity));
    const temperature = (await operator.byTestId('chart-motor-temp-summary').textContent()) ?? '';
    expect(temperature).toContain(
      `to ${hottest.toLocaleString('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} °C`,
    );
    expect(await operator.byTestId('chart-belt-hours-summary').textContent()).toMatch(
      /^Belt hours [\d.,]+ h to [\d.,]+ h/,
    );
    expect(await operator.byTestId('chart-motor-temp').locator('canvas').count()).toBe(1);

    const alerts = await fixture.api<{ alerts: Array<{ alertId: string }> }>(
      `/gyms/gym-a/treadmills/${treadmillId}/alerts?limit=50`,
    );
    await operator.byTestId('alert-history').waitFor();
    const shown = await operator.page.$$eval('[data-testid="alert-history-item"]', (rows) =>
      rows.map((row) => row.getAttribute('data-alert-id')),
    );
    expect(shown).toEqual(alerts.alerts.map((alert) => alert.alertId));
    expect(await operator.accessibilityViolations()).toEqual([]);
    await operator.byTestId('treadmill-history').scrollIntoViewIfNeeded();
    await operator.screenshot(`${SCREENSHOTS}/treadmill-history-desktop.png`);
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1')
      await copyFile(`${SCREENSHOTS}/treadmill-history-desktop.png`, DOCS_SCREENSHOT);
  });

  it('works at phone width, and the sessions page passes the accessibility check', async () => {
    const phone = await fixture.page('phone', 'operatorA');
    await phone.byTestId('treadmill-tile').first().waitFor();
    await phone.open('#/g/gym-a/sessions?range=7d');
    await phone.byTestId('session-row').first().waitFor();
    expect(await phone.byTestId('range-7d').getAttribute('aria-pressed')).toBe('true');
    // The distance column is hidden at this width: a live row says its distance beside its time, as tiles do.
    const fleet = await fixture.api<{ treadmills: TreadmillView[] }>('/gyms/gym-a/treadmills');
    const [live] = fleet.treadmills.flatMap((t) => (t.session ? [t.session] : []));
    if (live) {
      const row = phone.page.locator(`[data-testid="session-row"][data-session-id="${live.sessionId}"]`);
      expect(await row.locator('[data-testid="session-distance"]').isVisible()).toBe(false);
      expect(await row.locator('[data-testid="session-duration"]').innerText()).toContain(
        `· ${distanceText(live.distanceM)}`,
      );
    }
    const overflow = await phone.page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await phone.accessibilityViolations()).toEqual([]);
    await phone.screenshot(`${SCREENSHOTS}/sessions-phone.png`);
    await operator.open('#/g/gym-a/sessions?range=7d');
    await operator.byTestId('session-row').first().waitFor();
    expect(await operator.accessibilityViolations()).toEqual([]);
    await operator.screenshot(`${SCREENSHOTS}/sessions-desktop.png`);
  });
});
