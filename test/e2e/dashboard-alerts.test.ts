/**
 * Alerts people can act on (issue 13 point 7) in Chromium, at desktop and phone width: severity shown as text
 * and used to filter and sort, several alerts acknowledged in one action, a snooze shown on the alert, and a
 * refresh that keeps focus where the operator is, and the gym's thresholds set from the page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertItem, AlertSignal } from '../../shared/src/alerts/index.js';
import { type DashboardFixture, startDashboardFixture } from '../support/dashboard-fixture.js';
import type { DashboardPage, VIEWPORTS } from '../support/dashboard-driver.js';

const raise = (treadmillId: string, extra: Partial<AlertSignal>): AlertSignal => ({
  gymId: 'gym-a',
  treadmillId,
  kind: 'backward_overspeed',
  action: 'raise',
  severity: 'warning',
  ts: Date.now(),
  message: 'seeded by the test',
  ...extra,
});

describe.each(['desktop', 'phone'] as const satisfies ReadonlyArray<keyof typeof VIEWPORTS>)(
  'alert triage in Chromium (%s)',
  (viewport) => {
    let fixture: DashboardFixture;
    let page: DashboardPage;
    const openAlerts = async () =>
      (await fixture.api<{ alerts: AlertItem[] }>('/gyms/gym-a/alerts?status=open')).alerts;

    beforeAll(async () => {
      fixture = await startDashboardFixture({ minutes: 5 });
      // One of each severity, whatever the simulator raised.
      await fixture.processing.alerts.apply([
        raise('tm-01', { kind: 'safety_stop', severity: 'critical' }),
        raise('tm-02', { kind: 'backward_overspeed', severity: 'warning' }),
        raise('tm-03', { kind: 'maintenance_due', severity: 'info' }),
      ]);
      page = await fixture.page(viewport, 'operatorA');
      await page.tiles();
      await page.openAlerts();
    });

    afterAll(async () => {
      await fixture?.stop();
    });

    const cards = () =>
      page.page.$$eval('[data-testid="alert-item"]', (elements) =>
        elements.map((element) => ({
          severity: element.getAttribute('data-severity') ?? '',
          text: element.querySelector('[data-testid="alert-severity"]')?.textContent ?? '',
          kind: element.getAttribute('data-kind') ?? '',
          treadmillId: element.getAttribute('data-treadmill-id') ?? '',
        })),
      );

    it('shows each severity in words, most severe first, and filters by it', async () => {
      const shown = await cards();
      const words: Record<string, string> = { critical: 'Critical', warning: 'Warning', info: 'Info' };
      expect(shown.map((card) => card.text)).toEqual(shown.map((card) => words[card.severity]));
      const rank = { critical: 2, warning: 1, info: 0 } as Record<string, number>;
      const ranks = shown.map((card) => rank[card.severity] ?? -1);
      expect(ranks).toEqual(ranks.toSorted((a, b) => b - a));
      expect(shown.find((card) => card.kind === 'safety_stop')?.severity).toBe('critical');

      await page.byTestId('alerts-severity').selectOption('critical');
      await expect.poll(async () => (await cards()).every((card) => card.severity === 'critical')).toBe(true);
      expect((await cards()).length).toBeGreaterThan(0);
      await page.byTestId('alerts-severity').selectOption('all');
      await expect.poll(async () => (await cards()).some((card) => card.severity === 'info')).toBe(true);
    });

    it('keeps focus and the selection on a refresh', async () => {
      const box = page.page.locator('[data-testid="alert-select"]').first();
      await box.check();
      await box.focus();
      const ref = await box.getAttribute('data-select');
      // The view polls every few seconds; new data makes it redraw what changed.
      // Two polls of the view (at most every 2 s), with new data in between.
      for (let i = 0; i < 2; i++) {
        await fixture.gyms.advanceTo(Date.now());
        await page.page.waitForResponse((response) => response.url().includes('/alerts?status=open'));
      }
      expect(await page.page.locator(':focus').getAttribute('data-select')).toBe(ref);
      expect(await box.isChecked()).toBe(true);
      await box.uncheck();
    });

    it('acknowledges several selected alerts in one action', async () => {
      // The safety stop is left for the snooze below.
      const open = (await openAlerts()).filter(
        (alert) => alert.status === 'open' && alert.kind !== 'safety_stop',
      );
      const chosen = open.slice(0, 2);
      expect(chosen.length).toBe(2);
      for (const alert of chosen)
        await page.page
          .locator(`[data-testid="alert-select"][data-select="${alert.treadmillId}:${alert.kind}"]`)
          .check();
      await expect
        .poll(() => page.byTestId('alerts-ack-selected').textContent())
        .toBe('Acknowledge selected (2)');
      await page.byTestId('alerts-ack-selected').click();
      for (const alert of chosen)
        await page.page
          .locator(`[data-testid="alert-item"][data-alert-id="${alert.alertId}"]`)
          .waitFor({ state: 'detached' });
      const after = await fixture.api<{ alerts: AlertItem[] }>('/gyms/gym-a/alerts?status=acknowledged');
      expect(after.alerts.map((alert) => alert.alertId)).toEqual(
        expect.arrayContaining(chosen.map((alert) => alert.alertId)),
      );
    });

    it('snoozes an alert for an hour, and shows it as snoozed', async () => {
      const card = page.page.locator('[data-testid="alert-item"][data-kind="safety_stop"]').first();
      await card.locator('[data-testid="alert-snooze"]').selectOption('60:alert');
      await page.page.waitForSelector(
        '[data-testid="alert-item"][data-kind="safety_stop"][data-snoozed="true"]',
      );
      expect(await card.textContent()).toContain('Snoozed until');
      const stored = await fixture.processing.alerts.get({
        gymId: 'gym-a',
        treadmillId: 'tm-01',
        kind: 'safety_stop',
      });
      expect(stored?.snoozedUntil).toBeGreaterThan(Date.now() + 55 * 60_000);
      expect(stored?.snoozedBy).toBe('operator-a');
    });

    it("sets the gym's thresholds from the page, within their bounds", async () => {
      const thresholds = async () =>
        (await fixture.api<{ thresholds: Record<string, number> }>('/gyms/gym-a/alert-thresholds'))
          .thresholds;
      await page.byTestId('thresholds').locator('summary').click();
      await page.byTestId('threshold-motorTempMaxC').fill('85');
      await page.byTestId('thresholds-save').click();
      await expect.poll(() => page.byTestId('thresholds-status').textContent()).toContain('Saved');
      expect((await thresholds()).motorTempMaxC).toBe(85);

      // Out of bounds: refused with the API's reason, nothing stored.
      await page.byTestId('threshold-motorTempMaxC').fill('200');
      await page.byTestId('thresholds-save').click();
      await expect.poll(() => page.byTestId('thresholds-status').textContent()).toContain('Not saved');
      expect(await page.byTestId('thresholds-status').textContent()).toContain('motorTempMaxC');
      expect((await thresholds()).motorTempMaxC).toBe(85);
    });

    it('has no serious accessibility violation', async () => {
      expect(await page.accessibilityViolations()).toEqual([]);
    });
  },
);
