import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DurableIntake } from '../../gateway-agent/src/intake.js';
import { RejectLog } from '../../gateway-agent/src/rejects.js';
import { BleSource, backoffDelay } from '../../gateway-agent/src/sources/ble.js';
import { ReplayTransport } from '../../gateway-agent/src/sources/ble-replay.js';
import { EventStamper } from '../../gateway-agent/src/stamp.js';
import { toHex } from '../../shared/src/ble/index.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { encodeHeartRate, encodeTreadmillData } from '../../scripts/lib/ble-encoder.js';

const TREADMILL = 'C0:FF:EE:00:00:01';
const STRANGER = 'DE:AD:BE:EF:00:00';

describe('BleSource with a replayed recording', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ble-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function replay(lines: unknown[]) {
    const path = join(dir, 'replay.jsonl');
    await writeFile(
      path,
      lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n'),
    );
    const events: TelemetryEvent[] = [];
    const log = {
      append: async (batch: readonly TelemetryEvent[]) => void events.push(...batch),
      lastSeq: () => 0,
    };
    const rejects = new RejectLog();
    const transport = new ReplayTransport(path);
    const intake = new DurableIntake(log, new EventStamper(() => 0));
    const source = new BleSource({
      gymId: 'gym-a',
      allowlist: { [TREADMILL.toLowerCase()]: 'tm-01' },
      transport,
      intake,
      rejects,
      log: () => undefined,
    });
    await source.start();
    await transport.finished;
    await intake.drain();
    return { events, rejects, stats: source.stats() };
  }

  it('makes events from notifications, reassembles split records, and reports link changes', async () => {
    const first = encodeTreadmillData({ distanceM: 500, inclinePct: 2 });
    const last = encodeTreadmillData({ speedKmh: 2.5, elapsedS: 300 });
    const hr = encodeHeartRate({ hrBpm: 110 });
    const { events, rejects, stats } = await replay([
      { speed: 1000 },
      { t: 0, topic: 'gyms/gym-a/treadmills/tm-01/session', payload: {} }, // an MQTT line: skipped
      { t: 0, address: TREADMILL, char: '2acd', hex: toHex(first) },
      { t: 5, address: TREADMILL, char: '2acd', hex: toHex(last) },
      { t: 400, address: TREADMILL, char: '2a37', hex: toHex(hr) },
      { t: 500, address: STRANGER, char: '2a37', hex: toHex(hr) },
      { t: 600, address: TREADMILL, char: '2ad3', hex: '0d' }, // Training Status: no event
      'not json',
      { t: 700, address: TREADMILL, link: 'down' },
      { t: 800, address: TREADMILL, char: '2acd', hex: toHex(first) }, // half a record, then the link drops
      { t: 900, address: TREADMILL, link: 'down' },
      { t: 1000, address: TREADMILL, char: '2acd', hex: toHex(last) },
    ]);
    expect(events.map((event) => [event.type, event.seq])).toEqual([
      ['heartbeat', 1],
      ['belt', 2],
      ['hr', 3],
      ['heartbeat', 4],
      ['heartbeat', 5],
      ['heartbeat', 6],
      ['heartbeat', 7],
      ['belt', 8],
      ['heartbeat', 9],
    ]);
    expect(
      events.filter((e) => e.type === 'heartbeat').map((e) => e.type === 'heartbeat' && e.online),
    ).toEqual([true, false, true, false, true, false]);
    expect(events[1]).toMatchObject({ speedKmh: 2.5, distanceM: 500, inclinePct: 2, elapsedS: 300 });
    expect(events[1]?.raw).toBeUndefined();
    expect(events[2]).toMatchObject({ hrBpm: 110, raw: toHex(hr), treadmillId: 'tm-01', gymId: 'gym-a' });
    // The fragment before the second drop was discarded: the record after it has no distance.
    expect(events[7]).toMatchObject({ speedKmh: 2.5 });
    expect(events[7]).not.toHaveProperty('distanceM');
    expect(rejects.counts().sort((a, b) => a.reason.localeCompare(b.reason))).toEqual([
      { source: 'ble', reason: 'malformed', count: 1 },
      { source: 'ble', reason: 'unknown_address', count: 1 },
    ]);
    expect(stats).toMatchObject({ linksUp: 0, notifications: 7, absorbed: 3, rejected: 2 });
  });

  it('plays at the recorded pace divided by the speed', async () => {
    const started = Date.now();
    const beat = toHex(encodeHeartRate({ hrBpm: 80 }));
    await replay([
      { speed: 10 },
      { t: 0, address: TREADMILL, char: '2a37', hex: beat },
      { t: 1000, address: TREADMILL, char: '2a37', hex: beat },
    ]);
    // 1 s of recording at 10x: about 100 ms, certainly not the full second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('backoffDelay', () => {
  it('is full jitter below an exponentially growing cap', () => {
    expect(backoffDelay(0, 1000, 60_000, () => 0.999)).toBeCloseTo(999);
    expect(backoffDelay(3, 1000, 60_000, () => 0.5)).toBe(4000);
    expect(backoffDelay(20, 1000, 60_000, () => 0.5)).toBe(30_000);
    expect(backoffDelay(5, 1000, 60_000, () => 0)).toBe(0);
  });
});
