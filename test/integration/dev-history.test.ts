/**
 * The dev stack's first start: a week of the simulated gyms' past goes through the gateways, the Kinesis
 * emulator and the ingest handler into DynamoDB; the week's progress emails go out at once; live traffic then
 * continues each treadmill's seqs (none is skipped below a watermark); and a restart keeps the history as it
 * is, never adding it twice.
 */
import { readdir } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FleetRepo } from '../../functions/lib/fleet-repo.js';
import { RollupsRepo } from '../../functions/lib/rollups-repo.js';
import { type DevStack, type DevStackOptions, startDevStack } from '../../scripts/local/dev-stack.js';
import { historyStart } from '../../scripts/local/history.js';
import { dayKey } from '../../shared/src/iso-week.js';

const DAY_MS = 86_400_000;

describe('retrostride dev: history on a first start', () => {
  let dataDir: string;
  let stack: DevStack | undefined;
  const started = Date.now();
  const lines: string[] = [];

  const options = (fresh: boolean): DevStackOptions => ({
    dataDir,
    fresh,
    port: 0,
    host: '127.0.0.1',
    mqttPort: 0,
    simulate: true,
    simulator: { seed: 4, gyms: 2, treadmillsPerGym: 3 },
    scheduleMs: 60_000,
    batchingWindowMs: 200,
    historyWeeks: 1,
    log: (line) => lines.push(line),
  });

  /** Sessions per past day of a gym, from the gym-day rollups the ingest handler wrote. */
  const pastSessionsByDay = async (gymId: string) => {
    const rollups = new RollupsRepo(stack!.kit.dynamo.doc, stack!.kit.tables.rollups);
    const days = await rollups.listGymDays(gymId, dayKey(historyStart(started, 1)), dayKey(started - DAY_MS));
    return Object.fromEntries(days.map((day) => [day.day, day.sessions]));
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'retrostride-history-'));
    stack = await startDevStack(options(true));
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps records in the stream a replay window (a day) beyond the age at which the runner gives up', async () => {
    const { StreamDescriptionSummary: summary } = await stack!.kit.kinesis.client.send(
      new DescribeStreamSummaryCommand({ StreamName: stack!.kit.streamName }),
    );
    const maxAgeMs = stack!.runner.options.maximumRecordAgeMs ?? -1;
    // As Lambda: records older than a day go to the failure file (not retried for ever)...
    expect(maxAgeMs).toBe(24 * 3_600_000);
    // ... and the stream still holds them for a day, so they can be replayed.
    expect((summary?.RetentionPeriodHours ?? 0) * 3_600_000 - maxAgeMs).toBeGreaterThanOrEqual(
      24 * 3_600_000,
    );
  });

  it('fills the past days with sessions the pipeline computed', async () => {
    const byDay = await pastSessionsByDay('gym-a');
    // Every day of last week and this week's days before today had members.
    expect(Object.keys(byDay).length).toBeGreaterThanOrEqual(7);
    expect(Object.values(byDay).every((sessions) => sessions > 0)).toBe(true);
    expect(lines.some((line) => /^ok {2}History +1 weeks from \d{4}-\d\d-\d\d: \d+ events/.test(line))).toBe(
      true,
    );
  });

  it("sends last week's progress emails at start, into the outbox", async () => {
    const files = await readdir(join(dataDir, 'outbox'));
    expect(files.filter((file) => file.endsWith('.eml')).length).toBeGreaterThan(0);
  });

  it('then takes live traffic: every treadmill is seen now, after its history', async () => {
    const fleet = new FleetRepo(stack!.kit.dynamo.doc, stack!.kit.tables.fleet);
    const deadline = Date.now() + 40_000;
    let seenLive = 0;
    while (Date.now() < deadline) {
      const treadmills = await fleet.listGym('gym-a');
      seenLive = treadmills.filter(({ state }) => (state.lastSeenTs ?? 0) >= started).length;
      if (seenLive === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(seenLive).toBe(3);
    // Nothing of the history or of live traffic was refused anywhere on the way.
    expect(lines.filter((line) => /failed|refused|rejected/.test(line))).toEqual([]);
  }, 60_000);

  it('keeps the history on a restart instead of adding it again', async () => {
    const before = await pastSessionsByDay('gym-b');
    await stack?.stop();
    // The handlers keep their clients for the process's life, as on Lambda: a second stack in this process
    // needs fresh modules (the CLI runs one stack per process).
    vi.resetModules();
    lines.length = 0;
    stack = await startDevStack(options(false));
    expect(lines).toContain('ok  History            kept from an earlier start (--fresh rebuilds it)');
    expect(await pastSessionsByDay('gym-b')).toEqual(before);
  }, 60_000);
});
