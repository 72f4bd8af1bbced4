/**
 * Reads that could grow with time are bounded (docs/architecture.md section 7.5): a session's timeline (a belt left
 * running keeps one session open for days) and the sweeper's idle candidates (a shard of the active index).
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACTIVE_INDEX,
  MAX_ACTIVE_PER_SHARD,
  MAX_TIMELINE_CHUNKS,
  SessionsRepo,
} from '../../functions/lib/sessions-repo.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import type { TimelinePoint } from '../../shared/src/metrics/session.js';
import { T0 } from '../support/events.js';

async function putAll(kit: EmbeddedAws, items: Record<string, unknown>[]) {
  for (let i = 0; i < items.length; i += 25) {
    await kit.dynamo.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [kit.tables.sessions]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
        },
      }),
    );
  }
}

describe('bounded reads of the sessions table', () => {
  let kit: EmbeddedAws;
  let repo: SessionsRepo;

  beforeAll(async () => {
    kit = await startEmbeddedAws({ shards: 1 });
    repo = new SessionsRepo(kit.dynamo.doc, kit.tables.sessions);
  });

  afterAll(async () => {
    await kit?.stop();
  });

  it('reads the last 24 hours of a session that ran for days, in order', { timeout: 60_000 }, async () => {
    expect(MAX_TIMELINE_CHUNKS).toBe(288);
    const chunks = 3 * 288;
    const point = (index: number): TimelinePoint => [index * 300, 5, 0, null, 'f'];
    await putAll(
      kit,
      Array.from({ length: chunks }, (_, index) => ({
        pk: 'SESSION#gym-a:tm-01:1',
        sk: `TL#${String(index).padStart(4, '0')}`,
        index,
        points: [point(index)],
      })),
    );
    const timeline = await repo.getTimeline('gym-a:tm-01:1');
    expect(timeline).toHaveLength(288);
    expect(timeline[0]).toEqual(point(chunks - 288));
    expect(timeline.at(-1)).toEqual(point(chunks - 1));
  });

  it(
    'hands the sweeper the oldest idle candidates of a shard, a bounded number a run',
    { timeout: 60_000 },
    async () => {
      const many = MAX_ACTIVE_PER_SHARD + 50;
      await putAll(
        kit,
        Array.from({ length: many }, (_, i) => ({
          pk: `SESSION#gym-z:tm-${i}:1`,
          sk: 'SUMMARY',
          sessionId: `gym-z:tm-${i}:1`,
          gymId: 'gym-z',
          treadmillId: `tm-${i}`,
          status: 'active',
          activeShard: 'ACTIVE#0',
          lastEventTs: T0 + i,
        })),
      );
      expect(ACTIVE_INDEX).toBe('active');
      const refs = await repo.listActiveBefore(T0 + many);
      expect(refs).toHaveLength(MAX_ACTIVE_PER_SHARD);
      expect(refs[0]?.treadmillId).toBe('tm-0');
    },
  );
});
