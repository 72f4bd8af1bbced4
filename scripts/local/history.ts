/**
 * The dev stack's past: weeks of the simulated gyms, sent through the real path (gateway parsing and
 * stamping -> spool -> Kinesis emulator -> event-source runner -> ingest handler -> DynamoDB), so that the
 * sessions, fleet counters, rollups and alerts of the past are what the pipeline computed. Only the broker is
 * skipped: a broker delivers at the wall clock, and each gateway takes the recorded messages with their
 * receive times instead (Gateway.replayRecorded).
 *
 * The past is coarser than live (a reading every 10 s, gait bursts on a third of the treadmills, opening
 * hours, a few members a day per treadmill), so that six weeks take about a minute on two cores.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Gateway, RecordedMessage } from '../../gateway-agent/src/agent.js';
import { isoWeekKey, shiftWeek, weekStart } from '../../shared/src/iso-week.js';
import type { ProgressBar } from '../lib/progress-bar.js';
import {
  DEFAULT_SIMULATOR_OPTIONS,
  GymSimulator,
  type SimulatorOptions,
  type SimulatorRates,
} from '../sim/gym-simulator.js';
import type { EventSourceRunner } from './event-source-runner.js';

/** The history's rates: within the session reducer's 10-s dropout gap, and enough members a week for k = 11. */
export const HISTORY_RATES: SimulatorRates = {
  sessionMinutes: [8, 25],
  idleMinutes: [600, 1800],
  sampleMs: 10_000,
  statusMs: 3 * 60 * 60_000,
  gaitBursts: { onS: 20, everyS: 180 },
  heartRateViaConsole: true,
  openingHoursUtc: [6, 22],
};
const HISTORY_GAIT_SENSOR_EVERY = 6;

export const LIVE_RATES: SimulatorRates = {
  sessionMinutes: DEFAULT_SIMULATOR_OPTIONS.sessionMinutes,
  idleMinutes: DEFAULT_SIMULATOR_OPTIONS.idleMinutes,
  sampleMs: DEFAULT_SIMULATOR_OPTIONS.sampleMs,
  statusMs: DEFAULT_SIMULATOR_OPTIONS.statusMs,
};

/** Simulated time per step: one replay per gateway each, so that the gateways spool side by side. */
const STEP_MS = 6 * 3_600_000;
const POLL_MS = 250;

export interface HistoryOptions {
  /** Whole ISO weeks before the current one; the current week's days so far come with them. */
  weeks: number;
  now: number;
  simulator: Partial<SimulatorOptions>;
  gateways: ReadonlyMap<string, Gateway>;
  runner: EventSourceRunner;
  progress: (phase: string) => ProgressBar;
  /** Stops the backfill between two steps (it rejects with the signal's reason). */
  signal?: AbortSignal;
}

export interface History {
  /** The fleet at `now`, ready to go on live (LIVE_RATES) where the history stopped. */
  readonly simulator: GymSimulator;
  readonly fromTs: number;
  readonly events: number;
  readonly rejected: number;
}

/** Monday 00:00 UTC of the week `weeks` before the one holding `now`. */
export function historyStart(now: number, weeks: number): number {
  return Date.parse(`${weekStart(shiftWeek(isoWeekKey(now), -weeks))}T00:00:00Z`);
}

/**
 * Simulates the history into the gateways' spools, then waits until the ingest handler has taken all of it.
 * Run it before live traffic for the simulated treadmills: their seqs must follow the history's.
 */
export async function backfillHistory(options: HistoryOptions): Promise<History> {
  const fromTs = historyStart(options.now, options.weeks);
  const simulator = new GymSimulator(
    { ...options.simulator, ...HISTORY_RATES, gaitSensorEvery: HISTORY_GAIT_SENSOR_EVERY },
    fromTs,
  );
  const { events, rejected } = await spoolHistory(simulator, fromTs, options);
  await waitForIngest(options);
  simulator.setRates(LIVE_RATES, Date.now());
  return { simulator, fromTs, events, rejected };
}

/** The fleet's messages up to `now`, step by step into the gateways of their gyms, with a bar of days. */
async function spoolHistory(
  simulator: GymSimulator,
  fromTs: number,
  { now, gateways, progress, signal }: HistoryOptions,
): Promise<{ events: number; rejected: number }> {
  const encoder = new TextEncoder();
  const days = (ts: number) => Math.round((ts - fromTs) / 86_400_000);
  const bar = progress('history: simulating days');
  let events = 0;
  let rejected = 0;
  try {
    for (let until = fromTs; until < now;) {
      signal?.throwIfAborted();
      until = Math.min(until + STEP_MS, now);
      const byGym = new Map<string, RecordedMessage[]>();
      for (const { topic, payload } of simulator.advance(until)) {
        const gymId = topic.split('/')[1] ?? '';
        let messages = byGym.get(gymId);
        if (!messages) byGym.set(gymId, (messages = []));
        // The simulated device clock is when the gateway would have received it.
        const rxTs = Math.round(typeof payload.ts === 'number' ? payload.ts : until);
        messages.push({ topic, payload: encoder.encode(JSON.stringify(payload)), rxTs });
      }
      const replays = await Promise.all(
        [...byGym].map(([gymId, messages]) => gateways.get(gymId)?.replayRecorded(messages)),
      );
      for (const replay of replays) {
        events += replay?.events ?? 0;
        rejected += replay?.rejected ?? 0;
      }
      bar.update(days(until), days(now));
    }
  } finally {
    bar.done();
  }
  return { events, rejected };
}

/** Until the spools are empty and the runner has delivered every record the gateways put, with a bar. */
async function waitForIngest({ gateways, runner, progress, signal }: HistoryOptions): Promise<void> {
  const bar = progress('history: ingesting records');
  const total = (stat: (gateway: Gateway) => number) =>
    [...gateways.values()].reduce((sum, gateway) => sum + stat(gateway), 0);
  const shipped = () => total((gateway) => gateway.stats().sink.recordsOut);
  const backlog = () => total((gateway) => gateway.stats().spool.depthEvents);
  try {
    // The history leaves the spools within seconds; the ingest is what takes time.
    while (backlog() > 0 || runner.recordsDelivered < shipped()) {
      bar.update(runner.recordsDelivered, shipped());
      await sleep(POLL_MS, undefined, signal ? { signal } : {});
    }
    await runner.drain(120_000);
  } finally {
    bar.done();
  }
}
