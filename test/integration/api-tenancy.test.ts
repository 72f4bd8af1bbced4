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
import { call, claimsOf } from '../support/api.js';
import { T0 } from '../support/events.js';
import { type PipelineRun, putRecords, recordedDay, startPipeline, toRecords } from '../support/pipeline.js';

const NOW = T0 + 2 * 3_600_000;
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
    return `/api${route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = example[name];
      if (value === undefined) throw new Error(`no example value for path parameter ${name}`);
      return encodeURIComponent(value);
    })}`;
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

  describe.each(gymScoped.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s',
    (_, route) => {
      it('answers operator-a for gym-a with the documented body', async () => {
        const reply = await call(handler, route.method, pathIn(route, 'gym-a'), claimsOf('operator-a'));
        expect(reply.status, JSON.stringify(reply.body)).toBe(200);
        expectDocumented(route, reply.body);
      });

      it('refuses operator-a for gym-b (403) and operator-b for gym-a (403)', async () => {
        const aInB = await call(handler, route.method, pathIn(route, 'gym-b'), claimsOf('operator-a'));
        expect(aInB.status).toBe(403);
        expect(aInB.body).toMatchObject({ error: { code: 'forbidden' } });
        const bInA = await call(handler, route.method, pathIn(route, 'gym-a'), claimsOf('operator-b'));
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
      '/exports', // research-export.test.ts
      '/me',
      '/openapi.json',
      '/outbox/emails', // progress-email.test.ts, as the next two
      '/outbox/emails/{id}',
      '/unsubscribe',
    ]);
    expect(operatorOnly.length + forResearchers.length).toBe(gymScoped.length);
  });

  it('lets a researcher see utilisation of both gyms, with small cells suppressed, and nothing else', async () => {
    const researcher = claimsOf('researcher');
    for (const route of forResearchers) {
      for (const gym of GYMS) {
        const reply = await call(handler, route.method, pathIn(route, gym), researcher);
        expect(reply.status).toBe(200);
        expectDocumented(route, reply.body);
      }
    }
    for (const route of operatorOnly) {
      const reply = await call(handler, route.method, pathIn(route, 'gym-a'), researcher);
      expect(reply.status, `${route.method} ${route.path}`).toBe(403);
    }
    const suppressed = await call(handler, 'GET', '/api/gyms/gym-a/utilisation', researcher);
    // gym-a has fewer than 5 sessions in the week: a researcher learns nothing about single walkers.
    expect(suppressed.body).toMatchObject({ sessions: null, movingMin: null, suppressedBelow: 5 });
    expect(
      (suppressed.body.byHour as Array<{ sessions: number | null }>).every((h) => (h.sessions ?? 0) === 0),
    ).toBe(true);
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
        'limit',
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
