/**
 * History for operators through the API handler, against dynalite data written by the real ingest handler: the
 * sessions list a page at a time with its filters and its CSV (docs/architecture.md section 7.5), and a
 * treadmill's status by hour, which ingest keeps idempotently (section 7.1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDepsFor } from '../../functions/api/api-deps.js';
import { createApiHandler } from '../../functions/api/handler.js';
import type { SessionItemView, StatusHourView } from '../../functions/api/views.js';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { encodeCursor } from '../../functions/lib/dynamo-paging.js';
import { MAX_QUERIES_PER_PAGE, sessionKey } from '../../functions/lib/sessions-repo.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import { parseCsv } from '../../shared/src/csv.js';
import { call, claimsOf } from '../support/api.js';
import { T0 } from '../support/events.js';
import { type PipelineRun, putRecords, recordedDay, startPipeline, toRecords } from '../support/pipeline.js';

const NOW = T0 + 2 * 3_600_000;
const DAY = 86_400_000;

describe('history API: sessions pages, filters, CSV; treadmill status by hour', () => {
  let kit: EmbeddedAws;
  let pipeline: PipelineRun;
  let handler: ReturnType<typeof createApiHandler>;
  const operatorA = claimsOf('operator-a');
  const get = async (target: string) => call(handler, 'GET', `/api/gyms/gym-a${target}`, operatorA);
  /** Every session of a list, page after page. */
  async function allPages(query: string, limit: number): Promise<SessionItemView[]> {
    const sessions: SessionItemView[] = [];
    let cursor: string | null = null;
    do {
      const reply = await get(
        `/sessions?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      sessions.push(...(reply.body.sessions as SessionItemView[]));
      cursor = reply.body.nextCursor as string | null;
    } while (cursor !== null);
    return sessions;
  }

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    kit = await startEmbeddedAws({ shards: 1 });
    pipeline = await startPipeline(kit, { prefix: 'hist' });
    await putRecords(kit, kit.streamName, toRecords(recordedDay()));
    await pipeline.runner.drain();
    handler = createApiHandler(() => apiDepsFor(pipeline.doc, 'hist', () => NOW));
  });

  afterAll(async () => {
    await pipeline?.runner.stop();
    await kit?.stop();
  });

  it('pages through the sessions with a cursor, newest first, each once', async () => {
    const whole = await get('/sessions?limit=200');
    const everything = whole.body.sessions as SessionItemView[];
    expect(everything.length).toBeGreaterThanOrEqual(3);
    expect(whole.body.nextCursor).toBeNull();
    const paged = await allPages('', 1);
    expect(paged.map((s) => s.sessionId)).toEqual(everything.map((s) => s.sessionId));
    const starts = paged.map((s) => s.startTs);
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
  });

  it('filters by treadmill, program, direction and member, on every page', async () => {
    const everything = (await get('/sessions?limit=200')).body.sessions as SessionItemView[];
    const cases: Array<[string, (s: SessionItemView) => boolean]> = [
      ['treadmillId=tm-02', (s) => s.treadmillId === 'tm-02'],
      ['program=backward', (s) => s.program === 'backward'],
      ['direction=backward', (s) => (s.backwardS ?? 0) > 0],
      ['direction=forward', (s) => (s.forwardS ?? 0) > 0],
      ['member=member-b', (s) => s.userToken === 'member-b'],
      ['treadmillId=tm-01&member=member-a', (s) => s.treadmillId === 'tm-01' && s.userToken === 'member-a'],
    ];
    for (const [query, keep] of cases) {
      const expected = everything.filter(keep).map((s) => s.sessionId);
      expect(expected.length, query).toBeGreaterThan(0);
      expect(
        (await allPages(query, 1)).map((s) => s.sessionId),
        query,
      ).toEqual(expected);
    }
    expect(await allPages('treadmillId=tm-99', 2)).toEqual([]);
  });

  it('reads a bounded number of items for a filter that matches little: a short page with a cursor', async () => {
    // 30 sessions of a busy treadmill, and the rare one's single session before them all.
    const items = Array.from({ length: 31 }, (_, i) => ({
      ...sessionKey(`gym-z:tm-${i === 0 ? 'rare' : 'busy'}:${i}`),
      sessionId: `gym-z:tm-${i === 0 ? 'rare' : 'busy'}:${i}`,
      gymId: 'gym-z',
      treadmillId: i === 0 ? 'tm-rare' : 'tm-busy',
      startTs: T0 + i * 60_000,
      status: 'ended',
    }));
    for (let i = 0; i < items.length; i += 25)
      await pipeline.doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [pipeline.tables.sessions]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
          },
        }),
      );
    const repo = pipeline.processing.sessions;
    const first = await repo.listPage('gym-z', { treadmillId: 'tm-rare' }, { limit: 2 });
    // Each call evaluates at most `limit` items: 5 calls of 2 see 10 of the 30 newer sessions.
    expect(MAX_QUERIES_PER_PAGE).toBe(5);
    expect(first.sessions).toEqual([]);
    expect(first.cursor).not.toBeNull();
    let page = first;
    const found: string[] = [];
    for (let pages = 1; page.cursor !== null; pages++) {
      expect(pages).toBeLessThanOrEqual(4);
      page = await repo.listPage('gym-z', { treadmillId: 'tm-rare' }, { limit: 2, cursor: page.cursor });
      found.push(...page.sessions.map((s) => s.sessionId));
    }
    expect(found).toEqual(['gym-z:tm-rare:0']);
  });

  it("refuses another gym's cursor and bad filters (400 with reasons)", async () => {
    const foreign = encodeCursor({ gymId: 'gym-b', startTs: T0, pk: 'SESSION#gym-b:tm-01:1', sk: 'SUMMARY' });
    const reply = await get(`/sessions?cursor=${foreign}`);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: { message: 'invalid cursor: not a cursor of this listing' } });
    const bad = await get('/sessions?direction=sideways&member=x&program=jog');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/direction.*member|member.*direction/s);
  });

  it('downloads the filtered list as RFC 4180 CSV, every page', async () => {
    const expected = await allPages('treadmillId=tm-01', 1);
    const reply = await get('/sessions/csv?treadmillId=tm-01');
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ gymId: 'gym-a', rows: expected.length, truncated: false });
    expect(reply.body.filename).toBe('sessions-gym-a-2026-11-24.csv');
    const [header, ...rows] = parseCsv(reply.body.csv as string).map((record) => record.fields);
    expect(header?.slice(0, 3)).toEqual(['session_id', 'treadmill_id', 'status']);
    expect(rows.map((row) => row[0])).toEqual(expected.map((s) => s.sessionId));
  });

  it("keeps a treadmill's motor temperature, belt hours and odometer by hour, and a replay changes nothing", async () => {
    const history = async () => {
      const reply = await get(`/treadmills/tm-02/status-history?from=${T0 - DAY}&to=${NOW}`);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      return reply.body.hours as StatusHourView[];
    };
    const hours = await history();
    expect(hours).toEqual([
      {
        hour: '2026-11-24T09',
        ts: T0,
        lastTs: T0 + 272_000,
        motorTempC: 95,
        maxMotorTempC: 95,
        beltHours: 700,
        odometerKm: 5000.3,
      },
    ]);
    // The same records again (a replay below the watermark) and a second treadmill's don't touch it.
    await putRecords(kit, kit.streamName, toRecords(recordedDay()));
    await pipeline.runner.drain();
    expect(await history()).toEqual(hours);
    const other = await get(`/treadmills/tm-01/status-history?from=${T0 - DAY}&to=${NOW}`);
    expect(other.body.hours).toEqual([]);
  });

  it('answers the last 7 days by default and refuses a range over 92 days', async () => {
    const reply = await get('/treadmills/tm-02/status-history');
    expect(reply.body).toMatchObject({ from: NOW - 7 * DAY, to: NOW });
    expect((reply.body.hours as StatusHourView[]).length).toBe(1);
    expect((await get(`/treadmills/tm-02/status-history?from=${NOW - 93 * DAY}`)).status).toBe(400);
    expect((await get(`/treadmills/tm-02/status-history?from=${NOW}&to=${NOW - 1}`)).status).toBe(400);
  });
});
