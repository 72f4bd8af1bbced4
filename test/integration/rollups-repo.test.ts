/**
 * Rollups against dynalite (docs/architecture.md section 7.2): under contention (every treadmill of a gym adds
 * its sessions to the same gym-day item, and a class that ends together or a backlog ingested at once makes
 * them write at the same moment), with hundreds of sessions in one day (the item must not grow with them), and
 * with a crash at every write followed by the retry.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gymDayKey, memberWeekKey, RollupsRepo } from '../../functions/lib/rollups-repo.js';
import { dynamoClient, documentClientFor, LOCAL_CREDENTIALS } from '../../shared/src/aws/clients.js';
import type { SessionSummary } from '../../shared/src/metrics/session.js';
import { type EmbeddedAws, LOCAL_REGION, startEmbeddedAws } from '../../scripts/local/kit.js';
import { createTables } from '../../scripts/local/provision.js';
import { tableNames } from '../../shared/src/tables.js';
import { walkedSession } from '../support/rollup-fixtures.js';
import { T0 } from '../support/events.js';

const WRITERS = 60;
const MANY = 500;
const MAX_ITEM_BYTES = 10_000;
const DAY = new Date(T0).toISOString().slice(0, 10);
const NO_TRAITS = { ageBand: null, sex: null };

const base = walkedSession({ gymId: 'gym-many', userToken: 'm_0', startTs: T0, forwardS: 20, backwardS: 10 });
/**
 * A small summary: the same walk, another id (seqs as a treadmill has them after a few months), start (ten seconds
 * apart, all on one day) and member (every 4th session has one of `members`).
 */
const sessionNo = (i: number, members: number): SessionSummary => ({
  ...base,
  sessionId: `gym-many:tm-${String(i % 24).padStart(2, '0')}:${1_000_000 + i * 137}`,
  treadmillId: `tm-${String(i % 24).padStart(2, '0')}`,
  userToken: i % 4 === 0 ? `m_many_${(i / 4) % members}` : null,
  startTs: T0 + i * 10_000,
  endTs: T0 + i * 10_000 + 30_000,
});

/** Runs `work` on every item, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function scanAllItems(doc: DynamoDBDocumentClient, table: string) {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

/** A client whose Nth write fails (0: none), before or after it reaches the table; it counts writes. */
function crashingClient(kit: EmbeddedAws, failAt: number, when: 'before' | 'after') {
  const client: DynamoDBClient = dynamoClient({
    endpoint: kit.dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const counter = { writes: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!WRITES.has(context.commandName ?? '')) return next(args);
      const crash = ++counter.writes === failAt;
      if (crash && when === 'before') throw new Error(`injected crash before write ${failAt}`);
      const output = await next(args);
      if (crash && when === 'after') throw new Error(`injected crash after write ${failAt}`);
      return output;
    },
    { step: 'initialize', name: 'crashInjection' },
  );
  return { doc: documentClientFor(client), counter, destroy: () => client.destroy() };
}

describe('rollups repo against dynalite', () => {
  let kit: EmbeddedAws;
  let repo: RollupsRepo;
  let prefixes = 0;

  beforeAll(async () => {
    kit = await startEmbeddedAws({ shards: 1 });
    repo = new RollupsRepo(kit.dynamo.doc, kit.tables.rollups);
  });

  afterAll(async () => {
    await kit?.stop();
  });

  it(
    `adds ${WRITERS} sessions ending at once to one gym day, each exactly once`,
    { timeout: 90_000 },
    async () => {
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
      await Promise.all([...sessions, ...sessions].map((session) => repo.addSession(session, NO_TRAITS)));
      const day = await repo.getGymDay('gym-busy', DAY);
      expect(day?.sessions).toBe(WRITERS);
      expect(day?.distinctMembers).toBe(WRITERS);
    },
  );

  it(
    `keeps a gym day with ${MANY} sessions under 10 KB, and replays change nothing`,
    { timeout: 120_000 },
    async () => {
      const members = 25;
      const sessions = Array.from({ length: MANY }, (_, i) => sessionNo(i, members));
      await inParallel(sessions, 4, (session) => repo.addSession(session, NO_TRAITS));
      const { Item: item } = await kit.dynamo.doc.send(
        new GetCommand({ TableName: kit.tables.rollups, Key: gymDayKey('gym-many', DAY) }),
      );
      const bytes = Buffer.byteLength(JSON.stringify(item));
      expect(bytes, `gym day item of ${MANY} sessions`).toBeLessThan(MAX_ITEM_BYTES);

      // Every 5th session again, several at once (a replayed batch beside a sweep).
      const replays = sessions.filter((_, i) => i % 5 === 0);
      await inParallel([...replays, ...replays], 8, (session) => repo.addSession(session, NO_TRAITS));
      const day = await repo.getGymDay('gym-many', DAY);
      expect(day).toMatchObject({ sessions: MANY, distinctMembers: members });
      expect(day?.distanceM).toBeCloseTo(MANY * base.distanceM, -1);
      const week = await repo.getMemberWeek('m_many_3', '2026-W48');
      expect(week?.sessions).toBe(sessions.filter((s) => s.userToken === 'm_many_3').length);
      const { Item: weekItem } = await kit.dynamo.doc.send(
        new GetCommand({ TableName: kit.tables.rollups, Key: memberWeekKey('m_many_3', '2026-W48') }),
      );
      expect(Buffer.byteLength(JSON.stringify(weekItem))).toBeLessThan(MAX_ITEM_BYTES);
    },
  );

  it(
    'leaves identical items whichever write crashes, once the add is retried',
    { timeout: 180_000 },
    async () => {
      const sessions = [
        walkedSession({ gymId: 'gym-c', userToken: 'm_c_1', startTs: T0, forwardS: 30, backwardS: 30 }),
        walkedSession({
          gymId: 'gym-c',
          treadmillId: 'tm-02',
          userToken: 'm_c_2',
          startTs: T0,
          forwardS: 40,
          backwardS: 0,
        }),
        walkedSession({
          gymId: 'gym-c',
          userToken: 'm_c_1',
          startTs: T0 + 600_000,
          forwardS: 0,
          backwardS: 50,
        }),
        // Without a member: only the gym day.
        {
          ...walkedSession({
            gymId: 'gym-c',
            treadmillId: 'tm-03',
            userToken: '-',
            startTs: T0,
            forwardS: 20,
            backwardS: 0,
          }),
          userToken: null,
        },
      ];
      const traits = { ageBand: '40-49', sex: 'male' as const };

      /** Adds every session in order on fresh tables, retrying an add that crashed (as Lambda retries a batch). */
      async function run(failAt: number, when: 'before' | 'after') {
        const prefix = `rollups-crash-${prefixes++}`;
        await createTables(kit.dynamo.client, prefix);
        const table = tableNames(prefix).rollups;
        const crashing = crashingClient(kit, failAt, when);
        const crashRepo = new RollupsRepo(crashing.doc, table);
        let crashes = 0;
        for (const session of sessions) {
          for (;;) {
            try {
              await crashRepo.addSession(session, traits);
              break;
            } catch (error) {
              if (!String(error).includes('injected crash')) throw error;
              crashes++;
            }
          }
          // Every session replayed once more: a retried batch after the crash.
          await crashRepo.addSession(session, traits);
        }
        const items = await scanAllItems(kit.dynamo.doc, table);
        crashing.destroy();
        return { items, crashes, writes: crashing.counter.writes };
      }

      const clean = await run(0, 'before');
      // Settled: every entry has its marker and no rollup lists one.
      expect(
        clean.items.filter((item) => String(item.pk).startsWith('ADDED#')).map((item) => item.sk),
      ).toHaveLength(4 + 3 + 3 + 2);
      expect(clean.items.filter((item) => 'unmarked' in item)).toEqual([]);
      expect(clean.items.find((item) => item.sk === `DAY#${DAY}`)).toMatchObject({
        sessions: 4,
        distinctMembers: 2,
      });
      for (const when of ['before', 'after'] as const) {
        for (let failAt = 1; failAt <= clean.writes; failAt++) {
          const crashed = await run(failAt, when);
          expect(crashed.crashes, `write ${failAt} ${when}`).toBe(1);
          expect(crashed.items, `crash ${when} write ${failAt}`).toEqual(clean.items);
        }
      }
    },
  );
});
