/**
 * The dashboard end to end in real headless Chromium: a seeded simulator's MQTT messages go through the
 * gateway's parser and stamper into the real ingest handler (dynalite), the local api-server serves the
 * dashboard and the real API handler, and the browser signs in and looks.
 *
 * Screenshots (1280x800 and phone width) go to test/e2e/screenshots/. With UPDATE_DOCS_SCREENSHOT=1 each
 * operator page's desktop screenshot is also copied to docs/dashboard-<page>.png, and the fleet overview to
 * docs/dashboard.png for the README.
 */
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TreadmillView } from '../../functions/api/views.js';
import type { SessionSummary } from '../../shared/src/metrics/session.js';
import { type DashboardFixture, startDashboardFixture } from '../support/dashboard-fixture.js';
import { DashboardPage, VIEWPORTS } from '../support/dashboard-driver.js';

const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const DOCS_SCREENSHOT = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));

/** As the dashboard formats them (functions/dashboard/js/format.js). */
const minutesText = (seconds: number) => `${(seconds / 60).toFixed(1)} min`;
const integerText = (value: number) => Math.round(value).toLocaleString('en-GB');

describe('fleet dashboard in Chromium', () => {
  let fixture: DashboardFixture;
  let operatorA: DashboardPage;
  const api = <T>(path: string) => fixture.api<T>(path);

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    // Sessions long enough for an interval program to walk both ways (its phases last 3 minutes).
    fixture = await startDashboardFixture({ minutes: 20, sessionMinutes: [4, 8] });
    operatorA = await fixture.page('desktop');
  });

  afterAll(async () => {
    await fixture?.stop();
  });

  it('refuses a wrong password', async () => {
    const page = await fixture.page();
    await page.login('operator-a', 'not-the-password');
    expect(await page.loginError()).toContain('wrong username or password');
  });

  it("shows operator A every treadmill of gym A and none of gym B's", async () => {
    await operatorA.login('operator-a', 'retro-a');
    const tiles = await operatorA.tiles();
    const fleet = await fixture.processing.fleet.listGym('gym-a');
    expect(tiles.map((tile) => `${tile.gymId}/${tile.treadmillId}`)).toEqual(
      fleet.map((record) => `gym-a/${record.state.treadmillId}`),
    );
    expect(tiles).toHaveLength(6);
    expect(await operatorA.byTestId('gym-select').isVisible()).toBe(false);
    // Neither the API nor the page's router gives gym B away.
    expect(await operatorA.apiStatus('/api/gyms/gym-b/treadmills')).toBe(403);
    await operatorA.open('#/g/gym-b/fleet');
    await operatorA.page.waitForURL(/#\/g\/gym-a\/fleet$/);
    expect((await operatorA.tiles()).every((tile) => tile.gymId === 'gym-a')).toBe(true);
  });

  it("shows operator B gym B's treadmills, and the researcher only the research page", async () => {
    const operatorB = await fixture.page();
    await operatorB.login('operator-b', 'retro-b');
    const tiles = await operatorB.tiles();
    expect(tiles.length).toBe(6);
    expect(tiles.every((tile) => tile.gymId === 'gym-b')).toBe(true);

    const researcher = await fixture.page();
    await researcher.login('researcher', 'retro-r');
    await researcher.byTestId('research-view').waitFor();
    expect(await researcher.byTestId('nav-fleet').count()).toBe(0);
    expect(await researcher.apiStatus('/api/gyms/gym-a/treadmills')).toBe(403);
  });

  it('updates the tiles by itself as new data arrives', async () => {
    const before = await operatorA.tiles();
    await fixture.gyms.advanceTo(Date.now());
    const after = await operatorA.waitForTileChange(before);
    const fleet = await api<{ treadmills: TreadmillView[] }>('/gyms/gym-a/treadmills');
    const lastSeen = Object.fromEntries(fleet.treadmills.map((t) => [t.treadmillId, String(t.lastSeenTs)]));
    expect(after.some((tile) => tile.lastSeen === lastSeen[tile.treadmillId])).toBe(true);
  });

  it('acknowledges an open alert: it leaves the open list and shows as acknowledged', async () => {
    // A safety stop stays open until someone looks (the simulated members' own alerts end with their sessions).
    await fixture.processing.alerts.apply([
      {
        gymId: 'gym-a',
        treadmillId: 'tm-01',
        kind: 'safety_stop',
        action: 'raise',
        severity: 'critical',
        ts: Date.now(),
        message: 'Safety key pulled',
      },
    ]);
    const open = await operatorA.openAlerts();
    expect(open.length).toBeGreaterThan(0);
    const alertId = open[0] ?? '';
    await operatorA.acknowledge(alertId);
    expect(await operatorA.acknowledgedAlerts()).toContain(alertId);
    const stored = (await fixture.processing.alerts.listOpen('gym-a')).find(
      (alert) => alert.alertId === alertId,
    );
    expect(stored).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'operator-a' });
  });

  it('shows a finished session with the split, calories and balance score the API returns', async () => {
    const sessions = await operatorA.sessions();
    const ended = sessions.find((session) => session.status === 'ended');
    expect(ended).toBeDefined();
    const sessionId = ended?.sessionId ?? '';
    const shown = await operatorA.sessionFigures(sessionId);
    const { summary } = await api<{ summary: SessionSummary }>(
      `/gyms/gym-a/sessions/${encodeURIComponent(sessionId)}`,
    );

    expect(Number(shown.forwardTime.value)).toBe(summary.forward.movingS);
    expect(Number(shown.backwardTime.value)).toBe(summary.backward.movingS);
    expect(Number(shown.forwardDistance.value)).toBe(summary.forward.distanceM);
    expect(Number(shown.backwardDistance.value)).toBe(summary.backward.distanceM);
    expect(shown.forwardTime.text).toBe(minutesText(summary.forward.movingS));
    expect(shown.backwardTime.text).toBe(minutesText(summary.backward.movingS));

    expect(Number(shown.kcal.value)).toBe(summary.calories.kcal);
    expect(shown.kcal.text).toBe(integerText(summary.calories.kcal));
    expect(shown.calorieModel.value).toBe(summary.calories.model);

    const { score, direction } = summary.balance;
    expect(score).not.toBeNull();
    expect(Number(shown.balanceScore.value)).toBe(score);
    expect(shown.balanceScore.text).toBe(integerText(score ?? Number.NaN));
    const main = summary.balance[direction ?? 'forward'];
    expect(shown.components).toEqual(
      main.components.map((c) => ({
        name: c.name,
        subScore: c.subScore === null ? '' : String(c.subScore),
      })),
    );
  });

  it('saves screenshots at 1280x800 and at phone width', async () => {
    const tiles = await fixture.processing.fleet.listGym('gym-a');
    const busy = tiles.find((record) => record.state.session !== null) ?? tiles[0];
    // The session page's screenshot shows both directions, as the product is about walking backwards.
    const ended = (await fixture.processing.sessions.listByGym('gym-a', { limit: 50 })).filter(
      (s) => s.status === 'ended',
    );
    const session = ended.find((s) => (s.forwardS ?? 0) > 0 && (s.backwardS ?? 0) > 0) ?? ended[0];
    const views = [
      ['fleet', '#/g/gym-a/fleet', 'fleet-view'],
      ['treadmill', `#/g/gym-a/treadmills/${busy?.state.treadmillId}`, 'treadmill-view'],
      ['sessions', '#/g/gym-a/sessions', 'session-row'],
      ['session', `#/g/gym-a/sessions/${encodeURIComponent(session?.sessionId ?? '')}`, 'session-view'],
      ['alerts', '#/g/gym-a/alerts', 'alerts-view'],
      ['utilisation', '#/g/gym-a/utilisation', 'utilisation'],
      ['outbox', '#/g/gym-a/outbox', 'outbox-empty'],
    ] as const;
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      const dashboard = new DashboardPage(await fixture.chromium.page(viewport), fixture.server.url);
      await dashboard.open('#/login');
      await dashboard.byTestId('login-form').waitFor();
      await dashboard.screenshot(`${SCREENSHOTS}login-${size}.png`);
      await dashboard.login('operator-a', 'retro-a');
      await dashboard.tiles();
      for (const [name, hash, ready] of views) {
        await dashboard.open(hash);
        await dashboard.byTestId(ready).first().waitFor();
        const path = `${SCREENSHOTS}${name}-${size}.png`;
        await dashboard.screenshot(path);
        expect((await stat(path)).size).toBeGreaterThan(10_000);
      }
    }
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
      await mkdir(fileURLToPath(new URL('../../docs/', import.meta.url)), { recursive: true });
      await copyFile(`${SCREENSHOTS}fleet-desktop.png`, DOCS_SCREENSHOT);
      for (const name of ['login', ...views.map(([view]) => view)])
        await copyFile(
          `${SCREENSHOTS}${name}-desktop.png`,
          fileURLToPath(new URL(`../../docs/dashboard-${name}.png`, import.meta.url)),
        );
    }
  });
});
