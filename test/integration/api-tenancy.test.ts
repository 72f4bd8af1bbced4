/**
 * The API handler against dynalite data written by the real ingest handler: tenant isolation for every route
 * (own gym, another gym, no login, and the researcher role), input errors with reasons, and the OpenAPI
 * document. Every 200 body is checked against the route's documented response schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDepsFor } from '../../functions/api/api-deps.js';
import { createApiHandler } from '../../functions/api/handler.js';
import { MembersRepo } from '../../functions/lib/members-repo.js';
import { tableNames } from '../../shared/src/tables.js';
import type { Claims } from '../../functions/api/identity.js';
import type { RouteInfo } from '../../functions/api/router.js';
import { ROUTES } from '../../functions/api/routes.js';
import { type EmbeddedAws, startEmbeddedAws } from '../../scripts/local/kit.js';
import type { AlertItem } from '../../shared/src/alerts/types.js';
import { authorizerClaims, devTokenPayload } from '../../scripts/local/api-server.js';
import { call, claimsOf } from '../support/api.js';
import { T0 } from '../support/events.js';
import { type PipelineRun, putRecords, recordedDay, startPipeline, toRecords } from '../support/pipeline.js';
import { walkedSession } from '../support/rollup-fixtures.js';

const NOW = T0 + 2 * 3_600_000;
/** The research export's default k: what a researcher may see has at least this many distinct members. */
const K = 11;
const at = (day: number, hour: number, minute = 0) => Date.UTC(2026, 10, day, hour, minute);

/**
 * Sessions for the researcher's views, besides the recorded day (Tuesday 24 November, 2026-W48, still running):
 * in 2026-W47 gym-a has 14 members (12 of them walk both ways; two walked on Wednesday 18 November at 09:xx,
 * the day a 7-day window has and a 6-day one has not), gym-b 11; in 2026-W46 gym-a has 3 (below k) and
 * gym-b 12.
 */
function researchSessions() {
  const walk = (gymId: string, member: string, startTs: number, backwardS: number) =>
    walkedSession({ gymId, userToken: member, startTs, forwardS: 300, backwardS });
  const member = (gym: string, n: number) => `r_${gym.slice(-1)}_${String(n).padStart(2, '0')}`;
  return [
    walk('gym-a', member('gym-a', 1), at(18, 9, 10), 0),
    walk('gym-a', member('gym-a', 2), at(18, 9, 40), 0),
    ...Array.from({ length: 12 }, (_, i) =>
      walk('gym-a', member('gym-a', i + 3), at(19 + (i % 4), 9, 5 * i), 120),
    ),
    ...Array.from({ length: 11 }, (_, i) =>
      walk('gym-b', member('gym-b', i + 1), at(20, 7 + (i % 3), 3 * i), 0),
    ),
    ...Array.from({ length: 3 }, (_, i) => walk('gym-a', member('gym-a', i + 15), at(10, 10 + i), 60)),
    ...Array.from({ length: 12 }, (_, i) => walk('gym-b', member('gym-b', i + 12), at(11, 8, 4 * i), 0)),
  ];
}
const GYMS = ['gym-a', 'gym-b'] as const;
type Gym = (typeof GYMS)[number];

describe('API tenancy and validation', () => {
  let kit: EmbeddedAws;
  let pipeline: PipelineRun;
  let handler: ReturnType<typeof createApiHandler>;
  const sessionOf = {} as Record<Gym, string>;
  /** A member whose home gym it is (consent routes). */
  const memberOf: Record<Gym, string> = { 'gym-a': 'home-a', 'gym-b': 'home-b' };
  let openAlert: AlertItem;

  beforeAll(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    kit = await startEmbeddedAws({ shards: 1 });
    pipeline = await startPipeline(kit, { prefix: 'api' });
    await putRecords(kit, kit.streamName, toRecords(recordedDay()));
    await pipeline.runner.drain();
    for (const session of researchSessions())
      await pipeline.processing.rollups.addSession(session, { ageBand: null, sex: null });
    handler = createApiHandler(() => apiDepsFor(pipeline.doc, 'api', () => NOW));
    for (const gym of GYMS) {
      const [session] = await pipeline.processing.sessions.listByGym(gym, { limit: 1 });
      if (!session) throw new Error(`no session in ${gym}`);
      sessionOf[gym] = session.sessionId;
    }
    const [alert] = await pipeline.processing.alerts.listOpen('gym-a');
    if (!alert) throw new Error('no open alert in gym-a');
    openAlert = alert;
    const members = new MembersRepo(pipeline.doc, tableNames('api').members);
    for (const gym of GYMS)
      await members.importMember(
        { userToken: memberOf[gym], email: `${gym}@example.org`, consent: true, gymId: gym },
        NOW,
        'test',
      );
  });

  afterAll(async () => {
    await pipeline?.runner.stop();
    await kit?.stop();
  });

  /** A concrete path for the route in `gym`, with items that exist there (the ack one in gym-a only). */
  function pathIn(route: RouteInfo, gym: Gym): string {
    const example: Record<string, string> = {
      gymId: gym,
      treadmillId: gym === 'gym-a' ? openAlert.treadmillId : 'tm-01',
      sessionId: sessionOf[gym],
      kind: openAlert.kind,
      userToken: memberOf[gym],
    };
    // Routes with a required query parameter get an example of it.
    const query = route.path.endsWith('/alerts/ack') ? `?alerts=${example.treadmillId}:${example.kind}` : '';
    return `/api${route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = example[name];
      if (value === undefined) throw new Error(`no example value for path parameter ${name}`);
      return encodeURIComponent(value);
    })}${query}`;
  }

  const gymScoped = ROUTES.filter((route) => route.path.includes('{gymId}'));
  const operatorOnly = gymScoped.filter(
    (route) => Array.isArray(route.access) && !route.access.includes('researcher'),
  );
  const forResearchers = gymScoped.filter(
    (route) => Array.isArray(route.access) && route.access.includes('researcher'),
  );

  const expectDocumented = (route: RouteInfo, body: unknown) => {
    const parsed = route.response.safeParse(body);
    expect(parsed.success, parsed.success ? '' : parsed.error.message).toBe(true);
  };

  /** A researcher whose claims name one gym only. */
  const researcherOf = (gym: Gym): Claims =>
    authorizerClaims(
      devTokenPayload(
        {
          username: `researcher-${gym}`,
          password: '-',
          groups: ['researcher'],
          gyms: [gym],
          description: '',
        },
        Date.UTC(2026, 10, 24),
      ),
    );
  /** Who may call the route for `gym` and no other: its operator, or a researcher of it (researchers' routes). */
  const ownerOf = (route: RouteInfo, gym: Gym): Claims =>
    Array.isArray(route.access) && route.access.includes('operator')
      ? claimsOf(gym === 'gym-a' ? 'operator-a' : 'operator-b')
      : researcherOf(gym);

  describe.each(gymScoped.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s',
    (_, route) => {
      it("answers gym-a's operator (or researcher) for gym-a with the documented body", async () => {
        const reply = await call(handler, route.method, pathIn(route, 'gym-a'), ownerOf(route, 'gym-a'));
        expect(reply.status, JSON.stringify(reply.body)).toBe(200);
        expectDocumented(route, reply.body);
      });

      it("refuses gym-a's caller for gym-b (403) and gym-b's for gym-a (403)", async () => {
        const aInB = await call(handler, route.method, pathIn(route, 'gym-b'), ownerOf(route, 'gym-a'));
        expect(aInB.status).toBe(403);
        expect(aInB.body).toMatchObject({ error: { code: 'forbidden' } });
        const bInA = await call(handler, route.method, pathIn(route, 'gym-a'), ownerOf(route, 'gym-b'));
        expect(bInA.status).toBe(403);
      });

      it('refuses a caller without claims (401), whatever the gym', async () => {
        for (const gym of GYMS) {
          const reply = await call(handler, route.method, pathIn(route, gym));
          expect(reply.status).toBe(401);
          expect(reply.body).toMatchObject({ error: { code: 'unauthorized' } });
        }
      });
    },
  );

  it('covers every route: the matrix above, /me and /openapi.json below, the rest in their own tests', () => {
    expect(
      ROUTES.filter((route) => !gymScoped.includes(route))
        .map((route) => route.path)
        .sort(),
    ).toEqual([
      '/exports', // research-export.test.ts, as the next one
      '/exports/rules',
      '/me',
      '/openapi.json',
      '/outbox/emails', // progress-email.test.ts, as the next two
      '/outbox/emails/{id}',
      '/unsubscribe',
    ]);
    expect(operatorOnly.length + forResearchers.length).toBe(gymScoped.length);
  });

  it('lets a researcher see the research views of both gyms and nothing else, operators not those', async () => {
    const researcher = claimsOf('researcher');
    expect(forResearchers.map((route) => route.path)).toEqual(['/gyms/{gymId}/research/utilisation']);
    for (const route of forResearchers) {
      for (const gym of GYMS) {
        const reply = await call(handler, route.method, pathIn(route, gym), researcher);
        expect(reply.status).toBe(200);
        expectDocumented(route, reply.body);
      }
      // Operators see their gym through the operators' routes, unsuppressed; the research view is not theirs.
      expect((await call(handler, route.method, pathIn(route, 'gym-a'), claimsOf('operator-a'))).status).toBe(
        403,
      );
    }
    for (const route of operatorOnly) {
      const reply = await call(handler, route.method, pathIn(route, 'gym-a'), researcher);
      expect(reply.status, `${route.method} ${route.path}`).toBe(403);
    }
  });

  it("a researcher's differencing attack on overlapping windows learns nothing below k", async () => {
    const researcher = claimsOf('researcher');
    // Windows a day apart: their difference would be Wednesday 18 November's hourly sessions (2 walkers).
    const window = (days: number) =>
      call(handler, 'GET', `/api/gyms/gym-a/utilisation?days=${days}`, researcher);
    const [seven, six] = await Promise.all([window(7), window(6)]);
    type Hour = { hour: number; sessions: number | null };
    const leaked: Hour[] = [];
    if (seven.status === 200 && six.status === 200) {
      const before = six.body.byHour as Hour[];
      for (const [hour, cell] of (seven.body.byHour as Hour[]).entries()) {
        const diff = (cell.sessions ?? 0) - (before[hour]?.sessions ?? 0);
        if (cell.sessions !== null && before[hour]?.sessions !== null && diff > 0 && diff < K)
          leaked.push({ hour, sessions: diff });
      }
    }
    expect(leaked).toEqual([]);
    // Day counts are for the gym's own operators; researchers get whole ended weeks only.
    expect([seven.status, six.status]).toEqual([403, 403]);

    // Overlapping weekly windows: each week is its own one-week export, the same in every answer, and no answer
    // has a total over its window that another could be subtracted from.
    const answers = await Promise.all(
      [1, 2, 3].map((weeks) =>
        call(handler, 'GET', `/api/gyms/gym-a/research/utilisation?weeks=${weeks}`, researcher),
      ),
    );
    const seen = new Map<string, string>();
    type Cell = { members: number } | null;
    type Week = { week: string; all: Cell; byDirection: Record<string, Cell> };
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(Object.keys(answer.body).sort()).toEqual(['gymId', 'minCell', 'privacy', 'weeks']);
      expect(answer.body.minCell).toBe(K);
      for (const week of answer.body.weeks as Week[]) {
        const text = JSON.stringify(week);
        expect(seen.get(week.week) ?? text, week.week).toBe(text);
        seen.set(week.week, text);
        for (const cell of [week.all, ...Object.values(week.byDirection)])
          if (cell !== null) expect(cell.members).toBeGreaterThanOrEqual(K);
      }
    }
    expect([...seen.keys()].sort()).toEqual(['2026-W45', '2026-W46', '2026-W47']);
    // The running week (W48, with the recorded day) is in no answer: only weeks that have ended are shown.
    expect(JSON.stringify(answers.map((answer) => answer.body))).not.toContain('2026-W48');
  });

  it('serves a researcher each ended week as its research export: distinct members, k, complementary cells', async () => {
    const researcher = claimsOf('researcher');
    const weeksOf = async (gym: Gym) => {
      const reply = await call(handler, 'GET', `/api/gyms/${gym}/research/utilisation?weeks=2`, researcher);
      expect(reply.status).toBe(200);
      return reply.body.weeks as Array<Record<string, unknown>>;
    };
    const [a46, a47] = await weeksOf('gym-a');
    const [b46, b47] = await weeksOf('gym-b');
    const nothing = { all: null, byDirection: { forward: null, backward: null, unknown: null } };
    // W46: gym-a's 3 members are below k; gym-b's 12 go too, or the week's total over both gyms (an export by
    // week) minus gym-b would give gym-a back.
    expect(a46).toEqual({ week: '2026-W46', weekStart: '2026-11-09', lastDay: '2026-11-15', ...nothing });
    expect(b46).toMatchObject(nothing);
    // W47: counted in distinct members; a session walked both ways counts in both directions.
    expect(a47).toMatchObject({
      week: '2026-W47',
      all: { members: 14, sessions: 14 },
      byDirection: { forward: { members: 14 }, backward: { members: 12, sessions: 12 } },
    });
    expect(b47).toMatchObject({ all: { members: 11, sessions: 11 }, byDirection: { backward: null } });
  });

  it('/me reflects the claims and needs a login', async () => {
    const me = await call(handler, 'GET', '/api/me', claimsOf('operator-b'));
    expect(me).toEqual({
      status: 200,
      body: { sub: 'dev-operator-b', username: 'operator-b', roles: ['operator'], gyms: ['gym-b'] },
    });
    expect((await call(handler, 'GET', '/api/me')).status).toBe(401);
    // A token without a subject is no login either.
    expect((await call(handler, 'GET', '/api/me', { 'cognito:groups': '[operator]' } as Claims)).status).toBe(
      401,
    );
  });

  it('reads Cognito group claims in every shape the authorizer may pass', async () => {
    const shapes: Claims[] = [
      { sub: 'u1', 'cognito:groups': '[operator researcher]', 'custom:gyms': 'gym-a,gym-b' },
      { sub: 'u1', 'cognito:groups': ['operator', 'researcher'], 'custom:gyms': 'gym-a, gym-b' },
      { sub: 'u1', 'cognito:groups': 'operator,researcher', 'custom:gyms': '[gym-a gym-b]' },
    ];
    for (const claims of shapes) {
      const me = await call(handler, 'GET', '/api/me', claims);
      expect(me.body).toMatchObject({ roles: ['operator', 'researcher'], gyms: ['gym-a', 'gym-b'] });
    }
    const noGroups = await call(handler, 'GET', '/api/gyms/gym-a/treadmills', {
      sub: 'u2',
      'custom:gyms': 'gym-a',
    });
    expect(noGroups.status).toBe(403);
  });

  it("shows only the caller's gym: fleet, sessions and alerts of gym-a hold nothing of gym-b", async () => {
    const operatorA = claimsOf('operator-a');
    const fleet = await call(handler, 'GET', '/api/gyms/gym-a/treadmills', operatorA);
    const treadmills = fleet.body.treadmills as Array<{ gymId: string; treadmillId: string }>;
    expect(treadmills.map((t) => `${t.gymId}/${t.treadmillId}`)).toEqual(['gym-a/tm-01', 'gym-a/tm-02']);
    const sessions = await call(handler, 'GET', '/api/gyms/gym-a/sessions?limit=200', operatorA);
    const list = sessions.body.sessions as Array<{ gymId: string; startTs: number }>;
    expect(list.length).toBeGreaterThan(1);
    expect(list.every((s) => s.gymId === 'gym-a')).toBe(true);
    expect(list.map((s) => s.startTs)).toEqual([...list.map((s) => s.startTs)].sort((a, b) => b - a));
    const alerts = await call(handler, 'GET', '/api/gyms/gym-a/alerts?status=all', operatorA);
    expect((alerts.body.alerts as AlertItem[]).every((a) => a.gymId === 'gym-a')).toBe(true);
  });

  it("answers 404 for another gym's session asked for under one's own gym (its id leaks nothing)", async () => {
    const reply = await call(
      handler,
      'GET',
      `/api/gyms/gym-a/sessions/${sessionOf['gym-b']}`,
      claimsOf('operator-a'),
    );
    expect(reply.status).toBe(404);
  });

  it('answers 404 for unknown routes and items, 405 for a wrong method', async () => {
    const operatorA = claimsOf('operator-a');
    const cases: Array<[string, string, number]> = [
      ['GET', '/api/nothing-here', 404],
      ['GET', '/elsewhere', 404],
      ['GET', '/api/gyms/gym-a/treadmills/tm-99', 404],
      ['GET', '/api/gyms/gym-a/sessions/gym-a:tm-01:999999', 404],
      ['POST', '/api/gyms/gym-a/alerts/tm-99/offline/ack', 404],
      ['POST', '/api/me', 405],
    ];
    for (const [method, target, status] of cases) {
      const reply = await call(handler, method, target, operatorA);
      expect(reply.status, `${method} ${target}`).toBe(status);
    }
  });

  it('answers 400 with one "field path: message" reason per problem', async () => {
    const operatorA = claimsOf('operator-a');
    const cases: Array<[string, string, string[]]> = [
      ['GET', '/api/gyms/gym-a/sessions?limit=0', ['limit: ']],
      ['GET', '/api/gyms/gym-a/sessions?limit=abc&from=-5', ['from: ', 'limit: ']],
      ['GET', `/api/gyms/gym-a/sessions?from=${T0 + 1}&to=${T0}`, ['to: must not be before from']],
      ['GET', '/api/gyms/gym-a/alerts?status=closed', ['status: ']],
      ['GET', '/api/gyms/gym-a/utilisation?days=99', ['days: ']],
      ['POST', '/api/gyms/gym-a/alerts/tm-01/fire/ack', ['kind: ']],
      ['GET', '/api/gyms/gym%20a/treadmills', ['gymId: ']],
      ['GET', '/api/gyms/gym-a/sessions/bad%2Fid', ['sessionId: ']],
    ];
    for (const [method, target, prefixes] of cases) {
      const reply = await call(handler, method, target, operatorA);
      expect(reply.status, `${method} ${target}`).toBe(400);
      const reasons = (reply.body.error as { reasons: string[] }).reasons;
      expect(
        reasons.map((reason, i) => reason.startsWith(prefixes[i] ?? '?')),
        reasons.join(' | '),
      ).toEqual(prefixes.map(() => true));
    }
    const weeks = await call(
      handler,
      'GET',
      '/api/gyms/gym-a/research/utilisation?weeks=13',
      claimsOf('researcher'),
    );
    expect(weeks.status).toBe(400);
    expect((weeks.body.error as { reasons: string[] }).reasons).toEqual([expect.stringMatching(/^weeks: /)]);
  });

  it('acknowledges an open alert once, records who did, and lists it as acknowledged', async () => {
    const operatorA = claimsOf('operator-a');
    const target = `/api/gyms/gym-a/alerts/${openAlert.treadmillId}/${openAlert.kind}/ack`;
    const first = await call(handler, 'POST', target, operatorA);
    expect(first.body).toMatchObject({
      alert: {
        alertId: openAlert.alertId,
        status: 'acknowledged',
        acknowledgedBy: 'operator-a',
        acknowledgedTs: NOW,
      },
    });
    const again = await call(handler, 'POST', target, operatorA);
    expect(again.body).toEqual(first.body);
    const acknowledged = await call(handler, 'GET', '/api/gyms/gym-a/alerts?status=acknowledged', operatorA);
    expect((acknowledged.body.alerts as AlertItem[]).map((a) => a.alertId)).toContain(openAlert.alertId);
    const open = await call(handler, 'GET', '/api/gyms/gym-a/alerts?status=open', operatorA);
    expect((open.body.alerts as AlertItem[]).map((a) => a.alertId)).not.toContain(openAlert.alertId);
  });

  it('shows a session as stored: summary and timeline equal what ingest finalized', async () => {
    const sessionId = sessionOf['gym-a'];
    const reply = await call(
      handler,
      'GET',
      `/api/gyms/gym-a/sessions/${encodeURIComponent(sessionId)}`,
      claimsOf('operator-a'),
    );
    expect(reply.body.session).toMatchObject({ status: 'ended' });
    expect(reply.body.summary).not.toBeNull();
    expect(reply.body.summary).toEqual(await pipeline.processing.sessions.getDetail(sessionId));
    expect(reply.body.timeline).toEqual(await pipeline.processing.sessions.getTimeline(sessionId));
  });

  it('sums utilisation from the day rollups: sessions by start hour, minutes by hour walked', async () => {
    const reply = await call(handler, 'GET', '/api/gyms/gym-a/utilisation?days=1', claimsOf('operator-a'));
    const day = await pipeline.processing.rollups.getGymDay('gym-a', '2026-11-24');
    const byHour = reply.body.byHour as Array<{ hour: number; sessions: number; minutes: number }>;
    expect(reply.body).toMatchObject({ fromDay: '2026-11-24', toDay: '2026-11-24', sessions: day?.sessions });
    expect(byHour.map((h) => h.sessions)).toEqual(day?.sessionsByHour);
    expect(byHour.map((h) => h.minutes)).toEqual(day?.minutesByHour);
    expect(byHour.reduce((sum, h) => sum + h.sessions, 0)).toBe(day?.sessions);
  });

  describe('OpenAPI document', () => {
    let document: {
      openapi: string;
      paths: Record<string, Record<string, { parameters: Array<{ name: string; in: string }> }>>;
      components: { schemas: Record<string, unknown> };
    };

    beforeAll(async () => {
      const reply = await call(handler, 'GET', '/api/openapi.json');
      expect(reply.status).toBe(200);
      document = reply.body as typeof document;
    });

    it('lists every route with its path parameters, without needing a login', () => {
      expect(document.openapi).toBe('3.1.0');
      const listed = Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
      );
      expect(listed.sort()).toEqual(ROUTES.map((route) => `${route.method} /api${route.path}`).sort());
      for (const route of ROUTES) {
        const operation = document.paths[`/api${route.path}`]?.[route.method.toLowerCase()];
        const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
        expect(operation?.parameters.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(pathParams);
      }
      expect(document.paths['/api/gyms/{gymId}/sessions']?.get?.parameters.map((p) => p.name)).toEqual([
        'gymId',
        'from',
        'to',
        'treadmillId',
        'program',
        'direction',
        'member',
        'limit',
        'cursor',
      ]);
    });

    it('resolves every $ref to a component schema', () => {
      const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map(
        (match) => match[1] ?? '',
      );
      expect(refs.length).toBeGreaterThan(10);
      for (const ref of new Set(refs)) {
        expect(ref.startsWith('#/components/schemas/'), ref).toBe(true);
        expect(document.components.schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
      }
    });
  });
});
