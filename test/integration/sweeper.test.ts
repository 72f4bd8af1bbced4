import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetKey } from '../../functions/lib/fleet-repo.js';
import { DEAD_LETTER_SOURCE } from '../../functions/lib/ingest-batch.js';
import { sweep } from '../../functions/lib/sweep.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { IDLE_TIMEOUT_MS } from '../../shared/src/metrics/treadmill.js';
import { StreamBuilder, T0 } from '../support/events.js';
import { type PipelineRun, putRecords, startPipeline, toRecords } from '../support/pipeline.js';
import { poisonedClient } from '../support/poisoned-client.js';

describe('sweeper against the emulator', () => {
  let kit: EmbeddedAws;
  let pipeline: PipelineRun;
  const moving = new StreamBuilder('gym-a', 'tm-01');
  moving.add(T0, { type: 'session', action: 'start', userToken: 'member-a', program: 'backward' });
  moving.walk(T0 + 1_000, 120, { speedKmh: 2.5, strike: 'toe' });
  const silentFrom = T0 + 121_000;
  // A second treadmill reports until T0 + 5 min but its belt stopped at T0 + 29 s: online, session idle.
  const standing = new StreamBuilder('gym-a', 'tm-02');
  standing.walk(T0, 30, { speedKmh: 4 });
  standing.walk(T0 + 30_000, 270, { speedKmh: 0 });

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    kit = await startEmbeddedAws({ shards: 1 });
    pipeline = await startPipeline(kit, { prefix: 'sweep' });
    await putRecords(kit, kit.streamName, toRecords([moving.events, standing.events]));
    await pipeline.runner.drain();
  });

  afterAll(async () => {
    await pipeline?.runner.stop();
    await kit?.stop();
  });

  const fleetItem = async (treadmillId: string) =>
    (
      await pipeline.doc.send(
        new GetCommand({ TableName: pipeline.tables.fleet, Key: fleetKey('gym-a', treadmillId) }),
      )
    ).Item;

  it('leaves sessions and treadmills alone before 5 minutes', async () => {
    const report = await sweep(pipeline.processing, T0 + 29_000 + IDLE_TIMEOUT_MS - 1_000);
    expect(report).toMatchObject({ sessionsEnded: 0, wentOffline: 0 });
    expect((await fleetItem('tm-01'))?.status).toBe('in_use');
    expect((await fleetItem('tm-02'))?.status).toBe('in_use');
  });

  it('closes the idle sessions, finalizes them like ingest and marks the silent treadmill offline', async () => {
    const now = silentFrom + IDLE_TIMEOUT_MS + 30_000;
    const report = await sweep(pipeline.processing, now);
    expect(report).toMatchObject({ sessionsEnded: 2, wentOffline: 1, failed: 0 });
    expect(await fleetItem('tm-02')).toMatchObject({ status: 'idle', offline: false });
    expect((await pipeline.processing.sessions.getSummary('gym-a:tm-02:1'))?.endReason).toBe('idle');

    const silent = await fleetItem('tm-01');
    expect(silent).toMatchObject({ status: 'offline', openAlerts: 1, openAlertKinds: ['offline'] });
    expect(silent?.sessionId).toBeUndefined();
    const summary = await pipeline.processing.sessions.getSummary('gym-a:tm-01:1');
    expect(summary).toMatchObject({
      status: 'ended',
      endReason: 'idle',
      userToken: 'member-a',
      endTs: Math.max(...moving.events.map((e) => e.ts)),
    });
    expect(summary?.activeShard).toBeUndefined();
    const detail = await pipeline.processing.sessions.getDetail('gym-a:tm-01:1');
    expect(detail?.backward.movingS).toBeGreaterThan(100);
    expect(detail?.profileDefaults).toEqual([]);
    const week = await pipeline.processing.rollups.getMemberWeek('member-a', '2026-W48');
    expect(week).toMatchObject({
      sessions: 1,
      ageBand: '60-69',
      sex: 'female',
    });
    expect(JSON.stringify(week)).not.toContain('example.org');
    const alerts = await pipeline.processing.alerts.listOpen('gym-a');
    expect(alerts.map((a) => [a.treadmillId, a.kind])).toContainEqual(['tm-01', 'offline']);

    // A second sweep finds nothing new to do.
    expect(await sweep(pipeline.processing, now + 60_000)).toMatchObject({
      sessionsEnded: 0,
      wentOffline: 0,
    });
  });

  it('brings a treadmill back online with its next events and clears the offline alert', async () => {
    const back = new StreamBuilder('gym-a', 'tm-01');
    back.add(T0, { type: 'heartbeat', online: true });
    // Continue the treadmill's own seq numbering after what it already sent.
    const next = back.events.map((event) => ({
      ...event,
      seq: moving.events.length + 1,
      ts: silentFrom + 900_000,
    }));
    await putRecords(kit, kit.streamName, toRecords([next]));
    await pipeline.runner.drain();
    expect(await fleetItem('tm-01')).toMatchObject({ status: 'idle', openAlerts: 0 });
    expect((await pipeline.processing.alerts.listOpen('gym-a')).map((a) => a.treadmillId)).not.toContain(
      'tm-01',
    );
  });
});

describe('sweeper: a session it closes that can never be finalized', () => {
  let kit: EmbeddedAws;
  let pipeline: PipelineRun;
  const poisoned = 'gym-a:tm-03:1';
  const walk = new StreamBuilder('gym-a', 'tm-03');
  walk.add(T0, { type: 'session', action: 'start', userToken: 'member-a' });
  walk.walk(T0 + 1_000, 60, { speedKmh: 4 });
  const last = walk.events.at(-1)!;

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    kit = await startEmbeddedAws({ shards: 1 });
    pipeline = await startPipeline(kit, {
      prefix: 'sweep-poison',
      client: poisonedClient(kit, poisoned).client,
    });
    await putRecords(kit, kit.streamName, toRecords([walk.events]));
    await pipeline.runner.drain();
  });

  afterAll(async () => {
    await pipeline?.runner.stop();
    await kit?.stop();
  });

  it('fails the first two sweeps, sets the session aside on the third, and the treadmill moves on', async () => {
    const now = last.ts + IDLE_TIMEOUT_MS + 30_000;
    // The sweep closes the session (committed as pending), then cannot finalize it.
    expect(await sweep(pipeline.processing, now)).toMatchObject({ failed: 1 });
    expect(await sweep(pipeline.processing, now + 60_000)).toMatchObject({ failed: 1 });
    expect(await sweep(pipeline.processing, now + 120_000)).toMatchObject({ failed: 0, poisonSetAside: 1 });
    expect(await sweep(pipeline.processing, now + 180_000)).toMatchObject({ failed: 0, poisonSetAside: 0 });

    const { Item } = await pipeline.doc.send(
      new GetCommand({ TableName: pipeline.tables.fleet, Key: fleetKey('gym-a', 'tm-03') }),
    );
    expect(Item?.pendingFinals).toBeUndefined();
    const letters = await pipeline.processing.deadLetters.list(DEAD_LETTER_SOURCE, '2026-11-24');
    expect(letters.map((l) => [l.kind, l.sessionId, l.seqFrom, l.seqTo, l.attempts])).toEqual([
      ['session', poisoned, 1, last.seq, 3],
    ]);
    expect(letters[0]?.reason).toMatch(/Number overflow/);

    // The treadmill's next session is summarised as usual.
    const next = new StreamBuilder('gym-a', 'tm-03');
    next.add(T0, { type: 'session', action: 'start', userToken: 'member-b' });
    next.walk(T0, 30, { speedKmh: 5 });
    next.add(T0, { type: 'session', action: 'end' });
    const later = next.events.map((event, index) => ({
      ...event,
      seq: last.seq + 1 + index,
      ts: now + 200_000 + index * 1_000,
    }));
    await putRecords(kit, kit.streamName, toRecords([later]));
    await pipeline.runner.drain();
    const summary = await pipeline.processing.sessions.getSummary(`gym-a:tm-03:${last.seq + 1}`);
    expect(summary).toMatchObject({ status: 'ended', userToken: 'member-b' });
  });
});
