/**
 * A gateway's spool is wiped and it starts seq at 1 again under a later epoch (docs/architecture.md sections
 * 4.2 and 5.2): the new run is applied from a new watermark, its sessions get ids of their own, and replaying
 * the stream (both epochs) leaves identical numbers.
 */
import type { PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetKey } from '../../functions/lib/fleet-repo.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { createStream } from '../../scripts/local/provision.js';
import type { TelemetryEvent } from '../../shared/src/telemetry/events.js';
import { StreamBuilder, T0 } from '../support/events.js';
import { putRecords, snapshot, startPipeline } from '../support/pipeline.js';

const EPOCH_A = '01JD0000000000000000000000';
const EPOCH_B = '01JE0000000000000000000000';

function records(epoch: string, events: readonly TelemetryEvent[], perRecord = 20): PutRecordsRequestEntry[] {
  const out: PutRecordsRequestEntry[] = [];
  for (let i = 0; i < events.length; i += perRecord) {
    const body = {
      v: 1,
      gymId: 'gym-a',
      treadmillId: 'tm-01',
      epoch,
      events: events.slice(i, i + perRecord),
    };
    out.push({ PartitionKey: 'gym-a/tm-01', Data: Buffer.from(JSON.stringify(body)) });
  }
  return out;
}

describe('ingest: a wiped gateway spool starts a new epoch', () => {
  let kit: EmbeddedAws;
  let clean: Awaited<ReturnType<typeof snapshot>>;
  // Epoch A: a member's 100 events; then the spool is wiped, and epoch B's seq 1..50 are the next member's.
  const a = new StreamBuilder('gym-a', 'tm-01');
  a.add(T0, { type: 'session', action: 'start', userToken: 'member-a' });
  a.walk(T0 + 1_000, 98, { speedKmh: 4 });
  a.add(T0 + 99_000, { type: 'session', action: 'end' });
  const b = new StreamBuilder('gym-a', 'tm-01');
  b.add(T0 + 600_000, { type: 'session', action: 'start', userToken: 'member-b' });
  b.walk(T0 + 601_000, 48, { speedKmh: 3 });
  b.add(T0 + 649_000, { type: 'session', action: 'end' });
  const epochA = records(EPOCH_A, a.events);
  const epochB = records(EPOCH_B, b.events);

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    kit = await startEmbeddedAws({ shards: 1 });
  });

  afterAll(async () => {
    await kit?.stop();
  });

  it('applies seq 1..50 of the later epoch after seq 1..100 of the first, and a replay changes nothing', async () => {
    expect(a.events).toHaveLength(100);
    expect(b.events).toHaveLength(50);
    const pipeline = await startPipeline(kit, { prefix: 'epochs' });
    await putRecords(kit, kit.streamName, epochA);
    await pipeline.runner.drain();
    await putRecords(kit, kit.streamName, epochB);
    await pipeline.runner.drain();
    await pipeline.runner.stop();

    const { Item } = await pipeline.doc.send(
      new GetCommand({ TableName: pipeline.tables.fleet, Key: fleetKey('gym-a', 'tm-01') }),
    );
    expect(Item).toMatchObject({ seqWatermark: 50, spoolEpoch: EPOCH_B, lastSeenTs: T0 + 649_000 });
    const first = await pipeline.processing.sessions.getSummary('gym-a:tm-01:1');
    expect(first).toMatchObject({ status: 'ended', userToken: 'member-a', endTs: T0 + 99_000 });
    // Seq 1 again, but another run of the spool: a session id of its own, so neither summary nor rollup
    // mistakes it for the first session.
    const second = await pipeline.processing.sessions.getSummary('gym-a:tm-01:1:1');
    expect(second).toMatchObject({ status: 'ended', userToken: 'member-b', startTs: T0 + 600_000 });
    const day = await pipeline.processing.rollups.listGymDays('gym-a', '2026-11-24', '2026-11-24');
    expect(day.map((d) => d.sessions)).toEqual([2]);

    clean = await snapshot(pipeline.doc, pipeline.tables);
    const again = await startPipeline(kit, { prefix: 'epochs' });
    await again.runner.drain();
    await again.runner.stop();
    expect(await snapshot(again.doc, again.tables)).toEqual(clean);
  });

  it('gives the same numbers when both epochs arrive in one batch', async () => {
    await createStream(kit.kinesis.client, 'together', 1);
    await putRecords(kit, 'together', [...epochA, ...epochB]);
    const run = await startPipeline(kit, { prefix: 'together', streamName: 'together' });
    await run.runner.drain();
    await run.runner.stop();
    expect(run.runner.invocations).toBe(1);
    expect(await snapshot(run.doc, run.tables)).toEqual(clean);
  });
});
