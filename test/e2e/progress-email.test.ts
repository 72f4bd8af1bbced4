import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgressMime, progressEmailLinks } from '../../functions/lib/email-delivery.js';
import { FileOutbox } from '../../functions/lib/email-outbox.js';
import { MembersRepo } from '../../functions/lib/members-repo.js';
import { RollupsRepo } from '../../functions/lib/rollups-repo.js';
import { UnsubscribeTokens } from '../../functions/lib/unsubscribe-tokens.js';
import { buildProgressReport } from '../../shared/src/email/progress-report.js';
import { renderProgressEmail } from '../../shared/src/email/render.js';
import { type ApiServer, startApiServer } from '../../scripts/local/api-server.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { type Chromium, DashboardPage, launchChromium, VIEWPORTS } from '../support/dashboard-driver.js';
import { walkedSession } from '../support/rollup-fixtures.js';

/** The page's globals used inside `evaluate` callbacks (they run in the browser; this project has no DOM lib). */
declare const document: {
  documentElement: { scrollWidth: number };
  querySelectorAll(selector: string): Iterable<{ getBoundingClientRect(): { width: number } }>;
};

const SECRET = 'e2e-unsubscribe-secret-of-at-least-32-bytes';
const SCREENSHOTS = 'test/e2e/screenshots';
/** Monday of 2026-W44; the email is for 2026-W47. */
const W44 = Date.UTC(2026, 9, 26, 7);
const WEEK_MS = 7 * 86_400_000;

describe('the progress email in a browser', () => {
  let kit: EmbeddedAws;
  let api: ApiServer;
  let chromium: Chromium;
  let html: string;
  let token: string;
  let outboxDir: string;

  beforeAll(async () => {
    kit = await startEmbeddedAws();
    outboxDir = await mkdtemp(join(tmpdir(), 'retrostride-outbox-'));
    process.env.UNSUBSCRIBE_SECRET = SECRET;
    process.env.EMAIL_OUTBOX_DIR = outboxDir;
    api = await startApiServer({ port: 0, dynamo: { doc: kit.dynamo.doc, tablePrefix: kit.tablePrefix } });
    chromium = await launchChromium();

    const members = new MembersRepo(kit.dynamo.doc, kit.tables.members);
    await members.importMember(
      {
        userToken: 'm_a_001',
        email: 'ann@example.org',
        consent: true,
        birthYear: 1978,
        sex: 'female',
        gymId: 'gym-a',
      },
      Date.now(),
      'e2e',
    );
    const rollups = new RollupsRepo(kit.dynamo.doc, kit.tables.rollups);
    const weeks: Array<[number, number, number]> = [
      [0, 900, 240],
      [1, 1080, 420],
      [2, 840, 600],
      [3, 960, 780],
    ];
    for (const [week, forwardS, backwardS] of weeks) {
      for (const day of [0, 2]) {
        const startTs = W44 + week * WEEK_MS + day * 86_400_000;
        await rollups.addSession(
          walkedSession({
            gymId: 'gym-a',
            userToken: 'm_a_001',
            startTs,
            forwardS,
            backwardS: backwardS - day * 30,
          }),
          { ageBand: '40-49', sex: 'female' },
        );
      }
    }
    const history = await rollups.listMemberWeeks('m_a_001', '2026-W01', '2026-W47');
    const report = buildProgressReport('2026-W47', history)!;
    token = new UnsubscribeTokens(SECRET).sign({ userToken: 'm_a_001', week: '2026-W47' });
    const links = progressEmailLinks(api.url, token);
    const message = {
      userToken: 'm_a_001',
      week: '2026-W47',
      gymId: 'gym-a',
      from: 'Retrostride <progress@retrostride.example>',
      to: 'ann@example.org',
      email: renderProgressEmail(report, links),
      links,
      date: Date.UTC(2026, 10, 23, 6),
    };
    const raw = await buildProgressMime(message);
    await new FileOutbox(outboxDir).send(message, raw);
    // What a mail client gets out of the message, not what went into it.
    html = String((await simpleParser(raw)).html);
  });

  afterAll(async () => {
    await chromium?.close();
    await api?.stop();
    await kit?.stop();
    delete process.env.UNSUBSCRIBE_SECRET;
    delete process.env.EMAIL_OUTBOX_DIR;
    await rm(outboxDir, { recursive: true, force: true });
  });

  it.each(Object.entries(VIEWPORTS))(
    'renders with nothing loaded from outside and fits a %s screen',
    async (name, viewport) => {
      const page = await chromium.page(viewport);
      await page.context().route('**/*', (route) => route.abort()); // as mail clients do: nothing loads from outside
      await page.setContent(html);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        viewport.width,
      );
      await expect(page.getByText('Your treadmill week: 16–22 November 2026').isVisible()).resolves.toBe(
        true,
      );
      await mkdir(SCREENSHOTS, { recursive: true });
      const path = join(SCREENSHOTS, `progress-email-${name}.png`);
      await page.screenshot({ path, fullPage: true });
      // Only on request: a test run must not change tracked files (fonts differ from machine to machine).
      if (name === 'desktop' && process.env.UPDATE_DOCS_SCREENSHOT === '1')
        await copyFile(path, 'docs/progress-email.png');
      await page.context().close();
    },
  );

  it('draws each week’s bar in proportion to its minutes', async () => {
    const page = await chromium.page(VIEWPORTS.desktop);
    await page.setContent(html);
    const bars = await page.evaluate(() =>
      [
        ...document.querySelectorAll(
          'table[role="img"] td[bgcolor="#2f6fb3"], table[role="img"] td[bgcolor="#e0892f"]',
        ),
      ].map((cell) => cell.getBoundingClientRect().width),
    );
    // Forward and backward cells of four weeks; the longest week's two cells fill its whole track.
    expect(bars).toHaveLength(8);
    const week47 = bars[6]! + bars[7]!;
    const week44 = bars[0]! + bars[1]!;
    expect(week44 / week47).toBeCloseTo((900 + 900 + 240 + 210) / (960 + 960 + 780 + 750), 1);
    await page.context().close();
  });

  it('unsubscribes from the linked page only when the member confirms', async () => {
    const page = await chromium.page(VIEWPORTS.phone);
    await page.goto(`${api.url}/unsubscribe.html?token=${encodeURIComponent(token)}`);
    const members = new MembersRepo(kit.dynamo.doc, kit.tables.members);
    expect((await members.consent('m_a_001'))?.consent).toBe(true); // opening the link changes nothing
    await page.getByTestId('unsubscribe-confirm').click();
    await expect
      .poll(() => page.getByTestId('unsubscribe-message').textContent(), { timeout: 15_000 })
      .toBe('Done: you will get no more weekly progress emails.');
    expect(await members.consent('m_a_001')).toMatchObject({ consent: false, source: 'member' });
    await page.screenshot({ path: join(SCREENSHOTS, 'unsubscribe-phone.png') });
    await page.context().close();
  });

  it('shows the email in the dashboard’s outbox to the gym’s operator', async () => {
    const page = await chromium.page(VIEWPORTS.desktop);
    const dashboard = new DashboardPage(page, api.url);
    await dashboard.login('operator-a', 'retro-a');
    // Signed in when the tabs show; operator-a's only gym is gym-a.
    await dashboard.byTestId('nav-outbox').click();
    await expect.poll(() => page.getByTestId('outbox-email').count(), { timeout: 15_000 }).toBe(1);
    const preview = page.frameLocator('[data-testid="outbox-preview"]');
    await expect
      .poll(() => preview.getByText('Your treadmill week: 16–22 November 2026').count(), { timeout: 15_000 })
      .toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'outbox-desktop.png') });
    await page.context().close();
  });
});
