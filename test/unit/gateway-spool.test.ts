import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Spool,
  SpoolFullError,
  SpoolLockedError,
  type Spool as SpoolType,
} from '../../gateway-agent/src/spool.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';

import { appendEach, beltEvent, drain, keyOf, seqsOf, spoolDirectory } from '../support/spool-directory.js';

const spools = spoolDirectory();

describe('Spool append and reopen', () => {
  it('returns every event after a reopen, per key in seq order, across segments', async () => {
    const spool = await spools.open({ segmentBytes: 1024, maxBytes: 1 << 20 });
    const written: TelemetryEvent[] = [];
    for (let seq = 1; seq <= 40; seq++) {
      const batch = ['tm-1', 'tm-2', 'tm-3'].map((treadmill) => beltEvent(treadmill, seq));
      written.push(...batch);
      await spool.append(batch);
    }
    expect((await spools.segmentFiles()).length).toBeGreaterThan(3);
    await spool.close();

    const reopened = await spools.open({ segmentBytes: 1024, maxBytes: 1 << 20 });
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
    const spool = await spools.open();
    await Promise.all(
      Array.from({ length: 200 }, (_, index) => spool.append([beltEvent('tm-1', index + 1)])),
    );
    expect(spool.stats().appended).toBe(200);
    // Group commit: appends that arrive while an fsync is in flight share the next one.
    expect(spool.stats().fsyncs).toBeLessThan(20);
    await spool.close();
    const reopened = await spools.open();
    expect(seqsOf(reopened.peek(keyOf('tm-1'), 1000, 1 << 20))).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
  });

  it('refuses a seq that does not increase for its key, and writes nothing of that call', async () => {
    const spool = await spools.open();
    await spool.append([beltEvent('tm-1', 5)]);
    await expect(spool.append([beltEvent('tm-2', 1), beltEvent('tm-1', 5)])).rejects.toThrow(/seq 5/);
    expect(spool.lastSeq(keyOf('tm-2'))).toBe(0);
    expect(spool.stats().appended).toBe(1);
  });

  it('limits peek by count and by the JSON array size, but always returns one event', async () => {
    const spool = await spools.open();
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
      await writeFile(join(spools.dir, 'spool.lock'), String(holder.pid));
      await expect(Spool.open({ dir: spools.dir })).rejects.toThrow(SpoolLockedError);
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'exit');
    }
    // Its process is gone now: the lock is stale.
    const spool = await spools.open({});
    expect(await readFile(join(spools.dir, 'spool.lock'), 'utf8')).toBe(String(process.pid));
    await spool.close();
    await expect(stat(join(spools.dir, 'spool.lock'))).rejects.toThrow();
  });
});

describe('Spool torn tail', () => {
  async function writeTen(): Promise<string> {
    const spool = await spools.open();
    await appendEach(spool, 'tm-1', 1, 10);
    await spool.close();
    // As after a crash while appending: no ack file was written since.
    await rm(join(spools.dir, 'acks.json'));
    const [segment] = await spools.segmentFiles();
    return join(spools.dir, segment!);
  }

  async function expectNineSurvive(path: string): Promise<void> {
    const sizeOfNine = await (async () => {
      const spool = await spools.open();
      expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(spool.lastSeq(keyOf('tm-1'))).toBe(9);
      expect(spools.logged.join('\n')).toMatch(/cut \d+ bytes/);
      const size = (await stat(path)).size;
      // Appending after the cut continues the log cleanly.
      await spool.append([beltEvent('tm-1', 10)]);
      await spool.close();
      return size;
    })();
    const lengthOfTen = (await stat(path)).size;
    expect(lengthOfTen).toBeGreaterThan(sizeOfNine);
    const spool = await spools.open();
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
    const spool = await spools.open();
    expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))).toHaveLength(10);
    expect((await stat(path)).size).toBe(size);
  });
});

describe('Spool acks', () => {
  it('keeps acks across a reopen: acked events never come back', async () => {
    const spool = await spools.open({ segmentBytes: 1024, maxBytes: 1 << 20 });
    await appendEach(spool, 'tm-1', 1, 30);
    await appendEach(spool, 'tm-2', 1, 5);
    spool.ack(keyOf('tm-1'), 20);
    spool.ack(keyOf('tm-2'), 5);
    expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))[0]).toBe(21);
    expect(spool.keysWithBacklog()).toEqual(['gym-a/tm-1']);
    await spool.close();

    const reopened = await spools.open({ segmentBytes: 1024, maxBytes: 1 << 20 });
    expect(seqsOf(reopened.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 21),
    );
    expect(reopened.peek(keyOf('tm-2'), 100, 1 << 20)).toEqual([]);
    expect(reopened.stats().depthEvents).toBe(10);
    reopened.ack(keyOf('tm-1'), 30);
    await reopened.close();
    // Only the active segment is left once everything is acked.
    expect(await spools.segmentFiles()).toHaveLength(1);
  });

  it('never acks past what it has handed out', async () => {
    const spool = await spools.open();
    await appendEach(spool, 'tm-1', 1, 3);
    spool.ack(keyOf('tm-1'), 99);
    await appendEach(spool, 'tm-1', 4, 5);
    expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual([4, 5]);
    expect(spool.stats().depthEvents).toBe(2);
    await spool.close();
    const reopened = await spools.open();
    expect(seqsOf(reopened.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual([4, 5]);
  });

  it('persists acks within the flush interval, without a close', async () => {
    const spool = await spools.open({ ackFlushMs: 10 });
    await appendEach(spool, 'tm-1', 1, 5);
    spool.ack(keyOf('tm-1'), 3);
    const persistedAck = () =>
      readFile(join(spools.dir, 'acks.json'), 'utf8').then(
        (text) => (JSON.parse(text) as { keys: Record<string, [number, number]> }).keys[keyOf('tm-1')]?.[0],
        () => undefined,
      );
    await expect.poll(persistedAck, { interval: 5 }).toBe(3);
    // A second spool on the same files sees the persisted acks, as a restart after a crash would.
    const other = await spools.open();
    expect(seqsOf(other.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual([4, 5]);
  });

  it('recovers lastSeq from the ack file when every segment file is gone', async () => {
    const spool = await spools.open({ segmentBytes: 1024, maxBytes: 1 << 20 });
    await appendEach(spool, 'tm-1', 1, 25);
    await appendEach(spool, 'tm-2', 1, 3);
    spool.ack(keyOf('tm-1'), 25);
    spool.ack(keyOf('tm-2'), 3);
    await spool.close();
    for (const name of await spools.segmentFiles()) await rm(join(spools.dir, name));

    const reopened = await spools.open({ segmentBytes: 1024, maxBytes: 1 << 20 });
    expect(reopened.lastSeq(keyOf('tm-1'))).toBe(25);
    expect(reopened.lastSeq(keyOf('tm-2'))).toBe(3);
    expect(reopened.stats().depthEvents).toBe(0);
    await expect(reopened.append([beltEvent('tm-1', 25)])).rejects.toThrow(RangeError);
    await reopened.append([beltEvent('tm-1', 26)]);
  });

  it('keeps lastSeq of unacked events in the log ahead of an older ack file', async () => {
    const spool = await spools.open();
    await appendEach(spool, 'tm-1', 1, 4);
    spool.ack(keyOf('tm-1'), 2);
    await spool.close();
    const reopened = await spools.open();
    await appendEach(reopened, 'tm-1', 5, 9);
    // A crash: no close, so the ack file still says lastSeq 4.
    const recovered = await spools.open();
    expect(recovered.lastSeq(keyOf('tm-1'))).toBe(9);
  });
});

describe('Spool bounds', () => {
  it('drop-oldest drops whole segments and counts and records exactly the events that vanished', async () => {
    const spool = await spools.open({ segmentBytes: 2048, maxBytes: 8192, policy: 'drop-oldest' });
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
    expect(spools.logged.some((line) => line.includes('dropped') && line.includes('gym-a/tm-1 1-'))).toBe(
      true,
    );
  });

  it('reject-new rejects appends that do not fit, and accepts again once acks free space', async () => {
    const spool = await spools.open({
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
    const spool = await spools.open({ segmentBytes: 1024, maxBytes: 2048, policy: 'drop-oldest' });
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
    const spool = await spools.open({ segmentBytes: 1024, maxBytes: 2048, policy: 'reject-new' });
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
    const spool = await spools.open({ segmentBytes: 4096, maxBytes: 1 << 20, windowBytes: 1500 });
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
    const reopened = await spools.open({ segmentBytes: 4096, maxBytes: 1 << 20, windowBytes: 1500 });
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
