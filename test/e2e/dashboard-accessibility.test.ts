/**
 * axe-core on every page of the dashboard, at desktop and phone width: no serious or critical violation
 * (contrast below WCAG AA, missing names and labels, broken ARIA, ...). The runner is the driver's
 * `accessibilityViolations`, so other browser tests can check the pages they open too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionItemView } from '../../functions/api/views.js';
import { VIEWPORTS } from '../support/dashboard-driver.js';
import { type DashboardFixture, startDashboardFixture, type UserName } from '../support/dashboard-fixture.js';

const SIZES = Object.keys(VIEWPORTS) as Array<keyof typeof VIEWPORTS>;

describe('accessibility of every dashboard page (axe-core)', () => {
  let fixture: DashboardFixture;
  /** [page name, user (none: signed out), route, test id shown when it is drawn] */
  let pages: Array<[string, UserName | null, string, string]>;

  beforeAll(async () => {
    fixture = await startDashboardFixture();
    const { sessions } = await fixture.api<{ sessions: SessionItemView[] }>('/gyms/gym-a/sessions');
    const ended = sessions.find((session) => session.status === 'ended');
    if (!ended) throw new Error('the simulator ended no session in gym A');
    const treadmillId = ended.treadmillId;
    pages = [
      ['login', null, '#/login', 'login-form'],
      ['fleet', 'operatorA', '#/g/gym-a/fleet', 'treadmill-tile'],
      ['treadmill', 'operatorA', `#/g/gym-a/treadmills/${treadmillId}`, 'treadmill-view'],
      ['sessions', 'operatorA', '#/g/gym-a/sessions', 'session-row'],
      ['session', 'operatorA', `#/g/gym-a/sessions/${encodeURIComponent(ended.sessionId)}`, 'session-view'],
      ['alerts', 'operatorA', '#/g/gym-a/alerts', 'alerts-view'],
      ['utilisation', 'operatorA', '#/g/gym-a/utilisation', 'utilisation'],
      ['outbox', 'operatorA', '#/g/gym-a/outbox', 'outbox-empty'],
      ['research', 'researcher', '#/g/gym-a/research', 'research-view'],
    ];
  });

  afterAll(async () => {
    await fixture?.stop();
  });

  it('reports what it should: faint text and an unlabelled field on a page are found', async () => {
    const dashboard = await fixture.page('desktop');
    await dashboard.open('#/login');
    await dashboard.byTestId('login-form').waitFor();
    // The old offline label (#b3bcc8 on #f1f3f6, 1.73:1) and a field without a label.
    await dashboard.page.evaluate(`(() => {
      const faint = document.createElement('span');
      faint.textContent = 'Offline';
      faint.style.color = '#b3bcc8';
      faint.style.background = '#f1f3f6';
      const field = document.createElement('input');
      document.querySelector('[data-testid="login-form"]').append(faint, field);
    })()`);
    const violations = await dashboard.accessibilityViolations();
    expect(violations.some((line) => line.startsWith('color-contrast (serious)'))).toBe(true);
    expect(violations.some((line) => line.startsWith('label (critical)'))).toBe(true);
  });

  it.each(SIZES)('finds no serious or critical violation at %s width', async (size) => {
    const signedIn = new Map<UserName, Awaited<ReturnType<DashboardFixture['page']>>>();
    const found: Record<string, string[]> = {};
    for (const [name, user, route, ready] of pages) {
      let dashboard = user ? signedIn.get(user) : undefined;
      if (!dashboard) {
        dashboard = await fixture.page(size, user ?? undefined);
        if (user) signedIn.set(user, dashboard);
      }
      // Signed in: wait for the landing page before going to the route.
      if (user) await dashboard.page.waitForURL(/#\/g\//);
      await dashboard.open(route);
      await dashboard.byTestId(ready).first().waitFor();
      const violations = await dashboard.accessibilityViolations();
      if (violations.length > 0) found[name] = violations;
    }
    expect(found).toEqual({});
  });
});
