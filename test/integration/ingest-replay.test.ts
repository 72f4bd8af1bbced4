import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../scripts/lib/random.js';
import type { KinesisBatchHandler } from '../../scripts/local/lambda-shapes.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { createStream } from '../../scripts/local/provision.js';
import { putRecords, recordedDay, snapshot, startPipeline, toRecords } from '../support/pipeline.js';

describe('ingest: replays, duplicates and retries leave identical numbers', () => {
  let kit: EmbeddedAws;
  let clean: Awaited<ReturnType<typeof snapshot>>;
  const records = toRecords(recordedDay());

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    kit = await startEmbeddedAws({ shards: 2 });
    await putRecords(kit, kit.streamName, records);
    const run = await startPipeline(kit, { prefix: 'clean' });
    await run.runner.drain();
    await run.runner.stop();
    clean = await snapshot(run.doc, run.tables);
  });

  afterAll(async () => {
    await kit?.stop();
  });

  it('produced the sessions of the recorded day', () => {
    const summaries = clean.sessions?.filter((item) => item.sk === 'SUMMARY') ?? [];
    expect(summaries.map((s) => [s.sessionId, s.status, s.endReason])).toEqual([
      ['gym-a:tm-01:1', 'ended', 'new_member'],
      ['gym-a:tm-01:1608', 'ended', 'idle'],
      ['gym-a:tm-02:1', 'ended', 'machine_stop'],
      ['gym-b:tm-01:2', 'ended', 'session_end'],
    ]);
    expect(clean.sessions?.filter((item) => String(item.sk).startsWith('TL#')).length).toBeGreaterThan(4);
    const rollups = clean.rollups ?? [];
    // What each rollup holds: a marker per session, and per member of a gym day (docs/architecture.md 7.2).
    const markers = rollups.filter((item) => String(item.pk).startsWith('ADDED#'));
    expect(markers.map((item) => String(item.sk).split('#')[0]).sort()).toEqual([
      ...Array.from({ length: 2 }, () => 'MEMBER'),
      ...Array.from({ length: 4 + 2 + 2 }, () => 'SESSION'),
    ]);
    expect(rollups.filter((item) => 'unmarked' in item)).toEqual([]);
    expect(rollups.filter((item) => !markers.includes(item)).map((item) => `${item.pk} ${item.sk}`)).toEqual([
      'GYM#gym-a DAY#2026-11-24',
      'GYM#gym-b DAY#2026-11-24',
      'MEMBER#member-a WEEK#2026-W48',
      'MEMBER#member-b WEEK#2026-W48',
      // tm-02's machine readings of 09:xx UTC (docs/architecture.md 7.6).
      'STATUS#gym-a#tm-02 HOUR#2026-11-24T09',
      // The export's unit records: keyed by a hash of the member's token (member-b, member-a).
      'WEEK#2026-W48 GYM#gym-a#MEMBER#d3d65f100fa7af89',
      'WEEK#2026-W48 GYM#gym-a#MEMBER#ebdf0b61d2fd169e',
    ]);
  });

  it('changes nothing when the stream is replayed from the start', async () => {
    const again = await startPipeline(kit, { prefix: 'clean' });
    await again.runner.drain();
    await again.runner.stop();
    expect(await snapshot(again.doc, again.tables)).toEqual(clean);
  });

  it('ends with the same numbers under duplicated records, failed invocations and partial failures', async () => {
    const random = createRandom(20261124);
    // At-least-once delivery upstream: some records arrive again, a little later.
    const noisy = records.flatMap((record, index) =>
      random.next() < 0.2 ? [record, records[Math.max(0, index - random.int(0, 3))]!] : [record],
    );
    await createStream(kit.kinesis.client, 'chaos', 2);
    await putRecords(kit, 'chaos', noisy);
    const chaos: (handler: KinesisBatchHandler) => KinesisBatchHandler =
      (handler) => async (event, context) => {
        const roll = random.next();
        if (roll < 0.15) throw new Error('injected: function crashed before doing anything');
        const response = await handler(event, context);
        if (roll < 0.3) throw new Error('injected: function timed out after its writes');
        if (roll < 0.45 && event.Records.length > 1) {
          // Fails a random suffix of the batch although it was processed: the runner must resume from there.
          const from = random.int(1, event.Records.length - 1);
          return { batchItemFailures: [{ itemIdentifier: event.Records[from]!.kinesis.sequenceNumber }] };
        }
        return response;
      };
    const run = await startPipeline(kit, {
      prefix: 'chaos',
      streamName: 'chaos',
      wrap: chaos,
      runner: { bisectBatchOnFunctionError: true, batchSize: 7 },
    });
    await run.runner.drain();
    await run.runner.stop();
    expect(run.runner.invocations).toBeGreaterThan(records.length / 7);
    expect(await snapshot(run.doc, run.tables)).toEqual(clean);
  });
});
