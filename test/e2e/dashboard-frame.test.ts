/**
 * The dashboard's frame and shared parts in Chromium, each at desktop (1280) and phone (390) width: live
 * refresh in place (focus stays where the keyboard put it, only a status line is live), the charts' ticks and
 * cursor legend, the session page showing all the API has, deep links through sign-in and the session shared
 * by tabs, one time format, and the small things (top bar at 768 px, unknown session, empty outbox, calorie
 * notes in plain words).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionItemView } from '../../functions/api/views.js';
import type { SessionSummary } from '../../shared/src/metrics/session.js';
import { evaluateOfflineAlert } from '../../shared/src/alerts/rules.js';
import { DashboardPage, VIEWPORTS } from '../support/dashboard-driver.js';
import { type DashboardFixture, startDashboardFixture, USERS } from '../support/dashboard-fixture.js';

/** The page's globals inside `evaluate` callbacks (this project has no DOM lib). */
declare const document: {
  activeElement: unknown;
  querySelector(selector: string): FakeElement | null;
  querySelectorAll(selector: string): Iterable<FakeElement>;
};
declare const window: Record<string, unknown>;
interface FakeElement {
  focus(): void;
  isConnected: boolean;
  textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { top: number; height: number; left: number; width: number };
  children: Iterable<FakeElement>;
}

const SIZES = Object.keys(VIEWPORTS) as Array<keyof typeof VIEWPORTS>;
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

interface Detail {
  session: SessionItemView;
  summary: SessionSummary | null;
}

describe('dashboard frame in Chromium', () => {
  let fixture: DashboardFixture;
  /** An ended session of gym A, one with backward strides when there is one (an interval session). */
  let ended: SessionSummary;

  beforeAll(async () => {
    fixture = await startDashboardFixture({ minutes: 25 });
    const { sessions } = await fixture.api<{ sessions: SessionItemView[] }>('/gyms/gym-a/sessions?limit=100');
    const summaries: SessionSummary[] = [];
    for (const item of sessions.filter((s) => s.status === 'ended')) {
      const detail = await fixture.api<Detail>(`/gyms/gym-a/sessions/${encodeURIComponent(item.sessionId)}`);
      if (detail.summary) summaries.push(detail.summary);
    }
    const best =
      summaries.find((s) => s.balance.backward.score !== null && s.balance.forward.strides > 0) ??
      summaries.find((s) => s.balance.backward.strides > 0) ??
      summaries.find((s) => s.backward.movingS > 0) ??
      summaries[0];
    if (!best) throw new Error('the simulator ended no session in gym A');
    ended = best;
  });

  afterAll(async () => {
    await fixture?.stop();
  });

  /** Remembers the focused element in the page, to ask later whether it is still the focused one. */
  const rememberFocus = (page: Page) =>
    page.evaluate(() => {
      window.remembered = document.activeElement;
    });
  const focusIsRemembered = (page: Page) =>
    page.evaluate(() => {
      const element = window.remembered as FakeElement | undefined;
      return element !== undefined && element.isConnected && document.activeElement === element;
    });

  /** Waits for `count` refreshes that changed some tile, with new simulated data before each. */
  async function refreshesWithNewData(dashboard: DashboardPage, count: number) {
    let tiles = await dashboard.tiles();
    for (let i = 0; i < count; i++) {
      await fixture.gyms.advanceTo(Date.now());
      tiles = await dashboard.waitForTileChange(tiles);
    }
  }

  describe.each(SIZES)('at %s width', (size) => {
    it('keeps a focused tile focused across refreshes with new data; only a status line is live', async () => {
      const dashboard = await fixture.page(size, 'operatorA');
      await dashboard.tiles();
      const target = dashboard.byTestId('treadmill-tile').nth(2);
      await target.focus();
      await rememberFocus(dashboard.page);
      const focusedId = await target.getAttribute('data-treadmill-id');

      await refreshesWithNewData(dashboard, 2);

      expect(await focusIsRemembered(dashboard.page)).toBe(true);
      expect(
        await dashboard.page.evaluate(() =>
          (document.activeElement as FakeElement).getAttribute('data-treadmill-id'),
        ),
      ).toBe(focusedId);
      // One live region, and it is the short status line, not the view.
      const live = await dashboard.page.$$eval('[aria-live], [role="status"], [role="alert"]', (els) =>
        els.map((el) => el.getAttribute('data-testid') ?? el.tagName),
      );
      expect(live.filter((id) => id !== 'login-error')).toEqual(['live-status']);
      expect(
        await dashboard.byTestId('live-status').evaluate((el) => el.textContent?.length ?? 0),
      ).toBeLessThan(200);
    });

    it('announces a treadmill going offline in the status line', async () => {
      const dashboard = await fixture.page(size, 'operatorA');
      const tiles = await dashboard.tiles();
      const changed = tiles[0]?.treadmillId ?? '';
      // The page's own poll sees this treadmill go offline; the tile updates and the line says so.
      await dashboard.page.route('**/api/gyms/gym-a/treadmills', async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as {
          treadmills: Array<{ treadmillId: string; status: string }>;
        };
        for (const treadmill of body.treadmills)
          if (treadmill.treadmillId === changed) treadmill.status = 'offline';
        await route.fulfill({ response, json: body });
      });
      await dashboard.page.waitForFunction(
        (id) =>
          document.querySelector('[data-testid="live-status"]')?.textContent?.includes(`${id} went offline`),
        changed,
      );
      expect(
        await dashboard.page
          .locator(`[data-testid="treadmill-tile"][data-treadmill-id="${changed}"]`)
          .getAttribute('data-status'),
      ).toBe('offline');
    });

    it('keeps Acknowledge focused across refreshes of the alerts', async () => {
      // An open alert that nothing in the simulation clears (no sweeper runs here).
      const lastSeenTs = Date.now() - 10 * 60_000;
      await fixture.processing.alerts.apply([
        {
          gymId: 'gym-a',
          treadmillId: `tm-focus-${size}`,
          kind: 'offline',
          action: 'raise',
          severity: 'warning',
          ts: Date.now(),
          message: 'Treadmill silent during opening hours',
          detail: { lastSeenTs },
        },
      ]);
      const dashboard = await fixture.page(size, 'operatorA');
      await dashboard.tiles();
      await dashboard.openAlerts();
      const ack = dashboard.byTestId('alert-ack').first();
      await ack.focus();
      await rememberFocus(dashboard.page);
      // Two polls of the alerts view (at most every 2 s), with new data in between.
      for (let i = 0; i < 2; i++) {
        await fixture.gyms.advanceTo(Date.now());
        await dashboard.page.waitForResponse((response) => response.url().includes('/alerts?status=open'));
      }
      expect(await focusIsRemembered(dashboard.page)).toBe(true);
    });

    it('titles every page and marks the current one in the nav', async () => {
      const dashboard = await fixture.page(size);
      await dashboard.open('#/login');
      await dashboard.byTestId('login-form').waitFor();
      expect(await dashboard.page.title()).toBe('Sign in · Retrostride');
      await dashboard.login(USERS.operatorA.username, USERS.operatorA.password);
      await dashboard.tiles();
      expect(await dashboard.page.title()).toBe('Fleet · Gym A · Retrostride');
      for (const [tab, title] of [
        ['sessions', 'Sessions'],
        ['alerts', 'Alerts'],
        ['outbox', 'Outbox'],
      ] as const) {
        await dashboard.open(`#/g/gym-a/${tab}`);
        await dashboard.page.waitForFunction(
          (want) => document.querySelector('[aria-current="page"]')?.getAttribute('data-testid') === want,
          `nav-${tab}`,
        );
        expect(await dashboard.page.title()).toBe(`${title} · Gym A · Retrostride`);
        expect(await dashboard.page.locator('nav [aria-current="page"]').count()).toBe(1);
      }
    });

    it('shows the session with both directions side by side and everything the API has', async () => {
      const dashboard = await fixture.page(size, 'operatorA');
      await dashboard.tiles();
      await dashboard.open(`#/g/gym-a/sessions/${encodeURIComponent(ended.sessionId)}`);
      await dashboard.byTestId('session-view').waitFor();
      const value = (id: string) => dashboard.byTestId(id).getAttribute('data-value');
      for (const direction of ['forward', 'backward'] as const) {
        const score = ended.balance[direction];
        expect(await value(`balance-${direction}-score`)).toBe(
          score.score === null ? '' : String(score.score),
        );
        expect(await value(`balance-${direction}-strides`)).toBe(String(score.strides));
        expect(await value(`split-${direction}-speed`)).toBe(
          ended[direction].meanSpeedKmh === null ? '' : String(ended[direction].meanSpeedKmh),
        );
        expect(
          await dashboard.page
            .locator(`[data-testid="balance-${direction}"] [data-testid="balance-component"]`)
            .count(),
        ).toBe(score.components.length);
      }
      expect(await value('elevation-gain')).toBe(String(ended.elevationGainM));
      expect(await value('stumbles')).toBe(String(ended.stumbles));
      expect(await value('safety-stops')).toBe(String(ended.safetyStops));
      expect(await value('session-member')).toBe(ended.userToken ?? '');
      // Side by side on a desktop: the two columns share a row; stacked on a phone is fine too, both shown.
      const [forwardBox, backwardBox] = await Promise.all(
        ['split-forward', 'split-backward'].map((id) => dashboard.byTestId(id).boundingBox()),
      );
      expect(forwardBox && backwardBox).toBeTruthy();
      if (size === 'desktop') expect(forwardBox?.y).toBe(backwardBox?.y);
      // Calorie notes in plain words, never a reason code.
      const notes = await dashboard.page.$$eval('[data-testid="calorie-notes"] li', (items) =>
        items.map((item) => item.textContent ?? ''),
      );
      expect(notes).toHaveLength(ended.calories.reasons.length);
      for (const note of notes) expect(note).not.toMatch(/_|keytel|^Hr /i);
    });

    it("draws the timeline with uPlot's spacing: no overlapping time labels, several incline ticks, values on hover", async () => {
      const dashboard = await fixture.page(size, 'operatorA');
      await dashboard.tiles();
      await dashboard.open(`#/g/gym-a/sessions/${encodeURIComponent(ended.sessionId)}`);
      await dashboard.page.waitForSelector('[data-testid="chart-incline"][data-ticks]');
      const ticks = async (chart: string) =>
        JSON.parse((await dashboard.byTestId(`chart-${chart}`).getAttribute('data-ticks')) ?? '[]') as Array<
          Array<{ label: string; px: number }>
        >;
      for (const chart of ['speed', 'incline', 'hr']) {
        const [x = [], y = []] = await ticks(chart);
        expect(x.length).toBeGreaterThan(1);
        // Each label fits before the next one starts (12 px font: at most 7.5 px a character).
        for (let i = 1; i < x.length; i++) {
          const previous = x[i - 1];
          const current = x[i];
          if (!previous || !current) continue;
          expect(current.px - previous.px).toBeGreaterThan(previous.label.length * 7.5);
        }
        for (const tick of x) expect(tick.label).toMatch(/^\d{2}:\d{2}(:\d{2})?$/);
        expect(new Set(y.map((tick) => tick.label)).size).toBeGreaterThanOrEqual(3);
      }
      const speed = dashboard.byTestId('chart-speed');
      await speed.scrollIntoViewIfNeeded();
      const box = await speed.boundingBox();
      if (!box) throw new Error('no speed chart');
      await dashboard.page.mouse.move(box.x + box.width / 2, box.y + box.height / 3);
      await dashboard.page.waitForFunction(() =>
        [...document.querySelectorAll('[data-testid="chart-speed"] .u-legend .u-value')].some((cell) =>
          /km\/h$/.test(cell.textContent ?? ''),
        ),
      );
      expect(await dashboard.byTestId('chart-speed-summary').textContent()).toMatch(/^Speed .* km\/h/);
    });

    it('lands on the deep link after signing in, and a new tab shares the session until sign-out', async () => {
      const dashboard = await fixture.page(size);
      const link = `#/g/gym-a/sessions/${encodeURIComponent(ended.sessionId)}`;
      await dashboard.open(link);
      await dashboard.byTestId('login-form').waitFor();
      await dashboard.byTestId('login-username').fill(USERS.operatorA.username);
      await dashboard.byTestId('login-password').fill(USERS.operatorA.password);
      await dashboard.byTestId('login-submit').click();
      await dashboard.byTestId('session-view').waitFor();
      expect(new URL(dashboard.page.url()).hash).toBe(link);

      const tab = new DashboardPage(await dashboard.page.context().newPage(), fixture.server.url);
      await tab.open('#/g/gym-a/fleet');
      expect((await tab.tiles()).length).toBeGreaterThan(0);

      await dashboard.byTestId('logout').click();
      await dashboard.byTestId('login-form').waitFor();
      // The other tab hears of it and asks to sign in again.
      await tab.byTestId('login-form').waitFor();
    });

    it('forgets an expired token', async () => {
      const dashboard = await fixture.page(size, 'operatorA');
      await dashboard.tiles();
      await dashboard.page.evaluate(() => {
        const storage = window.localStorage as { setItem(key: string, value: string): void };
        storage.setItem('retrostride.session', JSON.stringify({ token: 'old', expiresAt: Date.now() - 1 }));
      });
      await dashboard.page.reload();
      await dashboard.byTestId('login-form').waitFor();
      expect(
        await dashboard.page.evaluate(() =>
          (window.localStorage as { getItem(key: string): string | null }).getItem('retrostride.session'),
        ),
      ).toBeNull();
    });

    it('says an unknown session is not found, with the way back; an empty outbox says so', async () => {
      const dashboard = await fixture.page(size, 'operatorA');
      await dashboard.tiles();
      await dashboard.open('#/g/gym-a/sessions/no-such-session');
      await dashboard.byTestId('session-not-found').waitFor();
      expect(await dashboard.byTestId('error').count()).toBe(0);
      await dashboard.byTestId('session-back').click();
      await dashboard.page.waitForURL(/#\/g\/gym-a\/sessions$/);

      await dashboard.open('#/g/gym-a/outbox');
      await dashboard.byTestId('outbox-empty').waitFor();
      expect(await dashboard.byTestId('outbox-preview').count()).toBe(0);
    });
  });

  it('keeps the top bar on one line at 768 px', async () => {
    const dashboard = new DashboardPage(
      await fixture.chromium.page({ width: 768, height: 1024 }),
      fixture.server.url,
    );
    await dashboard.login(USERS.operatorA.username, USERS.operatorA.password);
    await dashboard.tiles();
    const rows = await dashboard.byTestId('topbar').evaluate((bar) =>
      [...(bar as unknown as FakeElement).children].map((child) => {
        const rect = child.getBoundingClientRect();
        return Math.round(rect.top + rect.height / 2);
      }),
    );
    expect(Math.max(...rows) - Math.min(...rows)).toBeLessThanOrEqual(4);
  });

  it('writes the offline alert without an ISO time, and the dashboard formats its time', async () => {
    const lastSeenTs = Date.UTC(2026, 11, 6, 9, 30);
    const signal = evaluateOfflineAlert({
      gymId: 'gym-a',
      treadmillId: 'tm-01',
      offline: true,
      lastSeenTs,
      // 10:30 UTC: inside the default opening hours (06-22 Berlin time).
      now: lastSeenTs + 3_600_000,
    });
    expect(signal?.message).toBeDefined();
    expect(signal?.message).not.toMatch(ISO_TIME);

    const dashboard = await fixture.page('desktop', 'operatorA');
    await dashboard.tiles();
    // A string, so that the test runner leaves the page's own dynamic import alone.
    const shown = (await dashboard.page.evaluate(`(async () => {
      const format = await import('/js/format.js');
      return {
        old: format.alertMessage({
          kind: 'offline',
          message: 'Treadmill silent since 2026-12-06T09:30:00.000Z during opening hours',
          detail: { lastSeenTs: ${lastSeenTs} },
        }),
        dateTime: format.dateTime(${lastSeenTs}),
      };
    })()`)) as { old: string; dateTime: string };
    expect(shown.old).not.toMatch(ISO_TIME);
    expect(shown.old).toContain(shown.dateTime);
  });
});
