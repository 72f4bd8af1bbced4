/**
 * A fresh spool directory per test, the spools a test opened closed after it, and the helpers the spool
 * tests share (events, appends, a draining sink).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { Spool, type SpoolOptions } from '../../gateway-agent/src/spool.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';

export const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

export function beltEvent(treadmillId: string, seq: number): TelemetryEvent {
  return {
    type: 'belt',
    speedKmh: 4 + (seq % 10) / 10,
    id: String(seq).padStart(26, '0'),
    gymId: 'gym-a',
    treadmillId,
    seq,
    ts: T0 + seq * 250,
    rxTs: T0 + seq * 250 + 20,
  };
}

export const keyOf = (treadmillId: string) => `gym-a/${treadmillId}`;
export const seqsOf = (events: readonly TelemetryEvent[]) => events.map((event) => event.seq);

/** Appends seqs [from, to] of one treadmill, one append per event (one entry each). */
export async function appendEach(spool: Spool, treadmillId: string, from: number, to: number): Promise<void> {
  for (let seq = from; seq <= to; seq++) await spool.append([beltEvent(treadmillId, seq)]);
}

/** Drains the spool like a sink that never fails: peek, ack, wait for paging; returns what it saw per key. */
export async function drain(spool: Spool, batch = 7): Promise<Map<string, number[]>> {
  const seen = new Map<string, number[]>();
  while (spool.stats().depthEvents > 0) {
    const keys = spool.keysWithBacklog();
    if (keys.length === 0) {
      await new Promise<void>((resolve) => {
        const off = spool.onAppend(() => {
          off();
          resolve();
        });
      });
      continue;
    }
    for (const key of keys) {
      const events = spool.peek(key, batch, 1 << 20);
      seen.set(key, [...(seen.get(key) ?? []), ...seqsOf(events)]);
      spool.ack(key, events.at(-1)!.seq);
    }
  }
  return seen;
}

export interface SpoolDirectory {
  /** This test's directory. */
  readonly dir: string;
  /** What the spools of this test logged. */
  readonly logged: string[];
  open(options?: Partial<SpoolOptions>): Promise<Spool>;
  segmentFiles(): Promise<string[]>;
}

/** Registers the hooks of the calling test file. */
export function spoolDirectory(): SpoolDirectory {
  let dir = '';
  const logged: string[] = [];
  const opened: Spool[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-test-'));
    logged.length = 0;
  });
  afterEach(async () => {
    // One after the other: tests that simulate a crash leave two spools open on one directory.
    for (const spool of opened.splice(0)) await spool.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    logged,
    async open(options = {}) {
      const spool = await Spool.open({ dir, log: (line) => logged.push(line), ...options });
      opened.push(spool);
      return spool;
    },
    segmentFiles: async () => (await readdir(dir)).filter((name) => name.startsWith('seg-')).sort(),
  };
}
