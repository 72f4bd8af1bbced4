/**
 * Rollups under contention: every treadmill of a gym adds its sessions to the same gym-day item, and a
 * class that ends together (or a backlog ingested at once) makes them all write at the same moment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RollupsRepo } from '../../functions/lib/rollups-repo.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { walkedSession } from '../support/rollup-fixtures.js';
import { T0 } from '../support/events.js';

const WRITERS = 60;

describe('rollups repo against dynalite', () => {
  let kit: EmbeddedAws;
  let repo: RollupsRepo;

  beforeAll(async () => {
    kit = await startEmbeddedAws({ shards: 1 });
    repo = new RollupsRepo(kit.dynamo.doc, kit.tables.rollups);
  });

  afterAll(async () => {
    await kit?.stop();
  });

  it(`adds ${WRITERS} sessions ending at once to one gym day, each exactly once`, async () => {
    const sessions = Array.from({ length: WRITERS }, (_, i) =>
      walkedSession({
        gymId: 'gym-busy',
        treadmillId: `tm-${String(i + 1).padStart(2, '0')}`,
        userToken: `m_busy_${String(i + 1).padStart(3, '0')}`,
        startTs: T0 + i * 1000,
        forwardS: 60,
        backwardS: 60,
      }),
    );
    // Twice each, at once: a replayed batch runs beside the original.
    await Promise.all(
      [...sessions, ...sessions].map((session) => repo.addSession(session, { ageBand: null, sex: null })),
    );
    const day = await repo.getGymDay('gym-busy', new Date(T0).toISOString().slice(0, 10));
    expect(day?.sessions).toBe(WRITERS);
  });
});
