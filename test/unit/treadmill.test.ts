import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  advanceTreadmill,
  advanceTreadmillEpochs,
  type EpochEvents,
  emptyTreadmill,
  IDLE_TIMEOUT_MS,
  OFFLINE_AFTER_MS,
  setAsideTreadmill,
  sweepTreadmill,
  type TreadmillAdvance,
  type TreadmillState,
  treadmillStatus,
} from '../../shared/src/metrics/treadmill.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { StreamBuilder, T0 } from '../support/events.js';

const fresh = (): TreadmillState => emptyTreadmill('gym-a', 'tm-01');

/** Applies batches in turn, collecting what each produced. */
function run(batches: readonly (readonly TelemetryEvent[])[], from = fresh()) {
  let state = from;
  const ended: TreadmillAdvance['ended'] = [];
  const opened: string[] = [];
  const chunks: TreadmillAdvance['sealedChunks'] = [];
  for (const batch of batches) {
    const advance = advanceTreadmill(state, batch);
    state = advance.state;
    ended.push(...advance.ended);
    opened.push(...advance.opened);
    chunks.push(...advance.sealedChunks);
  }
  return { state, ended, opened, chunks };
}

/** Two members, an idle gap, a machine-started session and a safety stop: every boundary kind. */
function busyDay(): StreamBuilder {
  const b = new StreamBuilder();
  b.add(T0, { type: 'session', action: 'start', userToken: 'member-a', program: 'backward' });
  b.walk(T0 + 1_000, 420, { speedKmh: 3, hrBpm: 110, strike: 'toe' });
  b.add(T0 + 421_000, { type: 'session', action: 'start', userToken: 'member-b' });
  b.walk(T0 + 422_000, 60, { speedKmh: 5, hrBpm: 120, strike: 'heel' });
  b.add(T0 + 483_000, { type: 'session', action: 'end' });
  b.walk(T0 + 600_000, 30, { speedKmh: 4 });
  b.walk(T0 + 630_000, 320, { speedKmh: 0, hrBpm: 90 });
  b.add(T0 + 1_000_000, { type: 'machine', state: 'started' });
  b.walk(T0 + 1_001_000, 20, { speedKmh: 6 });
  b.add(T0 + 1_021_000, { type: 'machine', state: 'safety_stop' });
  b.add(T0 + 1_022_000, { type: 'machine', state: 'stopped', odometerKm: 1234.5, beltHours: 321 });
  return b;
}

describe('session boundaries', () => {
  it('opens on a session start with a deterministic id and ends on the session end', () => {
    const b = new StreamBuilder();
    b.add(T0, { type: 'heartbeat', online: true });
    b.add(T0 + 1_000, { type: 'session', action: 'start', userToken: 'member-a' });
    b.walk(T0 + 2_000, 30, { speedKmh: 4 });
    const opened = advanceTreadmill(fresh(), b.events);
    expect(opened.opened).toEqual(['gym-a:tm-01:2']);
    expect(opened.started.map((s) => s.sessionId)).toEqual(['gym-a:tm-01:2']);
    expect(treadmillStatus(opened.state)).toBe('in_use');
    expect(opened.state.session?.userToken).toBe('member-a');

    b.add(T0 + 40_000, { type: 'session', action: 'end' });
    const closed = advanceTreadmill(opened.state, b.events.slice(-1));
    expect(closed.ended.map((e) => [e.state.sessionId, e.reason])).toEqual([
      ['gym-a:tm-01:2', 'session_end'],
    ]);
    expect(closed.state.session).toBeNull();
    expect(treadmillStatus(closed.state)).toBe('idle');
  });

  it('opens on the first movement, not on a standing belt, and a machine stop ends it', () => {
    const b = new StreamBuilder();
    b.walk(T0, 5, { speedKmh: 0.3 });
    b.walk(T0 + 5_000, 5, { speedKmh: 4 });
    b.add(T0 + 10_000, { type: 'machine', state: 'stopped' });
    const { ended, opened } = run([b.events]);
    expect(opened).toEqual(['gym-a:tm-01:6']);
    expect(ended.map((e) => e.reason)).toEqual(['machine_stop']);
    expect(ended[0]?.state.startTs).toBe(T0 + 5_000);
  });

  it('a machine start opens a session that the member then claims', () => {
    const b = new StreamBuilder();
    b.add(T0, { type: 'machine', state: 'started' });
    b.add(T0 + 500, { type: 'session', action: 'start', userToken: 'member-a' });
    b.walk(T0 + 1_000, 10, { speedKmh: 4 });
    const { state, opened } = run([b.events]);
    expect(opened).toEqual(['gym-a:tm-01:1']);
    expect(state.session?.userToken).toBe('member-a');
  });

  it('another member starting ends the current session; the same member does not', () => {
    const b = new StreamBuilder();
    b.add(T0, { type: 'session', action: 'start', userToken: 'member-a' });
    b.walk(T0 + 1_000, 10, { speedKmh: 4 });
    b.add(T0 + 11_000, { type: 'session', action: 'start', userToken: 'member-a' });
    b.walk(T0 + 12_000, 10, { speedKmh: 4 });
    b.add(T0 + 22_000, { type: 'session', action: 'start', userToken: 'member-b' });
    b.walk(T0 + 23_000, 10, { speedKmh: 4 });
    const { state, ended, opened } = run([b.events]);
    expect(ended.map((e) => [e.reason, e.state.userToken])).toEqual([['new_member', 'member-a']]);
    expect(opened).toHaveLength(2);
    expect(state.session?.userToken).toBe('member-b');
  });

  it('ends after 5 minutes without movement, even while other events keep coming', () => {
    const b = new StreamBuilder();
    b.walk(T0, 60, { speedKmh: 4 });
    b.walk(T0 + 60_000, 400, { speedKmh: 0, hrBpm: 90 });
    const { state, ended } = run([b.events]);
    expect(ended.map((e) => e.reason)).toEqual(['idle']);
    // The last moving sample was at T0 + 59 s: the session takes the events before T0 + 59 s + 5 min.
    expect(ended[0]?.state.lastEventTs).toBeLessThan(T0 + 59_000 + IDLE_TIMEOUT_MS);
    expect(ended[0]?.state.lastEventTs).toBeGreaterThan(T0 + 59_000 + IDLE_TIMEOUT_MS - 2_000);
    expect(state.session).toBeNull();
  });

  it('seals a timeline chunk every 5 minutes of a long session', () => {
    const b = new StreamBuilder();
    b.walk(T0, 700, { speedKmh: 4 });
    const { chunks } = run([b.events]);
    expect(chunks.map((c) => c.chunk.index)).toEqual([0, 1]);
    expect(chunks.every((c) => c.sessionId === 'gym-a:tm-01:1')).toBe(true);
  });

  it('tells the direction of each run of events from its session', () => {
    const b = new StreamBuilder();
    b.add(T0, { type: 'session', action: 'start', userToken: 'member-a', program: 'backward' });
    b.walk(T0 + 1_000, 5, { speedKmh: 3 });
    b.add(T0 + 6_000, { type: 'session', action: 'end' });
    b.add(T0 + 7_000, { type: 'heartbeat', online: true });
    const { segments } = advanceTreadmill(fresh(), b.events);
    expect(segments.map((s) => [s.sessionId, s.direction, s.events.length])).toEqual([
      ['gym-a:tm-01:1', 'backward', 7],
      [null, 'unknown', 1],
    ]);
  });
});

describe('treadmill state', () => {
  it('latches a fault from a safety stop or an error code until the next start', () => {
    const b = new StreamBuilder();
    b.walk(T0, 5, { speedKmh: 4 });
    b.add(T0 + 5_000, { type: 'machine', state: 'safety_stop' });
    const stopped = run([b.events]).state;
    expect(treadmillStatus(stopped)).toBe('fault');
    expect(stopped.fault?.reason).toBe('safety_stop');

    b.add(T0 + 6_000, { type: 'machine', errorCode: 'E07', motorTempC: 71 });
    const errored = run([b.events.slice(-1)], stopped).state;
    expect(errored.fault).toEqual({ reason: 'error_code', ts: T0 + 6_000, errorCode: 'E07' });
    expect(errored.motorTempC).toBe(71);

    b.add(T0 + 7_000, { type: 'machine', state: 'started' });
    const restarted = run([b.events.slice(-1)], errored).state;
    expect(restarted.fault).toBeNull();
    expect(treadmillStatus(restarted)).toBe('in_use');
  });

  it('goes offline on an offline heartbeat and back online with the next event', () => {
    const b = new StreamBuilder();
    b.add(T0, { type: 'heartbeat', online: false, firmware: '2.1' });
    const offline = run([b.events]).state;
    expect(treadmillStatus(offline)).toBe('offline');
    expect(offline.firmware).toBe('2.1');
    b.add(T0 + 1_000, { type: 'heartbeat', online: true });
    expect(treadmillStatus(run([b.events.slice(-1)], offline).state)).toBe('idle');
  });

  it('keeps odometer, belt hours and the last seen time', () => {
    const { state } = run([busyDay().events]);
    expect(state.odometerKm).toBe(1234.5);
    expect(state.beltHours).toBe(321);
    expect(state.lastSeenTs).toBe(T0 + 1_022_000);
  });
});

describe('replays and batching', () => {
  const events = busyDay().events;
  const whole = run([events]);

  it('ends every kind of session in the busy day', () => {
    expect(whole.ended.map((e) => e.reason)).toEqual(['new_member', 'session_end', 'idle', 'machine_stop']);
  });

  it('skips a replayed batch entirely', () => {
    const again = advanceTreadmill(whole.state, events);
    expect(again.applied).toBe(0);
    expect(again.skipped).toBe(events.length);
    expect(again.state).toEqual(whole.state);
    expect(again.ended).toEqual([]);
  });

  it('gives the same sessions however the stream is cut into batches and duplicated', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: events.length - 1 }), { maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 30 })), { maxLength: 6 }),
        (cuts, duplicates) => {
          const bounds = [0, ...[...cuts].sort((a, b) => a - b), events.length];
          const batches = bounds.slice(1).map((end, i) => events.slice(bounds[i], end));
          // A duplicate re-delivers an earlier stretch of events at the end of some batch (at-least-once).
          for (const [at, length] of duplicates) {
            const target = batches[at % batches.length]!;
            const lastSeq = target.at(-1)?.seq ?? 1;
            const from = Math.max(0, lastSeq - 1 - length);
            target.push(...events.slice(from, lastSeq));
          }
          const split = run(batches);
          expect(split.state).toEqual(whole.state);
          expect(split.ended).toEqual(whole.ended);
          expect(split.opened).toEqual(whole.opened);
          expect(split.chunks).toEqual(whole.chunks);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('sweepTreadmill (wall clock)', () => {
  const b = new StreamBuilder();
  b.walk(T0, 30, { speedKmh: 4 });
  const active = run([b.events]).state;
  const lastTs = T0 + 29_000;

  it('changes nothing before 5 minutes', () => {
    expect(sweepTreadmill(active, lastTs + IDLE_TIMEOUT_MS - 1).changed).toBe(false);
  });

  it('closes the idle session and marks the silent treadmill offline at 5 minutes', () => {
    const sweep = sweepTreadmill(active, lastTs + Math.max(IDLE_TIMEOUT_MS, OFFLINE_AFTER_MS));
    expect(sweep.ended.map((e) => [e.reason, e.state.sessionId])).toEqual([['idle', 'gym-a:tm-01:1']]);
    expect(sweep.wentOffline).toBe(true);
    expect(treadmillStatus(sweep.state)).toBe('offline');
    expect(sweepTreadmill(sweep.state, lastTs + 2 * OFFLINE_AFTER_MS).changed).toBe(false);
  });

  it('closes a session whose belt stopped while heartbeats keep the treadmill online', () => {
    const standing = new StreamBuilder();
    standing.walk(T0, 10, { speedKmh: 4 });
    standing.add(T0 + 200_000, { type: 'heartbeat', online: true });
    const state = run([standing.events]).state;
    const sweep = sweepTreadmill(state, T0 + 9_000 + IDLE_TIMEOUT_MS);
    expect(sweep.ended).toHaveLength(1);
    expect(sweep.wentOffline).toBe(false);
  });
});

describe('spool epochs (seq starts again under a later epoch)', () => {
  const A = '01JD0000000000000000000000';
  const B = '01JE0000000000000000000000';
  // Epoch A: a member walks and ends; epoch B (the spool was wiped): seq 1 again, another member, then idle.
  const a = new StreamBuilder();
  a.add(T0, { type: 'session', action: 'start', userToken: 'member-a' });
  a.walk(T0 + 1_000, 40, { speedKmh: 4 });
  a.add(T0 + 41_000, { type: 'session', action: 'end' });
  const b = new StreamBuilder();
  b.add(T0 + 100_000, { type: 'session', action: 'start', userToken: 'member-b' });
  b.walk(T0 + 101_000, 40, { speedKmh: 3, strike: 'toe' });
  b.walk(T0 + 141_000, 320, { speedKmh: 0 });
  const whole = advanceTreadmillEpochs(fresh(), [
    { epoch: A, events: a.events },
    { epoch: B, events: b.events },
  ]);

  it('applies the later epoch from seq 1 with session ids of a new generation', () => {
    expect(whole.applied).toBe(a.events.length + b.events.length);
    expect(whole.epochsStarted).toEqual([{ from: A, to: B }]);
    expect(whole.state).toMatchObject({ spoolEpoch: B, spoolGeneration: 1, seqWatermark: b.events.length });
    expect(whole.ended.map((e) => [e.state.sessionId, e.state.userToken, e.reason])).toEqual([
      ['gym-a:tm-01:1', 'member-a', 'session_end'],
      ['gym-a:tm-01:1:1', 'member-b', 'idle'],
    ]);
  });

  it('takes the first epoch of a treadmill without events as it is: nothing started again', () => {
    const first = advanceTreadmill(fresh(), a.events, A);
    expect(first.epochsStarted).toEqual([]);
    expect(first.state).toMatchObject({ spoolEpoch: A, spoolGeneration: 0 });
  });

  it('skips and counts the events of an earlier epoch, the legacy one included', () => {
    const stale = advanceTreadmillEpochs(whole.state, [
      { epoch: A, events: a.events },
      { epoch: '', events: a.events },
    ]);
    expect(stale).toMatchObject({
      applied: 0,
      skipped: 2 * a.events.length,
      staleEpochEvents: 2 * a.events.length,
    });
    expect(stale.state).toEqual(whole.state);
  });

  it('keeps a session open across the epoch change, its own seq counting again', () => {
    const walking = new StreamBuilder();
    walking.walk(T0, 30, { speedKmh: 4 });
    const again = new StreamBuilder();
    again.walk(T0 + 40_000, 30, { speedKmh: 4 });
    const run = advanceTreadmillEpochs(fresh(), [
      { epoch: A, events: walking.events },
      { epoch: B, events: again.events },
    ]);
    expect(run.opened).toEqual(['gym-a:tm-01:1']);
    expect(run.state.session?.seqWatermark).toBe(30);
    // Both runs reduced: 29 s of each; the 11 s across the change are a gap (over MAX_SAMPLE_GAP_S).
    expect(run.state.session?.totals.unknown.movingS).toBeCloseTo(58, 5);
  });

  it('gives the same sessions however the two epochs are cut into batches and duplicated', () => {
    const stream: Array<{ epoch: string; event: TelemetryEvent }> = [
      ...a.events.map((event) => ({ epoch: A, event })),
      ...b.events.map((event) => ({ epoch: B, event })),
    ];
    const toRuns = (slice: typeof stream): EpochEvents[] => {
      const runs: Array<{ epoch: string; events: TelemetryEvent[] }> = [];
      for (const { epoch, event } of slice) {
        const last = runs.at(-1);
        if (last?.epoch === epoch) last.events.push(event);
        else runs.push({ epoch, events: [event] });
      }
      return runs;
    };
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 10 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 40 })), { maxLength: 5 }),
        (cuts, duplicates) => {
          const bounds = [0, ...[...cuts].sort((x, y) => x - y), stream.length];
          const batches = bounds.slice(1).map((end, i) => stream.slice(bounds[i], end));
          // A duplicate re-delivers an earlier stretch at the end of a batch, of either epoch.
          for (const [at, length] of duplicates) {
            const index = at % batches.length;
            const end = bounds[index + 1] ?? stream.length;
            batches[index]!.push(...stream.slice(Math.max(0, end - 1 - length), end));
          }
          let state = fresh();
          const ended: TreadmillAdvance['ended'] = [];
          const opened: string[] = [];
          for (const batch of batches) {
            const advance = advanceTreadmillEpochs(state, toRuns(batch));
            state = advance.state;
            ended.push(...advance.ended);
            opened.push(...advance.opened);
          }
          expect(state).toEqual(whole.state);
          expect(ended).toEqual(whole.ended);
          expect(opened).toEqual(whole.opened);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('sets a batch aside: the watermark moves past it, the open session is dropped, nothing else changes', () => {
    const open = advanceTreadmill(fresh(), a.events.slice(0, 20), A).state;
    const aside = setAsideTreadmill(open, [
      { epoch: A, events: a.events },
      { epoch: B, events: b.events.slice(0, 10) },
    ]);
    expect(aside.session?.sessionId).toBe('gym-a:tm-01:1');
    expect(aside.events.map((run) => [run.epoch, run.events[0]?.seq, run.events.at(-1)?.seq])).toEqual([
      [A, 21, a.events.length],
      [B, 1, 10],
    ]);
    expect(aside.epochsStarted).toEqual([{ from: A, to: B }]);
    expect(aside.state).toEqual({
      ...open,
      session: null,
      spoolEpoch: B,
      spoolGeneration: 1,
      seqWatermark: 10,
    });
  });
});
