/**
 * `npm ci && npm start` from a fresh clone, as the README promises: the `start` script itself (not the CLI)
 * brings the local stack up until the dashboard answers, and Ctrl-C (SIGINT to the process group, as a
 * terminal sends it) stops all of it.
 */
import { type ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DASHBOARD_LINE = /^Dashboard: (http:\/\/\S+)/m;

/** Whether any process of the group still runs. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start in a fresh clone', () => {
  let dir: string;
  let clone: string;
  let child: ChildProcessByStdio<null, Readable, Readable> | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'retrostride-npm-start-'));
    clone = join(dir, 'clone');
    // HEAD as committed: what a fresh clone gets, without this working tree's uncommitted or ignored files.
    await promisify(execFile)('git', ['clone', '--quiet', REPO, clone]);
    // The repo's node_modules stands in for `npm ci` (same package-lock.json, 40 s saved). Like `npm ci` it
    // has no `retrostride` in node_modules/.bin: npm never links the root package's own bin.
    await symlink(join(REPO, 'node_modules'), join(clone, 'node_modules'), 'dir');
  });

  afterAll(async () => {
    const pid = child?.pid;
    if (pid !== undefined && groupAlive(pid)) process.kill(-pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the dashboard with HTTP 200, and Ctrl-C stops everything', { timeout: 180_000 }, async () => {
    const { MQTT_URL: _externalBroker, ...env } = process.env; // the stack's own broker, as on a fresh machine
    // Free ports, beside any running stack; no backfill of past weeks, which only makes the start slower.
    const args = ['--port', '0', '--mqtt-port', '0', '--history-weeks', '0', '--data-dir', join(dir, 'data')];
    const started = spawn('npm', ['start', '--', ...args], {
      cwd: clone,
      env,
      detached: true, // its own process group, signalled as one like a terminal's foreground job
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    const pgid = started.pid as number;
    let output = '';
    // 'close': every process of the group holding the pipes has gone, not only npm.
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      started.once('close', (code, signal) => resolve({ code, signal })),
    );
    const dashboardUrl = new Promise<string>((resolve, reject) => {
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        const url = DASHBOARD_LINE.exec(output)?.[1];
        if (url !== undefined) resolve(url);
      };
      started.stdout.on('data', collect);
      started.stderr.on('data', collect);
      void closed.then(({ code, signal }) =>
        reject(new Error(`npm start ended (${code ?? signal}) before the dashboard was up:\n${output}`)),
      );
    });

    const response = await fetch(await dashboardUrl);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>Retrostride');

    process.kill(-pgid, 'SIGINT');
    const { code, signal } = await closed;
    // npm passes the interrupt on as its own end (by SIGINT, or 130); the stack's line says it shut down
    // cleanly, and nothing of the group is left.
    expect([0, 130, 'SIGINT'], output).toContain(code ?? signal);
    expect(output).toMatch(/^stopped; data kept in /m);
    // An exited process counts until it is reaped, a moment after its pipes close.
    await vi.waitFor(() => expect(groupAlive(pgid)).toBe(false), { timeout: 5_000 });
  });
});
