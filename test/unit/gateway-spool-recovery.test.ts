/** The spool's recovery: its epoch across reopens and a wiped directory, and damage inside a segment. */
import { open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { appendEach, beltEvent, keyOf, seqsOf, spoolDirectory } from '../support/spool-directory.js';

const spools = spoolDirectory();

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('Spool epoch', () => {
  it('gives a new spool a ULID epoch, kept durably in the directory across reopens', async () => {
    const spool = await spools.open();
    expect(spool.epoch).toMatch(ULID);
    await appendEach(spool, 'tm-1', 1, 3);
    expect(spool.epochOf(keyOf('tm-1'), 1)).toBe(spool.epoch);
    const epoch = spool.epoch;
    await spool.close();
    expect(await readFile(join(spools.dir, 'epoch'), 'utf8')).toContain(epoch);
    const reopened = await spools.open();
    expect(reopened.epoch).toBe(epoch);
    expect(reopened.lastSeq(keyOf('tm-1'))).toBe(3);
  });

  it('gives a wiped spool directory a new, later epoch, and seq starts again at 1', async () => {
    const spool = await spools.open();
    await appendEach(spool, 'tm-1', 1, 3);
    const old = spool.epoch;
    await spool.close();
    // A replaced SD card, a reinstall, `rm -rf` of the spool.
    await rm(spools.dir, { recursive: true, force: true });
    await new Promise((resolve) => setTimeout(resolve, 2));
    const wiped = await spools.open();
    expect(wiped.epoch).toMatch(ULID);
    expect(wiped.epoch).not.toBe(old);
    expect(wiped.epoch > old).toBe(true);
    expect(wiped.lastSeq(keyOf('tm-1'))).toBe(0);
  });

  it('gives an existing spool without one an epoch at open; events appended before it ship without one', async () => {
    const spool = await spools.open();
    await appendEach(spool, 'tm-1', 1, 4);
    await appendEach(spool, 'tm-2', 1, 2);
    spool.ack(keyOf('tm-1'), 2);
    await spool.close();
    // As an older gateway left it.
    await rm(join(spools.dir, 'epoch'));
    const upgraded = await spools.open();
    expect(upgraded.epoch).toMatch(ULID);
    expect((await readdir(spools.dir)).includes('epoch')).toBe(true);
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
    const again = await spools.open();
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
    const spool = await spools.open();
    await appendEach(spool, 'tm-1', 1, 20);
    await spool.close();
    const [segment] = await spools.segmentFiles();
    return join(spools.dir, segment!);
  }

  const without = (from: number, to: number, ...lost: number[]) =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i).filter((seq) => !lost.includes(seq));

  it('skips an entry whose CRC fails and recovers every entry after it, counting the reading lost', async () => {
    const path = await writeTwenty();
    const entries = await entriesOf(path);
    // A flipped bit in the JSON of the 8th entry (seq 8): its framing still holds.
    await flipByte(path, entries[7]![1] - 10);

    const spool = await spools.open();
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
    const damageLines = spools.logged.filter((line) => line.includes('damaged'));
    expect(damageLines).toHaveLength(1);
    expect(damageLines[0]).toContain('gym-a/tm-1 8-8');
    // The damaged file is kept aside for a look; the segment itself is clean again.
    expect((await readdir(spools.dir)).filter((name) => name.endsWith('.corrupt'))).toHaveLength(1);
    await spool.append([beltEvent('tm-1', 21)]);
    await spool.close();
    spools.logged.length = 0;
    const reopened = await spools.open();
    expect(seqsOf(reopened.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(without(1, 21, 8));
    expect(reopened.stats().damage).toMatchObject({ places: 0, events: 0, bytes: 0, summary: null });
    expect(spools.logged.filter((line) => line.includes('damaged'))).toEqual([]);
  });

  it('resyncs on the next valid entry when the framing is broken, and infers the lost seqs from the gap', async () => {
    const path = await writeTwenty();
    const entries = await entriesOf(path);
    // Garbage over entries 5 to 7 (seqs 5-7), headers included, as a bad flash page would leave.
    const from = entries[4]![0] + 3;
    const to = entries[6]![1] - 5;
    await overwrite(path, from, Buffer.alloc(to - from, 0xa5));

    const spool = await spools.open();
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
    const spool = await spools.open({ segmentBytes: 1024, maxBytes: 1 << 20 });
    await appendEach(spool, 'tm-1', 1, 30);
    await spool.close();
    const files = await spools.segmentFiles();
    expect(files.length).toBeGreaterThan(2);
    const first = join(spools.dir, files[0]!);
    const entries = await entriesOf(first);
    const lastSeqOfFirst = entries.length;
    // The last entry's header is garbage: nothing valid follows in this (sealed, fully fsynced) segment.
    await overwrite(first, entries.at(-1)![0], Buffer.alloc(8, 0xff));

    const reopened = await spools.open({ segmentBytes: 1024, maxBytes: 1 << 20 });
    expect(seqsOf(reopened.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(without(1, 30, lastSeqOfFirst));
    expect(reopened.stats().damage).toMatchObject({
      places: 1,
      events: 1,
      lostRanges: [{ key: keyOf('tm-1'), fromSeq: lastSeqOfFirst, toSeq: lastSeqOfFirst }],
    });
    expect(
      (await readdir(spools.dir)).some((name) => name.startsWith(files[0]!) && name.endsWith('.corrupt')),
    ).toBe(true);
  });

  it('does not count damage in entries Kinesis had already acknowledged', async () => {
    const spool = await spools.open();
    await appendEach(spool, 'tm-1', 1, 20);
    spool.ack(keyOf('tm-1'), 10);
    await spool.close();
    const [segment] = await spools.segmentFiles();
    const entries = await entriesOf(join(spools.dir, segment!));
    await flipByte(join(spools.dir, segment!), entries[3]![1] - 10);

    const reopened = await spools.open();
    expect(seqsOf(reopened.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(without(11, 20));
    expect(reopened.stats().damage).toMatchObject({ places: 1, events: 0, lostRanges: [] });
  });

  it('counts damage met after open while paging from disk, and says so', async () => {
    const spool = await spools.open({ segmentBytes: 1024, maxBytes: 1 << 20, windowBytes: 600 });
    await appendEach(spool, 'tm-1', 1, 40);
    const [first, second] = await spools.segmentFiles();
    // The disk goes bad under the running gateway, in a segment still waiting on disk only.
    const path = join(spools.dir, second!);
    const entries = await entriesOf(path);
    await flipByte(path, entries[1]![1] - 10);
    expect(await entriesOf(join(spools.dir, first!))).not.toHaveLength(0);

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
    const spool = await spools.open();
    expect(seqsOf(spool.peek(keyOf('tm-1'), 100, 1 << 20))).toEqual(without(1, 19));
    expect(spool.stats().damage).toMatchObject({ places: 0, events: 0, bytes: 0, summary: null });
    expect((await readdir(spools.dir)).filter((name) => name.endsWith('.corrupt'))).toEqual([]);
  });
});
