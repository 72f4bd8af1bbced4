/**
 * The researcher's page in Chromium (issue 13 point 9): signed in as the researcher, the page shows the
 * privacy rules, a by-week trend with its table, and runs the research export through POST /api/exports,
 * showing its manifest and links that download. The rollups hold three weeks that have ended (gym-b below k
 * in one of them); the simulator's live traffic is in the week still running.
 *
 * Screenshots go to test/e2e/screenshots/; with UPDATE_DOCS_SCREENSHOT=1 the desktop page also goes to
 * docs/research.png for the README.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RollupsRepo } from '../../functions/lib/rollups-repo.js';
import { parseCsv } from '../../shared/src/csv.js';
import { isoWeekKey, lastCompleteWeek, shiftWeek, weekStartTs } from '../../shared/src/iso-week.js';
import { ageBand } from '../../shared/src/metrics/rollups.js';
import type { DashboardPage } from '../support/dashboard-driver.js';
import { type DashboardFixture, startDashboardFixture } from '../support/dashboard-fixture.js';
import { walkedSession } from '../support/rollup-fixtures.js';

const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const DOCS_SCREENSHOT = fileURLToPath(new URL('../../docs/research.png', import.meta.url));

interface ResearchCell {
  members: number;
  sessions: number;
}
interface ResearchUtilisation {
  minCell: number;
  weeks: Array<{ week: string; all: ResearchCell | null }>;
}

describe("the researcher's page in Chromium", () => {
  let fixture: DashboardFixture;
  let exportsDir: string;
  let researcher: DashboardPage;
  const now = Date.now();
  const lastEnded = lastCompleteWeek(now);
  /** Members per gym in each of the three last ended weeks, oldest first: gym-b is below k = 11 in the middle one. */
  const seeded = [
    { week: shiftWeek(lastEnded, -2), members: { 'gym-a': 14, 'gym-b': 12 } },
    { week: shiftWeek(lastEnded, -1), members: { 'gym-a': 14, 'gym-b': 6 } },
    { week: lastEnded, members: { 'gym-a': 16, 'gym-b': 12 } },
  ];

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    exportsDir = await mkdtemp(join(tmpdir(), 'retrostride-research-page-'));
    fixture = await startDashboardFixture({ minutes: 3, exportsDir });
    const rollups = new RollupsRepo(fixture.kit.dynamo.doc, fixture.kit.tables.rollups);
    for (const { week, members } of seeded) {
      const monday = weekStartTs(week);
      for (const [gymId, count] of Object.entries(members)) {
        for (let n = 1; n <= count; n++) {
          const startTs = monday + 86_400_000 + n * 900_000;
          const session = walkedSession({
            gymId,
            userToken: `${gymId}-member-${n}`,
            startTs,
            forwardS: 120 + n,
            backwardS: n % 3 === 0 ? 0 : 60,
          });
          await rollups.addSession(session, {
            ageBand: ageBand(1960 + n, startTs),
            sex: n % 2 === 0 ? 'female' : 'male',
          });
        }
      }
    }
    researcher = await fixture.page('desktop', 'researcher');
  });

  afterAll(async () => {
    await fixture?.stop();
    await rm(exportsDir, { recursive: true, force: true });
  });

  it('lands the researcher on the research page after sign-in, with the rules in plain words', async () => {
    await researcher.byTestId('research-view').waitFor();
    expect(researcher.page.url()).toMatch(/#\/g\/gym-a\/research$/);
    expect(await researcher.byTestId('nav-research').getAttribute('aria-current')).toBe('page');
    expect(await researcher.byTestId('nav-fleet').count()).toBe(0);
    const rules = (await researcher.byTestId('research-privacy').textContent()) ?? '';
    expect(rules).toContain('fewer than 11 distinct members');
    expect(rules).toContain('complementary suppression');
    expect(rules).toContain('No member-level data');
    expect(rules).toContain('Only whole weeks that have ended');
  });

  it('shows the by-week trend as a chart and, cell for cell, as the table the API answers', async () => {
    const answer = await fixture.api<ResearchUtilisation>(
      '/gyms/gym-a/research/utilisation?weeks=8',
      'researcher',
    );
    await researcher.byTestId('research-week').first().waitFor();
    expect(await researcher.byTestId('research-trend-chart').locator('canvas').count()).toBe(1);
    const shown = await researcher.page.$$eval('[data-testid="research-week"]', (rows) =>
      rows.map((row) => ({
        week: row.getAttribute('data-week') ?? '',
        members: row.querySelector('[data-testid="research-members"]')?.textContent ?? '',
      })),
    );
    // Newest first in the table; a cell the rules leave out shows as a dash.
    const expected = [...answer.weeks]
      .reverse()
      .map((week) => ({ week: week.week, members: week.all ? String(week.all.members) : '–' }));
    expect(shown).toEqual(expected);
    const byWeek = Object.fromEntries(shown.map((row) => [row.week, row.members]));
    expect(byWeek[lastEnded]).toBe('16');
    // gym-b below k takes gym-a with it (two gyms: the total minus gym-a would give gym-b back).
    expect(byWeek[shiftWeek(lastEnded, -1)]).toBe('–');
    await researcher.screenshot(join(SCREENSHOTS, 'research-desktop.png'));
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1')
      await copyFile(join(SCREENSHOTS, 'research-desktop.png'), DOCS_SCREENSHOT);
  });

  it('runs the export with the chosen period, grouping, format and k, and shows its manifest and links', async () => {
    const running = isoWeekKey(now);
    await researcher.byTestId('export-from').fill(seeded[0]!.week);
    await researcher.byTestId('export-to').fill(running);
    for (const dimension of ['direction', 'age-band', 'sex'])
      await researcher.byTestId(`export-by-${dimension}`).uncheck();
    await researcher.byTestId('export-format-csv').check();
    await researcher.byTestId('export-k').fill('11');
    await researcher.byTestId('export-run').click();
    await researcher.byTestId('export-result').waitFor();

    expect(await researcher.byTestId('export-weeks').textContent()).toContain(
      `${seeded[0]!.week} to ${lastEnded}`,
    );
    expect(await researcher.byTestId('export-not-ended').textContent()).toContain(
      `${running} is still running`,
    );
    // Week x gym: 6 cells. gym-b's small week is left out (below k); so that neither that week's total nor
    // gym-b's total over the weeks gives it back, gym-a's cell that week goes, then one more gym-b week, and
    // with it gym-a's cell of that week: 2 rows published.
    expect(await researcher.byTestId('export-rows').getAttribute('data-value')).toBe('2');
    expect(await researcher.byTestId('suppressed-primary').getAttribute('data-value')).toBe('1');
    expect(await researcher.byTestId('suppressed-complementary').getAttribute('data-value')).toBe('3');
    expect(await researcher.byTestId('export-summary').textContent()).toContain(
      '4 of 6 cells suppressed: 1 below k (fewer than 11 distinct members), 3 by complementary suppression',
    );

    const links = researcher.byTestId('export-file');
    expect(await links.evaluateAll((anchors) => anchors.map((a) => a.textContent))).toEqual([
      'research-export.csv',
      'manifest.json',
    ]);
    const [download] = await Promise.all([researcher.page.waitForEvent('download'), links.first().click()]);
    expect(download.suggestedFilename()).toBe('research-export.csv');
    const [header, ...rows] = parseCsv(await readFile(await download.path(), 'utf8')).map((r) => r.fields);
    expect(header?.slice(0, 3)).toEqual(['week', 'week_start', 'gym']);
    expect(rows).toHaveLength(2);
    await researcher.screenshot(join(SCREENSHOTS, 'research-export-desktop.png'));
  });

  it('says what would publish something when every cell is suppressed', async () => {
    await researcher.byTestId('export-k').fill('40');
    await researcher.byTestId('export-run').click();
    await researcher.page.waitForSelector('[data-testid="export-rows"][data-value="0"]');
    expect(await researcher.byTestId('export-advice').textContent()).toMatch(/^To publish something: /);
    expect(await researcher.byTestId('export-file').count()).toBe(2);
  });

  it('keeps k within the deployment’s bounds, and shows the API’s reasons for a query it refuses', async () => {
    const k = researcher.byTestId('export-k');
    expect(await k.getAttribute('min')).toBe('5');
    expect(await k.getAttribute('max')).toBe('1000');
    await k.fill('3');
    await researcher.byTestId('export-run').click();
    expect(
      await k.evaluate((input) => (input as unknown as { validity: { valid: boolean } }).validity.valid),
    ).toBe(false);
    await k.fill('11');
    const future = shiftWeek(isoWeekKey(now), 2);
    await researcher.byTestId('export-from').fill(future);
    await researcher.byTestId('export-to').fill(future);
    await researcher.byTestId('export-run').click();
    await researcher.byTestId('export-error').waitFor();
    expect(await researcher.byTestId('export-error').textContent()).toContain(
      `no week from ${future} to ${future} has ended yet`,
    );
    expect(await researcher.byTestId('export-result').count()).toBe(0);
  });

  it('fits a phone: the page is no wider than the screen', async () => {
    const phone = await fixture.page('phone', 'researcher');
    await phone.byTestId('research-week').first().waitFor();
    const overflow = await phone.page.evaluate(() => {
      const { documentElement: root } = (
        globalThis as unknown as {
          document: { documentElement: { scrollWidth: number; clientWidth: number } };
        }
      ).document;
      return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth };
    });
    expect(overflow.scrollWidth).toBeLessThanOrEqual(overflow.clientWidth);
    await phone.screenshot(join(SCREENSHOTS, 'research-phone.png'));
  });

  it('leaves operators what they had: the fleet first, utilisation by hour, no research page', async () => {
    const operator = await fixture.page('desktop', 'operatorA');
    await operator.tiles();
    expect(await operator.byTestId('nav-research').count()).toBe(0);
    await operator.open('#/g/gym-a/research');
    await operator.page.waitForURL(/#\/g\/gym-a\/fleet$/);
    await operator.open('#/g/gym-a/utilisation');
    await operator.byTestId('utilisation-chart').waitFor();
    expect(await operator.byTestId('research-view').count()).toBe(0);
  });
});
