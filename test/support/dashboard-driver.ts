/**
 * Drives the dashboard in headless Chromium through playwright-core, at any base URL: the local api-server
 * in the e2e test, or a whole running stack later. Knows the pages by their `data-testid`s only.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Browser, chromium, type LaunchOptions, type Page } from 'playwright-core';

/** The page's globals used inside `evaluate` callbacks (they run in the browser; this project has no DOM lib). */
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): Iterable<{ getAttribute(name: string): string | null }>;
};
declare const localStorage: { getItem(key: string): string | null };
declare function requestAnimationFrame(callback: () => void): number;
declare const axe: {
  run(
    context: unknown,
    options: { resultTypes: string[] },
  ): Promise<{ violations: AccessibilityViolation[] }>;
};

/** One axe-core rule broken on a page, with the elements that break it. */
export interface AccessibilityViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

/** axe-core's browser build, read once (MPL-2.0; a test dependency only). */
let axeSource: Promise<string> | undefined;
const loadAxeSource = () =>
  (axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'));

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** Nothing but the page under test goes on the network: no component updates, sync or QUIC. */
const QUIET_ARGS = [
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** A system Chromium: CHROMIUM_PATH, else Debian's (`apt-get install chromium`) when installed. */
function systemChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  return existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined;
}

/**
 * Unpacks the Chromium that the npm package @sparticuz/chromium ships (into the temp dir) and returns how to
 * launch it. The package unpacks to fixed paths and counts a half-written binary as unpacked, and e2e files
 * run in parallel workers (or several test runs at once), so one process unpacks under a lock directory and
 * a marker file records a complete unpack of this package version.
 */
async function npmChromium(): Promise<LaunchOptions> {
  const { default: packaged } = await import('@sparticuz/chromium');
  const packageJson = join(
    createRequire(import.meta.url).resolve('@sparticuz/chromium'),
    '../../package.json',
  );
  const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
  const marker = join(tmpdir(), 'chromium.unpacked');
  const lock = join(tmpdir(), 'chromium.unpack-lock');
  const binary = join(tmpdir(), 'chromium');
  const unpacked = async () =>
    existsSync(binary) && existsSync(marker) && (await readFile(marker, 'utf8')) === version;

  while (!(await unpacked())) {
    const locked = await mkdir(lock).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') return false;
        throw error;
      },
    );
    if (!locked) {
      // A holder that died mid-unpack leaves its lock behind; unpacking takes seconds, not a minute.
      const since = await stat(lock).then(
        (lockStat) => Date.now() - lockStat.mtimeMs,
        () => 0,
      );
      if (since > 60_000) await rm(lock, { recursive: true, force: true });
      else await sleep(200);
      continue;
    }
    try {
      if (await unpacked()) break;
      // The package would take a binary left by an interrupted unpack, or by another version, as it is.
      await rm(binary, { force: true });
      await packaged.executablePath();
      await writeFile(marker, version);
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }
  // The package's bundled fonts, for a machine without fontconfig of its own.
  const env = existsSync('/etc/fonts/fonts.conf')
    ? undefined
    : { ...process.env, FONTCONFIG_PATH: join(tmpdir(), 'fonts') };
  return {
    executablePath: await packaged.executablePath(),
    // Its `--single-process` (for AWS Lambda) takes the whole browser down when a context closes.
    args: [...packaged.args.filter((arg) => arg !== '--single-process'), ...QUIET_ARGS],
    ...(env && { env }),
  };
}

/** Where the browser comes from: a system Chromium when there is one, else the npm one (no apt needed). */
async function chromiumLaunchOptions(): Promise<LaunchOptions> {
  const executablePath = systemChromium();
  if (executablePath === undefined) return npmChromium();
  return {
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', ...QUIET_ARGS],
  };
}

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

export interface Chromium {
  /** A page in a fresh context (own storage, so its own login) at this size. */
  page(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

/** Chromium on a fresh profile (playwright gives every launch a new temporary user-data dir). */
export async function launchChromium(): Promise<Chromium> {
  const browser: Browser = await chromium.launch(await chromiumLaunchOptions());
  return {
    async page(viewport = VIEWPORTS.desktop) {
      // A fixed locale, the one the dashboard formats in: under LANG=C the npm Chromium reports
      // navigator.language `en-US@posix`, which Intl (in uPlot) rejects.
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'en-GB' });
      return context.newPage();
    },
    close: () => browser.close(),
  };
}

export interface TileState {
  gymId: string;
  treadmillId: string;
  status: string;
  lastSeen: string;
  sessionId: string;
}

/** The dashboard as its user sees it. */
export class DashboardPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  byTestId(id: string) {
    return this.page.locator(`[data-testid="${id}"]`);
  }

  async open(hash = ''): Promise<void> {
    await this.page.goto(`${this.baseUrl}/${hash}`);
  }

  async login(username: string, password: string): Promise<void> {
    await this.open('#/login');
    await this.byTestId('login-username').fill(username);
    await this.byTestId('login-password').fill(password);
    await this.byTestId('login-submit').click();
  }

  async loginError(): Promise<string> {
    await this.page.waitForFunction(
      () => (document.querySelector('[data-testid="login-error"]')?.textContent ?? '').length > 0,
    );
    return (await this.byTestId('login-error').textContent()) ?? '';
  }

  /** The status of an API call made from the page with the signed-in user's token. */
  async apiStatus(path: string): Promise<number> {
    return this.page.evaluate(async (target) => {
      const stored = localStorage.getItem('retrostride.session');
      const token = stored ? (JSON.parse(stored) as { token: string }).token : '';
      const response = await fetch(target, { headers: { authorization: `Bearer ${token}` } });
      return response.status;
    }, path);
  }

  /** Waits for the fleet view and returns its tiles. */
  async tiles(): Promise<TileState[]> {
    await this.byTestId('treadmill-tile').first().waitFor();
    return this.page.$$eval('[data-testid="treadmill-tile"]', (elements) =>
      elements.map((element) => ({
        gymId: element.getAttribute('data-gym-id') ?? '',
        treadmillId: element.getAttribute('data-treadmill-id') ?? '',
        status: element.getAttribute('data-status') ?? '',
        lastSeen: element.getAttribute('data-last-seen') ?? '',
        sessionId: element.getAttribute('data-session-id') ?? '',
      })),
    );
  }

  /** Waits until some tile shows a newer reading than in `before` (the page polls by itself). */
  async waitForTileChange(before: readonly TileState[], timeoutMs = 15_000): Promise<TileState[]> {
    const seen = Object.fromEntries(before.map((tile) => [tile.treadmillId, tile.lastSeen]));
    await this.page.waitForFunction(
      (previous: Record<string, string>) =>
        [...document.querySelectorAll('[data-testid="treadmill-tile"]')].some((element) => {
          const id = element.getAttribute('data-treadmill-id') ?? '';
          return previous[id] !== element.getAttribute('data-last-seen');
        }),
      seen,
      { timeout: timeoutMs },
    );
    return this.tiles();
  }

  /** Opens the alerts view (open alerts) and returns their ids. */
  async openAlerts(): Promise<string[]> {
    await this.byTestId('nav-alerts').click();
    await this.byTestId('alerts-view').waitFor();
    await this.page.waitForFunction(
      () => document.querySelector('[data-testid="alert-item"], [data-testid="alerts-empty"]') !== null,
    );
    return this.page.$$eval('[data-testid="alert-item"]', (elements) =>
      elements.map((element) => element.getAttribute('data-alert-id') ?? ''),
    );
  }

  /** Clicks the alert's ack button; resolves once it has left the open list. */
  async acknowledge(alertId: string): Promise<void> {
    const item = this.page.locator(`[data-testid="alert-item"][data-alert-id="${alertId}"]`);
    await item.locator('[data-testid="alert-ack"]').click();
    await item.waitFor({ state: 'detached' });
  }

  /** Ids of the alerts listed under the acknowledged tab. */
  async acknowledgedAlerts(): Promise<string[]> {
    await this.byTestId('alerts-tab-acknowledged').click();
    await this.page.waitForSelector('[data-testid="alerts-tab-acknowledged"][aria-selected="true"]');
    await this.page.waitForFunction(
      () =>
        document.querySelector(
          '[data-testid="alert-item"][data-status="acknowledged"], [data-testid="alerts-empty"]',
        ) !== null,
    );
    return this.page.$$eval('[data-testid="alert-item"][data-status="acknowledged"]', (elements) =>
      elements.map((element) => element.getAttribute('data-alert-id') ?? ''),
    );
  }

  /** Opens the sessions list and returns the sessions shown, with their status. */
  async sessions(): Promise<Array<{ sessionId: string; status: string }>> {
    await this.byTestId('nav-sessions').click();
    await this.byTestId('session-row').first().waitFor();
    return this.page.$$eval('[data-testid="session-row"]', (rows) =>
      rows.map((row) => ({
        sessionId: row.getAttribute('data-session-id') ?? '',
        status: row.getAttribute('data-status') ?? '',
      })),
    );
  }

  /** Opens a session from the list and reads the figures shown: value attributes and visible text. */
  async sessionFigures(sessionId: string) {
    await this.page.locator(`[data-testid="session-row"][data-session-id="${sessionId}"] a`).click();
    await this.byTestId('session-view').waitFor();
    const figure = async (id: string) => {
      const element = this.byTestId(id);
      return {
        value: (await element.getAttribute('data-value')) ?? '',
        text: (await element.textContent()) ?? '',
      };
    };
    return {
      forwardTime: await figure('split-forward-time'),
      forwardDistance: await figure('split-forward-distance'),
      backwardTime: await figure('split-backward-time'),
      backwardDistance: await figure('split-backward-distance'),
      kcal: await figure('calories-kcal'),
      calorieModel: await figure('calories-model'),
      balanceScore: await figure('balance-score'),
      // The components of the direction the session's score is from (data-main), as the headline shows.
      components: await this.page.$$eval('[data-main="true"] [data-testid="balance-component"]', (elements) =>
        elements.map((element) => ({
          name: element.getAttribute('data-name') ?? '',
          subScore: element.getAttribute('data-sub-score') ?? '',
        })),
      ),
    };
  }

  /**
   * Runs axe-core (WCAG 2 A/AA rules and best practices) on the page as it is now; returns the serious and
   * critical violations, one line each ("color-contrast (serious): ... at .pill.idle"), empty when none.
   * axe is evaluated through the DevTools protocol, not added as a script tag: the page's CSP forbids inline
   * scripts, and the test must not weaken it.
   */
  async accessibilityViolations(): Promise<string[]> {
    const source = await loadAxeSource();
    await this.page.evaluate(source);
    const { violations } = await this.page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
    return violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map(
        (violation) =>
          `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes
            .slice(0, 5)
            .map((node) => node.target.join(' '))
            .join(
              ', ',
            )}${violation.nodes[0]?.failureSummary ? ` -- ${violation.nodes[0].failureSummary}` : ''}`,
      );
  }

  async screenshot(path: string): Promise<void> {
    // Charts draw on the next animation frame after their data arrives.
    await this.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve(null))));
    await this.page.screenshot({ path, fullPage: false });
  }
}
