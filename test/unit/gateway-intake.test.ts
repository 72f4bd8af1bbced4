import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DurableIntake, type EventLog } from '../../gateway-agent/src/intake.js';
import { RedeliveryJournal, messageFingerprint } from '../../gateway-agent/src/sources/redelivery.js';
import { CLOCK_TOLERANCE_MS, EventStamper, measuredAt } from '../../gateway-agent/src/stamp.js';
import { eventSchema, type TelemetryEvent } from '../../shared/src/telemetry/events.js';

const RX = Date.UTC(2026, 10, 24, 9, 0, 0);
const reading = (treadmillId: string, rxTs = RX) => ({
  gymId: 'gym-a',
  treadmillId,
  rxTs,
  body: { type: 'heartbeat' as const, online: true },
});

/**
 * An in-memory spool: appends recorded in order; `refuse` makes appends fail like reject-new; `hold` keeps
 * appends waiting until `release()`.
 */
class MemoryLog implements EventLog {
  readonly events: TelemetryEvent[] = [];
  readonly appends: number[] = [];
  refuse = false;
  calls = 0;
  #held: Promise<void> | undefined;
  release: () => void = () => undefined;
  constructor(readonly seqs: Record<string, number> = {}) {}
  hold(): void {
    this.#held = new Promise((resolve) => {
      this.release = resolve;
    });
  }
  async append(events: readonly TelemetryEvent[]): Promise<void> {
    this.calls++;
    await (this.#held ?? new Promise((resolve) => setTimeout(resolve, 1)));
    if (this.refuse) throw new Error('spool full');
    this.appends.push(events.length);
    this.events.push(...events);
    for (const event of events) this.seqs[`${event.gymId}/${event.treadmillId}`] = event.seq;
  }
  lastSeq(key: string): number {
    return this.seqs[key] ?? 0;
  }
}

describe('EventStamper', () => {
  it('continues each treadmill from the spool’s last seq, asking once per treadmill', () => {
    const asked: string[] = [];
    const stamper = new EventStamper((key) => (asked.push(key), key === 'gym-a/tm-1' ? 41 : 0));
    const seqs = ['tm-1', 'tm-2', 'tm-1', 'tm-1', 'tm-2'].map((tm) => stamper.stamp(reading(tm)).seq);
    expect(seqs).toEqual([42, 1, 43, 44, 2]);
    expect(asked).toEqual(['gym-a/tm-1', 'gym-a/tm-2']);
  });

  it('makes valid events with unique, time-ordered ULIDs', () => {
    const stamper = new EventStamper(() => 0);
    const events = Array.from({ length: 1000 }, () => stamper.stamp(reading('tm-1')));
    for (const event of events) expect(eventSchema.safeParse(event).success).toBe(true);
    const ids = events.map((event) => event.id);
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
  });

  it('trusts the device clock only within tolerance of receive time', () => {
    expect(measuredAt(RX - 1234, RX)).toBe(RX - 1234);
    expect(measuredAt(RX + CLOCK_TOLERANCE_MS, RX)).toBe(RX + CLOCK_TOLERANCE_MS);
    expect(measuredAt(RX - CLOCK_TOLERANCE_MS - 1, RX)).toBe(RX);
    expect(measuredAt(0, RX)).toBe(RX);
    expect(measuredAt(Number.NaN, RX)).toBe(RX);
    expect(measuredAt(undefined, RX)).toBe(RX);
    expect(measuredAt(RX - 0.6, RX)).toBe(RX - 1);
  });
});

describe('DurableIntake', () => {
  it('resolves only once durable, batching what arrives together in seq order', async () => {
    const log = new MemoryLog();
    const intake = new DurableIntake(log, new EventStamper((key) => log.lastSeq(key)));
    let durable = 0;
    const all = Array.from({ length: 300 }, (_, i) =>
      intake.submit('mqtt', reading(`tm-${i % 3}`)).then(() => durable++),
    );
    expect(durable).toBe(0);
    await Promise.all(all);
    expect(durable).toBe(300);
    expect(log.appends.length).toBeLessThan(10);
    for (const tm of ['tm-0', 'tm-1', 'tm-2'])
      expect(log.events.filter((e) => e.treadmillId === tm).map((e) => e.seq)).toEqual(
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
    expect(intake.stats().eventsIn).toEqual({ mqtt: 300 });
  });

  it('rejects the submissions of a refused append', async () => {
    const log = new MemoryLog();
    log.refuse = true;
    const intake = new DurableIntake(log, new EventStamper(() => 0));
    await expect(intake.submit('ble', reading('tm-1'))).rejects.toThrow('spool full');
    expect(intake.stats()).toMatchObject({ failedAppends: 1, eventsIn: {} });
  });
});

describe('RedeliveryJournal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fingerprints topic, packet id and payload', () => {
    const payload = Buffer.from('{"a":1}');
    const base = messageFingerprint('t/1', 7, payload);
    expect(messageFingerprint('t/1', 7, Buffer.from('{"a":1}'))).toBe(base);
    expect(messageFingerprint('t/2', 7, payload)).not.toBe(base);
    expect(messageFingerprint('t/1', 8, payload)).not.toBe(base);
    expect(messageFingerprint('t/1', 7, Buffer.from('{"a":2}'))).not.toBe(base);
  });

  it('recognises journaled messages whose events the spool holds, across a reopen', async () => {
    const log = new MemoryLog();
    const path = join(dir, 'journal');
    const journal = await RedeliveryJournal.open(path, (key) => log.lastSeq(key));
    const intake = new DurableIntake(log, new EventStamper((key) => log.lastSeq(key)), { journal });
    await Promise.all(['a', 'b', 'c'].map((fp) => intake.submit('mqtt', reading('tm-1'), fp)));
    expect(journal.isSpooled('a')).toBe(true);
    expect(journal.isSpooled('zzz')).toBe(false);
    await journal.close();

    const reopened = await RedeliveryJournal.open(path, (key) => log.lastSeq(key));
    expect(['a', 'b', 'c', 'd'].map((fp) => reopened.isSpooled(fp))).toEqual([true, true, true, false]);
    await reopened.close();
  });

  it('forgets entries the spool never got (crash before the append was durable), for good', async () => {
    const path = join(dir, 'journal');
    // As a crash can leave it: journaled up to seq 5, but the spool recovered seq 3; and a torn last line.
    await writeFile(path, '+ fp1 1 gym-a/tm-1\n+ fp3 3 gym-a/tm-1\n+ fp5 5 gym-a/tm-1\n+ fp6 6 gym');
    let lastSeq = 3;
    const journal = await RedeliveryJournal.open(path, () => lastSeq);
    expect(['fp1', 'fp3', 'fp5', 'fp6'].map((fp) => journal.isSpooled(fp))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    await journal.close();
    // Later appends reuse seq 4..9: fp5 must not come back as "spooled".
    lastSeq = 9;
    const reopened = await RedeliveryJournal.open(path, () => lastSeq);
    expect(reopened.isSpooled('fp5')).toBe(false);
    expect(await readFile(path, 'utf8')).not.toContain('fp5');
    await reopened.close();
  });

  it('voids a refused append before the next one, and answers a pending lookup when it settles', async () => {
    const log = new MemoryLog();
    const path = join(dir, 'journal');
    const journal = await RedeliveryJournal.open(path, (key) => log.lastSeq(key));
    const intake = new DurableIntake(log, new EventStamper((key) => log.lastSeq(key)), { journal });
    log.refuse = true;
    log.hold();
    const refused = intake.submit('mqtt', reading('tm-1'), 'lost');
    while (log.calls === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    const pending = journal.isSpooled('lost');
    expect(pending).toBeInstanceOf(Promise);
    log.release();
    await expect(refused).rejects.toThrow();
    await expect(pending).resolves.toBe(false);
    log.refuse = false;
    log.hold();
    log.release();
    await intake.submit('mqtt', reading('tm-1'), 'kept');
    await journal.close();
    // seq 1 was refused, seq 2 spooled: lastSeq 2 >= 1, yet "lost" stays unspooled thanks to the void line.
    const reopened = await RedeliveryJournal.open(path, (key) => log.lastSeq(key));
    expect([reopened.isSpooled('lost'), reopened.isSpooled('kept')]).toEqual([false, true]);
    await reopened.close();
  });

  it('keeps the newest `capacity` fingerprints', async () => {
    const journal = await RedeliveryJournal.open(join(dir, 'journal'), () => 1_000, 10);
    const batch = journal.record(
      Array.from({ length: 25 }, (_, i) => ({ fingerprint: `f${i}`, key: 'k', seq: i + 1 })),
    );
    await batch.written;
    await batch.settle(true);
    expect(journal.size).toBe(10);
    expect([journal.isSpooled('f14'), journal.isSpooled('f15'), journal.isSpooled('f24')]).toEqual([
      false,
      true,
      true,
    ]);
    await journal.close();
  });
});
