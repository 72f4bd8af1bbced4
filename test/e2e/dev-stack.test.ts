/**
 * The whole local stack, as `npm start` runs it, seen through the browser: the simulator at a fixed seed
 * publishes to the broker, the gateways spool and ship to the Kinesis emulator, the event-source runner
 * feeds the ingest handler, and operator A's dashboard shows A's treadmills live and none of B's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../../scripts/local/dev-stack.js';
import { type Chromium, DashboardPage, launchChromium } from '../support/dashboard-driver.js';

const TREADMILLS_PER_GYM = 4;

describe('retrostride dev, end to end in Chromium', () => {
  let dataDir: string;
  let stack: DevStack;
  let chromium: Chromium;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'retrostride-e2e-'));
    stack = await startDevStack({
      dataDir,
      fresh: true,
      port: 0,
      host: '127.0.0.1',
      mqttPort: 0,
      simulate: true,
      simulator: { seed: 3, gyms: 2, treadmillsPerGym: TREADMILLS_PER_GYM, idleMinutes: [0.05, 0.1] },
      scheduleMs: 60_000,
      batchingWindowMs: 500,
      historyWeeks: 0,
      log: () => undefined,
    });
    chromium = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await chromium?.close();
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("shows operator A's treadmills updating from the simulator, and none of gym B's", async () => {
    const operatorA = new DashboardPage(await chromium.page(), stack.api.url);
    await operatorA.login('operator-a', 'retro-a');
    let tiles = await operatorA.tiles();
    // The simulator's first members arrive within seconds; wait until every treadmill of gym A has reported.
    for (let attempt = 0; tiles.length < TREADMILLS_PER_GYM && attempt < 20; attempt++) {
      tiles = await operatorA.waitForTileChange(tiles, 30_000);
    }
    expect(tiles.map((tile) => tile.gymId)).toEqual(Array(TREADMILLS_PER_GYM).fill('gym-a'));
    const updated = await operatorA.waitForTileChange(tiles, 30_000);
    expect(updated.some((tile) => tile.status === 'in_use')).toBe(true);
    expect(await operatorA.apiStatus(`${stack.api.url}/api/gyms/gym-b/treadmills`)).toBe(403);
    expect(await operatorA.apiStatus(`${stack.api.url}/api/gyms/gym-a/treadmills`)).toBe(200);
  }, 120_000);
});
