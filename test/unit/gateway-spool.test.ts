import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Spool,
  SpoolFullError,
  SpoolLockedError,
  type SpoolOptions,
  type Spool as SpoolType,
} from '../../gateway-agent/src/spool.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

function beltEvent(treadmillId: string, seq: number): TelemetryEvent {
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

const keyOf = (treadmillId: string) => `gym-a/${treadmillId}`;
const seqsOf = (events: readonly TelemetryEvent[]) => events.map((event) => event.seq);

let dir: string;
let logged: string[];
const opened: SpoolType[] = [];

async function openSpool(options: Partial<SpoolOptions> = {}): Promise<SpoolType> {
  const spool = await Spool.open({ dir, log: (line) => logged.push(line), ...options });
  opened.push(spool);
  return spool;
}

/** Appends seqs [from, to] of one treadmill, one append per event (one entry each). */
async function appendEach(spool: SpoolType, treadmillId: string, from: number, to: number): Promise<void> {
  for (let seq = from; seq <= to; seq++) await spool.append([beltEvent(treadmillId, seq)]);
}

const segmentFiles = async () => (await readdir(dir)).filter((name) => name.startsWith('seg-')).sort();

/** Drains the spool like a sink that never fails: peek, ack, wait for paging; returns what it saw per key. */
async function drain(spool: SpoolType, batch = 7): Promise<Map<string, number[]>> {
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

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-test-'));
  logged = [];
});

afterEach(async () => {
  // One after the other: tests that simulate a crash leave two spools open on one directory.
  for (const spool of opened.splice(0)) await spool.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Spool append and reopen', () => {
  it('returns every event after a reopen, per key in seq order, across segments', async () => {
    const spool = await openSpool({ segmentBytes: 1024, maxBytes: 1 << 20 });
    const written: TelemetryEvent[] = [];
    for (let seq = 1; seq <= 40; seq++) {
      const batch = ['tm-1', 'tm-2', 'tm-3'].map((treadmill) => beltEvent(treadmill, seq));
      written.push(...batch);
      await spool.append(batch);
    }
    expect((await segmentFiles()).length).toBeGreaterThan(3);
    await spool.close();

    const reopened = await openSpool({ segmentBytes: 1024, maxBytes: 1 << 20 });
    expect(reopened.stats().depthEvents).toBe(120);
    expect(reopened.keysWithBacklog()).toEqual(['gym-a/tm-1', 'gym-a/tm-2', 'gym-a/tm-3']);
    for (const treadmill of ['tm-1', 'tm-2', 'tm-3']) {
      expect(reopened.lastSeq(keyOf(treadmill))).toBe(40);
      expect(reopened.peek(keyOf(treadmill), 1000, 1 << 20)).toEqual(
        written.filter((event) => event.treadmillId === treadmill),
      );
    }
    expect(reopened.stats().oldestTs).toBe(beltEvent('tm-1', 1).rxTs);
  });

  it('resolves concurrent appends once durable, sharing fsyncs, and keeps their order per key', async () => {
    const spool = await openSpool();
    await Promise.all(
      Array.from({ length: 200 }, (_, index) => spool.append([beltEvent('tm-1', index + 1)])),
    );
    expect(spool.stats().appended).toBe(200);
    // Group commit: appends that arrive while an fsync is in flight share the next one.
    expect(spool.stats().fsyncs).toBeLessThan(20);
    await spool.close();
    const reopened = await openSpool();
    expect(seqsOf(reopened.peek(keyOf('tm-1'), 1000, 1 << 20))).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
  });

  it('refuses a seq that does not increase for its key, and writes nothing of that call', async () => {
    const spool = await openSpool();
    await spool.append([beltEvent('tm-1', 5)]);
    await expect(spool.append([beltEvent('tm-2', 1), beltEvent('tm-1', 5)])).rejects.toThrow(/seq 5/);
    expect(spool.lastSeq(keyOf('tm-2'))).toBe(0);
    expect(spool.stats().appended).toBe(1);
  });

  it('limits peek by count and by the JSON array size, but always returns one event', async () => {
    const spool = await openSpool();
    await appendEach(spool, 'tm-1', 1, 10);
    const one = JSON.stringify(beltEvent('tm-1', 1)).length;
    expect(seqsOf(spool.peek(keyOf('tm-1'), 3, 1 << 20))).toEqual([1, 2, 3]);
    expect(spool.peek(keyOf('tm-1'), 100, 2 + one * 2 + 1)).toHaveLength(2);
    expect(spool.peek(keyOf('tm-1'), 100, 10)).toHaveLength(1);
    const encoded = spool.peekEncoded(keyOf('tm-1'), 100, 1 << 20);
    expect(`[${encoded.map((event) => event.json).join(',')}]`).toBe(
      JSON.stringify(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20)).map((seq) => beltEvent('tm-1', seq))),
    );
  });
});

describe('Spool lock', () => {
  it('refuses a spool held by another live process and takes over one whose process died', async () => {
    const holder = spawn('sleep', ['30']);
    try {
      await writeFile(join(dir, 'spool.lock'), String(holder.pid));
      await expect(Spool.open({ dir })).rejects.toThrow(SpoolLockedError);
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    }
    // Its process is gone now: the lock is stale.
    const spool = await openSpool({});
    expect(await readFile(join(dir, 'spool.lock'), 'utf8')).toBe(String(process.pid));
    await spool.close();
    await expect(stat(join(dir, 'spool.lock'))).rejects.toThrow();
  });
});

describe('Spool torn tail', () => {
  async function writeTen(): Promise<string> {
    const spool = await openSpool();
    await appendEach(spool, 'tm-1', 1, 10);
    await spool.close();
    // As after a crash while appending: no ack file was written since.
    await rm(join(dir, 'acks.json'));
    const [segment] = await segmentFiles();
    return join(dir, segment!);
  }

  async function expectNineSurvive(path: string): Promise<void> {
    const sizeOfNine = await (async () => {
      const spool = await openSpool();
      expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(spool.lastSeq(keyOf('tm-1'))).toBe(9);
      expect(logged.join('\n')).toMatch(/cut \d+ bytes/);
      const size = (await stat(path)).size;
      // Appending after the cut continues the log cleanly.
      await spool.append([beltEvent('tm-1', 10)]);
      await spool.close();
      return size;
    })();
    const lengthOfTen = (await stat(path)).size;
    expect(lengthOfTen).toBeGreaterThan(sizeOfNine);
    const spool = await openSpool();
    expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  }

  it('cuts an entry truncated mid-way and keeps everything before it', async () => {
    const path = await writeTen();
    await truncate(path, (await stat(path)).size - 7);
    await expectNineSurvive(path);
  });

  it('cuts the last entry when a byte of it is flipped', async () => {
    const path = await writeTen();
    const { size } = await stat(path);
    const file = await open(path, 'r+');
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, size - 20);
    byte[0] = byte[0]! ^ 0x40;
    await file.write(byte, 0, 1, size - 20);
    await file.close();
    await expectNineSurvive(path);
  });

  it('cuts zero-filled space left after the last entry', async () => {
    const path = await writeTen();
    const { size } = await stat(path);
    await truncate(path, size + 4096);
    const spool = await openSpool();
    expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))).toHaveLength(10);
    expect((await stat(path)).size).toBe(size);
  });
});

describe('Spool acks', () => {
  it('keeps acks across a reopen: acked events never come back', async () => {
    const spool = await openSpool({ segmentBytes: 1024, maxBytes: 1 << 20 });
    await appendEach(spool, 'tm-1', 1, 30);
    await appendEach(spool, 'tm-2', 1, 5);
    spool.ack(keyOf('tm-1'), 20);
    spool.ack(keyOf('tm-2'), 5);
    expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))[0]).toBe(21);
    expect(spool.keysWithBacklog()).toEqual(['gym-a/tm-1']);
    await spool.close();

    const reopened = await openSpool({ segmentBytes: 1024, maxBytes: 1 << 20 });
    expect(seqsOf(reopened.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 21),
    );
    expect(reopened.peek(keyOf('tm-2'), 100, 1 << 20)).toEqual([]);
    expect(reopened.stats().depthEvents).toBe(10);
    reopened.ack(keyOf('tm-1'), 30);
    await reopened.close();
    // Only the active segment is left once everything is acked.
    expect(await segmentFiles()).toHaveLength(1);
  });

  it('never acks past what it has handed out', async () => {
    const spool = await openSpool();
    await appendEach(spool, 'tm-1', 1, 3);
    spool.ack(keyOf('tm-1'), 99);
    await appendEach(spool, 'tm-1', 4, 5);
    expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual([4, 5]);
    expect(spool.stats().depthEvents).toBe(2);
    await spool.close();
    const reopened = await openSpool();
    expect(seqsOf(reopened.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual([4, 5]);
  });

  it('persists acks within the flush interval, without a close', async () => {
    const spool = await openSpool({ ackFlushMs: 10 });
    await appendEach(spool, 'tm-1', 1, 5);
    spool.ack(keyOf('tm-1'), 3);
    const persistedAck = () =>
      readFile(join(dir, 'acks.json'), 'utf8').then(
        (text) => (JSON.parse(text) as { keys: Record<string, [number, number]> }).keys[keyOf('tm-1')]?.[0],
        () => undefined,
      );
    await expect.poll(persistedAck, { interval: 5 }).toBe(3);
    // A second spool on the same files sees the persisted acks, as a restart after a crash would.
    const other = await openSpool();
    expect(seqsOf(other.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual([4, 5]);
  });

  it('recovers lastSeq from the ack file when every segment file is gone', async () => {
    const spool = await openSpool({ segmentBytes: 1024, maxBytes: 1 << 20 });
    await appendEach(spool, 'tm-1', 1, 25);
    await appendEach(spool, 'tm-2', 1, 3);
    spool.ack(keyOf('tm-1'), 25);
    spool.ack(keyOf('tm-2'), 3);
    await spool.close();
    for (const name of await segmentFiles()) await rm(join(dir, name));

    const reopened = await openSpool({ segmentBytes: 1024, maxBytes: 1 << 20 });
    expect(reopened.lastSeq(keyOf('tm-1'))).toBe(25);
    expect(reopened.lastSeq(keyOf('tm-2'))).toBe(3);
    expect(reopened.stats().depthEvents).toBe(0);
    await expect(reopened.append([beltEvent('tm-1', 25)])).rejects.toThrow(RangeError);
    await reopened.append([beltEvent('tm-1', 26)]);
  });

  it('keeps lastSeq of unacked events in the log ahead of an older ack file', async () => {
    const spool = await openSpool();
    await appendEach(spool, 'tm-1', 1, 4);
    spool.ack(keyOf('tm-1'), 2);
    await spool.close();
    const reopened = await openSpool();
    await appendEach(reopened, 'tm-1', 5, 9);
    // A crash: no close, so the ack file still says lastSeq 4.
    const recovered = await openSpool();
    expect(recovered.lastSeq(keyOf('tm-1'))).toBe(9);
  });
});

describe('Spool bounds', () => {
  it('drop-oldest drops whole segments and counts and records exactly the events that vanished', async () => {
    const spool = await openSpool({ segmentBytes: 2048, maxBytes: 8192, policy: 'drop-oldest' });
    const appended = new Map<string, number[]>();
    for (let seq = 1; seq <= 60; seq++) {
      for (const treadmill of ['tm-1', 'tm-2']) {
        await spool.append([beltEvent(treadmill, seq)]);
        appended.set(keyOf(treadmill), [...(appended.get(keyOf(treadmill)) ?? []), seq]);
      }
      // tm-2 is delivered as it goes up to seq 10; tm-1 never is.
      if (seq <= 10) spool.ack(keyOf('tm-2'), seq);
    }
    const stats = spool.stats();
    expect(stats.depthBytes).toBeLessThanOrEqual(8192);
    expect(stats.dropped).toBeGreaterThan(0);

    const delivered = await drain(spool);
    const rangesOf = (key: string) => stats.lostRanges.filter((range) => range.key === key);
    let vanishedTotal = 0;
    for (const [key, seqs] of appended) {
      const ackedEarly = key === keyOf('tm-2') ? 10 : 0;
      const kept = new Set(delivered.get(key) ?? []);
      const vanished = seqs.filter((seq) => seq > ackedEarly && !kept.has(seq));
      const reported = rangesOf(key).flatMap((range) =>
        Array.from({ length: range.toSeq - range.fromSeq + 1 }, (_, i) => range.fromSeq + i),
      );
      expect(reported).toEqual(vanished);
      vanishedTotal += vanished.length;
    }
    expect(stats.dropped).toBe(vanishedTotal);
    expect(logged.some((line) => line.includes('dropped') && line.includes('gym-a/tm-1 1-'))).toBe(true);
  });

  it('reject-new rejects appends that do not fit, and accepts again once acks free space', async () => {
    const spool = await openSpool({
      segmentBytes: 2048,
      maxBytes: 4096,
      policy: 'reject-new',
      ackFlushMs: 5,
    });
    let seq = 0;
    let rejection: unknown;
    while (rejection === undefined) {
      await spool.append([beltEvent('tm-1', seq + 1)]).then(
        () => seq++,
        (error: unknown) => {
          rejection = error;
        },
      );
    }
    expect(rejection).toBeInstanceOf(SpoolFullError);
    expect(spool.stats()).toMatchObject({ rejected: 1, appended: seq, dropped: 0 });
    expect(spool.lastSeq(keyOf('tm-1'))).toBe(seq);
    expect(spool.stats().depthBytes).toBeLessThanOrEqual(4096);

    spool.ack(keyOf('tm-1'), seq);
    await expect
      .poll(
        async () =>
          spool.append([beltEvent('tm-1', seq + 1)]).then(
            () => true,
            () => false,
          ),
        { interval: 10 },
      )
      .toBe(true);
  });

  it('splits an append larger than a segment; under drop-oldest one larger than maxBytes keeps its newest part', async () => {
    const spool = await openSpool({ segmentBytes: 1024, maxBytes: 2048, policy: 'drop-oldest' });
    await spool.append(Array.from({ length: 40 }, (_, index) => beltEvent('tm-1', index + 1)));
    const { dropped, lostRanges, depthBytes, depthEvents } = spool.stats();
    expect(depthBytes).toBeLessThanOrEqual(2048);
    expect(dropped).toBeGreaterThan(0);
    expect(lostRanges).toEqual([{ key: 'gym-a/tm-1', fromSeq: 1, toSeq: dropped }]);
    expect(depthEvents).toBe(40 - dropped);
    expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(
      Array.from({ length: 40 - dropped }, (_, i) => dropped + i + 1),
    );
  });

  it('rejects under reject-new an append larger than the room left, and an event larger than a segment', async () => {
    const spool = await openSpool({ segmentBytes: 1024, maxBytes: 2048, policy: 'reject-new' });
    const huge = Array.from({ length: 40 }, (_, index) => beltEvent('tm-1', index + 1));
    await expect(spool.append(huge)).rejects.toBeInstanceOf(SpoolFullError);
    const oversized = { ...beltEvent('tm-2', 1), raw: 'ab'.repeat(600) };
    await expect(spool.append([oversized])).rejects.toBeInstanceOf(SpoolFullError);
    expect(spool.stats()).toMatchObject({ rejected: 41, appended: 0 });
    expect(spool.lastSeq(keyOf('tm-1'))).toBe(0);
  });
});

describe('Spool memory window', () => {
  it('pages a backlog larger than the window back from disk: every event once, in order', async () => {
    const spool = await openSpool({ segmentBytes: 4096, maxBytes: 1 << 20, windowBytes: 1500 });
    const treadmills = ['tm-1', 'tm-2', 'tm-3', 'tm-4', 'tm-5'];
    for (let seq = 1; seq <= 200; seq++) {
      await spool.append(treadmills.filter((_, i) => seq % (i + 1) === 0).map((t) => beltEvent(t, seq)));
    }
    const expected = new Map(
      treadmills.map((t, i) => [
        keyOf(t),
        Array.from({ length: 200 }, (_, s) => s + 1).filter((s) => s % (i + 1) === 0),
      ]),
    );
    const total = [...expected.values()].reduce((sum, seqs) => sum + seqs.length, 0);
    expect(spool.stats().depthEvents).toBe(total);
    // The window holds a small prefix only.
    const visible = treadmills.reduce((sum, t) => sum + spool.peekable(keyOf(t)), 0);
    expect(visible).toBeLessThan(total / 4);

    // Drain half, reopen (the backlog comes from disk again), drain the rest.
    const firstHalf = new Map<string, number[]>();
    while (spool.stats().depthEvents > total / 2) {
      for (const [key, seqs] of await drainOnce(spool))
        firstHalf.set(key, [...(firstHalf.get(key) ?? []), ...seqs]);
    }
    await spool.close();
    const reopened = await openSpool({ segmentBytes: 4096, maxBytes: 1 << 20, windowBytes: 1500 });
    const rest = await drain(reopened, 3);
    for (const [key, seqs] of expected) {
      expect([...(firstHalf.get(key) ?? []), ...(rest.get(key) ?? [])]).toEqual(seqs);
    }
    expect(reopened.stats().depthEvents).toBe(0);
  });

  /** One round of peek and ack over the keys visible now (waiting for paging when none is). */
  async function drainOnce(spool: SpoolType): Promise<Map<string, number[]>> {
    const seen = new Map<string, number[]>();
    if (spool.keysWithBacklog().length === 0) {
      await new Promise<void>((resolve) => {
        const off = spool.onAppend(() => {
          off();
          resolve();
        });
      });
    }
    for (const key of spool.keysWithBacklog()) {
      const events = spool.peek(key, 5, 1 << 20);
      seen.set(key, seqsOf(events));
      spool.ack(key, events.at(-1)!.seq);
    }
    return seen;
  }

  it('matches a simple model under random appends, acks and reopens (tiny window and segments)', async () => {
    const treadmills = ['tm-1', 'tm-2', 'tm-3'];
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('append' as const),
        treadmills: fc.subarray(treadmills, { minLength: 1 }),
      }),
      fc.record({
        kind: fc.constant('ack' as const),
        treadmill: fc.constantFrom(...treadmills),
        count: fc.nat(6),
      }),
      fc.record({ kind: fc.constant('reopen' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const runDir = await mkdtemp(join(tmpdir(), 'spool-model-'));
        const options = {
          dir: runDir,
          segmentBytes: 700,
          maxBytes: 1 << 20,
          windowBytes: 900,
          log: () => undefined,
        };
        let spool = await Spool.open(options);
        const model = new Map<string, number[]>(treadmills.map((t) => [keyOf(t), []]));
        const last = new Map<string, number>();
        try {
          for (const step of ops) {
            if (step.kind === 'append') {
              const events = step.treadmills.map((t) => {
                const seq = (last.get(t) ?? 0) + 1;
                last.set(t, seq);
                model.get(keyOf(t))!.push(seq);
                return beltEvent(t, seq);
              });
              await spool.append(events);
            } else if (step.kind === 'ack') {
              const key = keyOf(step.treadmill);
              const visible = seqsOf(spool.peek(key, step.count, 1 << 20));
              expect(visible).toEqual(model.get(key)!.slice(0, visible.length));
              if (visible.length > 0) {
                spool.ack(key, visible.at(-1)!);
                model.get(key)!.splice(0, visible.length);
              }
            } else {
              await spool.close();
              spool = await Spool.open(options);
            }
            const depth = [...model.values()].reduce((sum, seqs) => sum + seqs.length, 0);
            expect(spool.stats().depthEvents).toBe(depth);
            for (const t of treadmills) expect(spool.lastSeq(keyOf(t))).toBe(last.get(t) ?? 0);
          }
          const rest = await drain(spool, 4);
          for (const [key, seqs] of model) expect(rest.get(key) ?? []).toEqual(seqs);
        } finally {
          await spool.close();
          await rm(runDir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });
});

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('Spool epoch', () => {
  it('gives a new spool a ULID epoch, kept durably in the directory across reopens', async () => {
    const spool = await openSpool();
    expect(spool.epoch).toMatch(ULID);
    await appendEach(spool, 'tm-1', 1, 3);
    expect(spool.epochOf(keyOf('tm-1'), 1)).toBe(spool.epoch);
    const epoch = spool.epoch;
    await spool.close();
    expect(await readFile(join(dir, 'epoch'), 'utf8')).toContain(epoch);
    const reopened = await openSpool();
    expect(reopened.epoch).toBe(epoch);
    expect(reopened.lastSeq(keyOf('tm-1'))).toBe(3);
  });

  it('gives a wiped spool directory a new, later epoch, and seq starts again at 1', async () => {
    const spool = await openSpool();
    await appendEach(spool, 'tm-1', 1, 3);
    const old = spool.epoch;
    await spool.close();
    opened.splice(0);
    // A replaced SD card, a reinstall, `rm -rf` of the spool.
    await rm(dir, { recursive: true, force: true });
    await new Promise((resolve) => setTimeout(resolve, 2));
    const wiped = await openSpool();
    expect(wiped.epoch).toMatch(ULID);
    expect(wiped.epoch).not.toBe(old);
    expect(wiped.epoch > old).toBe(true);
    expect(wiped.lastSeq(keyOf('tm-1'))).toBe(0);
  });

  it('gives an existing spool without one an epoch at open; events appended before it ship without one', async () => {
    const spool = await openSpool();
    await appendEach(spool, 'tm-1', 1, 4);
    await appendEach(spool, 'tm-2', 1, 2);
    spool.ack(keyOf('tm-1'), 2);
    await spool.close();
    // As an older gateway left it.
    await rm(join(dir, 'epoch'));
    const upgraded = await openSpool();
    expect(upgraded.epoch).toMatch(ULID);
    expect((await readdir(dir)).includes('epoch')).toBe(true);
    await appendEach(upgraded, 'tm-1', 5, 6);
    await appendEach(upgraded, 'tm-3', 1, 1);
    expect([3, 4, 5, 6].map((seq) => upgraded.epochOf(keyOf('tm-1'), seq))).toEqual([
      undefined,
      undefined,
      upgraded.epoch,
      upgraded.epoch,
    ]);
    expect(upgraded.epochOf(keyOf('tm-2'), 2)).toBeUndefined();
    expect(upgraded.epochOf(keyOf('tm-3'), 1)).toBe(upgraded.epoch);
    // The line between them survives a reopen.
    const epoch = upgraded.epoch;
    await upgraded.close();
    const again = await openSpool();
    expect(again.epoch).toBe(epoch);
    expect(again.epochOf(keyOf('tm-1'), 4)).toBeUndefined();
    expect(again.epochOf(keyOf('tm-1'), 5)).toBe(epoch);
  });
});

describe('Spool damage inside a segment', () => {
  /** [start, end) of each entry of a segment file, by walking the length headers of a healthy file. */
  async function entriesOf(path: string): Promise<Array<[number, number]>> {
    const bytes = await readFile(path);
    const entries: Array<[number, number]> = [];
    for (let at = 0; at < bytes.length;) {
      const end = at + 8 + bytes.readUInt32LE(at);
      entries.push([at, end]);
      at = end;
    }
    return entries;
  }

  async function overwrite(path: string, offset: number, bytes: Buffer): Promise<void> {
    const file = await open(path, 'r+');
    await file.write(bytes, 0, bytes.length, offset);
    await file.close();
  }

  async function flipByte(path: string, offset: number): Promise<void> {
    const byte = Buffer.alloc(1);
    const file = await open(path, 'r+');
    await file.read(byte, 0, 1, offset);
    byte[0] = byte[0]! ^ 0x40;
    await file.write(byte, 0, 1, offset);
    await file.close();
  }

  /** Twenty events of tm-1, one entry each, in one segment; returns its path. */
  async function writeTwenty(): Promise<string> {
    const spool = await openSpool();
    await appendEach(spool, 'tm-1', 1, 20);
    await spool.close();
    const [segment] = await segmentFiles();
    return join(dir, segment!);
  }

  const without = (from: number, to: number, ...lost: number[]) =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i).filter((seq) => !lost.includes(seq));

  it('skips an entry whose CRC fails and recovers every entry after it, counting the reading lost', async () => {
    const path = await writeTwenty();
    const entries = await entriesOf(path);
    // A flipped bit in the JSON of the 8th entry (seq 8): its framing still holds.
    await flipByte(path, entries[7]![1] - 10);

    const spool = await openSpool();
    expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(without(1, 20, 8));
    expect(spool.lastSeq(keyOf('tm-1'))).toBe(20);
    expect(spool.stats().depthEvents).toBe(19);
    expect(spool.stats().damage).toMatchObject({
      places: 1,
      entries: 1,
      events: 1,
      bytes: entries[7]![1] - entries[7]![0],
      uncountedBytes: 0,
      lostRanges: [{ key: keyOf('tm-1'), fromSeq: 8, toSeq: 8 }],
      summary: 'spool: 1 damaged entry skipped at start, 1 reading lost',
    });
    const damageLines = logged.filter((line) => line.includes('damaged'));
    expect(damageLines).toHaveLength(1);
    expect(damageLines[0]).toContain('gym-a/tm-1 8-8');
    // The damaged file is kept aside for a look; the segment itself is clean again.
    expect((await readdir(dir)).filter((name) => name.endsWith('.corrupt'))).toHaveLength(1);
    await spool.append([beltEvent('tm-1', 21)]);
    await spool.close();
    logged = [];
    const reopened = await openSpool();
    expect(seqsOf(reopened.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(without(1, 21, 8));
    expect(reopened.stats().damage).toMatchObject({ places: 0, events: 0, bytes: 0, summary: null });
    expect(logged.filter((line) => line.includes('damaged'))).toEqual([]);
  });

  it('resyncs on the next valid entry when the framing is broken, and infers the lost seqs from the gap', async () => {
    const path = await writeTwenty();
    const entries = await entriesOf(path);
    // Garbage over entries 5 to 7 (seqs 5-7), headers included, as a bad flash page would leave.
    const from = entries[4]![0] + 3;
    const to = entries[6]![1] - 5;
    await overwrite(path, from, Buffer.alloc(to - from, 0xa5));

    const spool = await openSpool();
    expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(without(1, 20, 5, 6, 7));
    expect(spool.stats().damage).toMatchObject({
      places: 1,
      entries: 0,
      events: 3,
      bytes: entries[6]![1] - entries[4]![0],
      uncountedBytes: entries[6]![1] - entries[4]![0],
      lostRanges: [{ key: keyOf('tm-1'), fromSeq: 5, toSeq: 7 }],
    });
    expect(spool.stats().damage.summary).toMatch(
      /^spool: damage skipped at start: \d+ bytes, at least 3 readings lost$/,
    );
  });

  it('sets a sealed segment aside when nothing valid follows its damage, and keeps the segments after it', async () => {
    const spool = await openSpool({ segmentBytes: 1024, maxBytes: 1 << 20 });
    await appendEach(spool, 'tm-1', 1, 30);
    await spool.close();
    const files = await segmentFiles();
    expect(files.length).toBeGreaterThan(2);
    const first = join(dir, files[0]!);
    const entries = await entriesOf(first);
    const lastSeqOfFirst = entries.length;
    // The last entry's header is garbage: nothing valid follows in this (sealed, fully fsynced) segment.
    await overwrite(first, entries.at(-1)![0], Buffer.alloc(8, 0xff));

    const reopened = await openSpool({ segmentBytes: 1024, maxBytes: 1 << 20 });
    expect(seqsOf(reopened.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(without(1, 30, lastSeqOfFirst));
    expect(reopened.stats().damage).toMatchObject({
      places: 1,
      events: 1,
      lostRanges: [{ key: keyOf('tm-1'), fromSeq: lastSeqOfFirst, toSeq: lastSeqOfFirst }],
    });
    expect((await readdir(dir)).some((name) => name.startsWith(files[0]!) && name.endsWith('.corrupt'))).toBe(
      true,
    );
  });

  it('does not count damage in entries Kinesis had already acknowledged', async () => {
    const spool = await openSpool();
    await appendEach(spool, 'tm-1', 1, 20);
    spool.ack(keyOf('tm-1'), 10);
    await spool.close();
    const [segment] = await segmentFiles();
    const entries = await entriesOf(join(dir, segment!));
    await flipByte(join(dir, segment!), entries[3]![1] - 10);

    const reopened = await openSpool();
    expect(seqsOf(reopened.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(without(11, 20));
    expect(reopened.stats().damage).toMatchObject({ places: 1, events: 0, lostRanges: [] });
  });

  it('counts damage met after open while paging from disk, and says so', async () => {
    const spool = await openSpool({ segmentBytes: 1024, maxBytes: 1 << 20, windowBytes: 600 });
    await appendEach(spool, 'tm-1', 1, 40);
    const [first, second] = await segmentFiles();
    // The disk goes bad under the running gateway, in a segment still waiting on disk only.
    const path = join(dir, second!);
    const entries = await entriesOf(path);
    await flipByte(path, entries[1]![1] - 10);
    expect(await entriesOf(join(dir, first!))).not.toHaveLength(0);

    // Polled rather than drain(): once paging passes the damage, the depth it still counted drops to 0 at the
    // end of the log, with nothing new to notify about.
    const seqs: number[] = [];
    const shipOnce = () => {
      for (const key of spool.keysWithBacklog()) {
        const events = spool.peek(key, 7, 1 << 20);
        seqs.push(...seqsOf(events));
        spool.ack(key, events.at(-1)!.seq);
      }
      return spool.stats().depthEvents;
    };
    await expect.poll(shipOnce, { interval: 5, timeout: 5_000 }).toBe(0);
    const damage = spool.stats().damage;
    expect(damage.places).toBe(1);
    expect(damage.bytes).toBe((await stat(path)).size - entries[1]![0]);
    expect(damage.summary).toMatch(/^spool: \d+ damaged bytes skipped since start, their readings lost$/);
    expect(seqs.length).toBeLessThan(40);
    expect(seqs.at(-1)).toBe(40);
  });

  it('still cuts a torn tail of the active segment silently: not counted as damage', async () => {
    const path = await writeTwenty();
    await truncate(path, (await stat(path)).size - 7);
    const spool = await openSpool();
    expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(without(1, 19));
    expect(spool.stats().damage).toMatchObject({ places: 0, events: 0, bytes: 0, summary: null });
    expect((await readdir(dir)).filter((name) => name.endsWith('.corrupt'))).toEqual([]);
  });
});
