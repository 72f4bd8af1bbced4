/**
 * The API (under /api), one entry per route: the router, the access checks and the OpenAPI document all come
 * from this table. Handlers only read or change through the repos and shape the answer (views.ts).
 */
import { DEFAULT_MIN_CELL } from '../../shared/src/export/research-export.js';
import { endedWeeks } from '../../shared/src/export/research-utilisation.js';
import { DAY_MS } from '../../shared/src/iso-week.js';
import type { AlertsRepo } from '../lib/alerts-repo.js';
import { mapWithConcurrency } from '../lib/concurrency.js';
import type { FleetRepo } from '../lib/fleet-repo.js';
import type { RollupsRepo } from '../lib/rollups-repo.js';
import type { SessionFilter, SessionListItem, SessionsRepo } from '../lib/sessions-repo.js';
import type { TreadmillStatusRepo } from '../lib/treadmill-status-repo.js';
import { ALERT_ROUTES, type AlertApiDeps } from './alert-routes.js';
import { EXPORT_ROUTES, type ExportApiDeps } from './export-routes.js';
import { MEMBER_ROUTES, type MemberApiDeps } from './member-routes.js';
import { openApiDocument } from './openapi.js';
import { ApiError, definePublicRoute, defineRoute, notFound, type Route } from './router.js';
import {
  ackResponse,
  alertParams,
  alertsQuery,
  alertsResponse,
  fleetResponse,
  DEFAULT_HISTORY_DAYS,
  gymParams,
  MAX_CSV_PAGES,
  MAX_CSV_ROWS,
  MAX_HISTORY_DAYS,
  MAX_SESSIONS_PER_PAGE,
  meResponse,
  openApiResponse,
  researchUtilisationQuery,
  researchUtilisationResponse,
  sessionDetailResponse,
  sessionParams,
  sessionsCsvQuery,
  sessionsCsvResponse,
  sessionsQuery,
  sessionsResponse,
  statusHistoryQuery,
  statusHistoryResponse,
  treadmillDetailResponse,
  treadmillParams,
  utilisationQuery,
  utilisationResponse,
} from './schemas.js';
import { noParams, noQuery } from './schema-registry.js';
import {
  dayRange,
  researchUtilisationOf,
  sessionItemOf,
  sessionsCsv,
  statusHourViewOf,
  timelineSoFar,
  treadmillViewOf,
  utilisationOf,
} from './views.js';

/** Week partitions read at once for a researcher's utilisation. */
const WEEKS_IN_FLIGHT = 4;

export interface ApiDeps extends MemberApiDeps, ExportApiDeps, AlertApiDeps {
  fleet: FleetRepo;
  sessions: SessionsRepo;
  alerts: AlertsRepo;
  rollups: RollupsRepo;
  statusHours: TreadmillStatusRepo;
  now: () => number;
}

/** The list filters of a sessions query, as the repo takes them. */
const sessionFilterOf = (query: {
  from?: number | undefined;
  to?: number | undefined;
  treadmillId?: string | undefined;
  program?: string | undefined;
  direction?: 'forward' | 'backward' | undefined;
  member?: string | undefined;
}): SessionFilter => ({
  fromTs: query.from,
  toTs: query.to,
  treadmillId: query.treadmillId,
  program: query.program,
  direction: query.direction,
  userToken: query.member,
});

const OPERATOR = ['operator'] as const;

export const ROUTES: readonly Route<ApiDeps>[] = [
  defineRoute({
    method: 'GET',
    path: '/me',
    summary: 'The signed-in caller: roles and gyms',
    tag: 'identity',
    access: 'signed-in',
    params: noParams,
    query: noQuery,
    response: meResponse,
    handle: async ({ caller }) => caller,
  }),
  defineRoute({
    method: 'GET',
    path: '/gyms/{gymId}/treadmills',
    summary: 'Every treadmill of a gym: status, current session, open alerts',
    tag: 'fleet',
    access: OPERATOR,
    params: gymParams,
    query: noQuery,
    response: fleetResponse,
    handle: async ({ params: { gymId }, deps }) => {
      const [records, alerts] = await Promise.all([deps.fleet.listGym(gymId), deps.alerts.listOpen(gymId)]);
      return {
        gymId,
        serverTs: deps.now(),
        treadmills: records.map((record) => treadmillViewOf(record.state, alerts)),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/gyms/{gymId}/treadmills/{treadmillId}',
    summary: "A treadmill with its current session's timeline and its alerts",
    tag: 'fleet',
    access: OPERATOR,
    params: treadmillParams,
    query: noQuery,
    response: treadmillDetailResponse,
    handle: async ({ params: { gymId, treadmillId }, deps }) => {
      const [record, alerts] = await Promise.all([
        deps.fleet.load({ gymId, treadmillId }, { fresh: true }),
        deps.alerts.listOpen(gymId),
      ]);
      if (record.version === 0) throw notFound(`no treadmill ${treadmillId} in ${gymId}`);
      const session = record.state.session;
      const sealed = session ? await deps.sessions.getTimeline(session.sessionId) : [];
      return {
        serverTs: deps.now(),
        treadmill: treadmillViewOf(record.state, alerts),
        timeline: timelineSoFar(sealed, session),
        alerts: alerts.filter((alert) => alert.treadmillId === treadmillId),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/gyms/{gymId}/treadmills/{treadmillId}/status-history',
    summary: `A treadmill's motor temperature, belt hours and odometer by UTC hour (at most ${MAX_HISTORY_DAYS} days)`,
    tag: 'fleet',
    access: OPERATOR,
    params: treadmillParams,
    query: statusHistoryQuery,
    response: statusHistoryResponse,
    handle: async ({ params: { gymId, treadmillId }, query, deps }) => {
      const to = query.to ?? deps.now();
      const from = query.from ?? to - DEFAULT_HISTORY_DAYS * DAY_MS;
      // The bound needs `now` when `to` is left out, so it is checked here rather than in the schema.
      if (from > to || to - from > MAX_HISTORY_DAYS * DAY_MS)
        throw new ApiError(400, 'bad_request', 'invalid query', [
          `from: at most ${MAX_HISTORY_DAYS} days before to, and not after it`,
        ]);
      const hours = await deps.statusHours.listHours({ gymId, treadmillId }, from, to);
      return { gymId, treadmillId, from, to, hours: hours.map(statusHourViewOf) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/gyms/{gymId}/sessions',
    summary: 'Sessions of a gym, newest first',
    tag: 'sessions',
    access: OPERATOR,
    params: gymParams,
    query: sessionsQuery,
    response: sessionsResponse,
    handle: async ({ params: { gymId }, query, deps }) => {
      const page = await deps.sessions.listPage(gymId, sessionFilterOf(query), query);
      return { gymId, sessions: page.sessions.map(sessionItemOf), nextCursor: page.cursor };
    },
  }),
  // Before /sessions/{sessionId}, which would take "csv" for a session id (ids are gym:treadmill:seq).
  defineRoute({
    method: 'GET',
    path: '/gyms/{gymId}/sessions/csv',
    summary: `Sessions of a gym with the list's filters as one CSV text, newest first: every page, at most ${MAX_CSV_ROWS} rows`,
    tag: 'sessions',
    access: OPERATOR,
    params: gymParams,
    query: sessionsCsvQuery,
    response: sessionsCsvResponse,
    handle: async ({ params: { gymId }, query, deps }) => {
      // Bounded twice: rows, and pages (a filter matching little reads short pages, docs/architecture.md 7.5).
      const filter = sessionFilterOf(query);
      const rows: SessionListItem[] = [];
      let cursor: string | null | undefined;
      for (let pages = 0; pages < MAX_CSV_PAGES && rows.length < MAX_CSV_ROWS && cursor !== null; pages++) {
        const limit = Math.min(MAX_SESSIONS_PER_PAGE, MAX_CSV_ROWS - rows.length);
        const page = await deps.sessions.listPage(gymId, filter, { limit, cursor: cursor ?? undefined });
        rows.push(...page.sessions);
        cursor = page.cursor;
      }
      return {
        gymId,
        filename: `sessions-${gymId}-${new Date(deps.now()).toISOString().slice(0, 10)}.csv`,
        rows: rows.length,
        truncated: cursor !== null,
        csv: sessionsCsv(rows),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/gyms/{gymId}/sessions/{sessionId}',
    summary: 'A session: forward/backward split, calories with their model, balance score, timeline',
    tag: 'sessions',
    access: OPERATOR,
    params: sessionParams,
    query: noQuery,
    response: sessionDetailResponse,
    handle: async ({ params: { gymId, sessionId }, deps }) => {
      const session = await deps.sessions.getSummary(sessionId);
      // Another gym's session is "not found", not "forbidden": its existence is not the caller's business.
      if (!session || session.gymId !== gymId) throw notFound(`no session ${sessionId} in ${gymId}`);
      const active = session.status === 'active';
      const [summary, sealed, record] = await Promise.all([
        active ? undefined : deps.sessions.getDetail(sessionId),
        deps.sessions.getTimeline(sessionId),
        active ? deps.fleet.load({ gymId, treadmillId: session.treadmillId }, { fresh: true }) : undefined,
      ]);
      const open = record?.state.session?.sessionId === sessionId ? record.state.session : null;
      return {
        session: sessionItemOf(session),
        summary: summary ?? null,
        timeline: timelineSoFar(sealed, open),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/gyms/{gymId}/alerts',
    summary:
      'Alerts of a gym by status (open, acknowledged, or all including resolved), newest first; all is paged (limit, cursor)',
    tag: 'alerts',
    access: OPERATOR,
    params: gymParams,
    query: alertsQuery,
    response: alertsResponse,
    handle: async ({ params: { gymId }, query: { status, limit, cursor }, deps }) => {
      if (status !== 'all') {
        // Current alerts only, one per treadmill and kind: bounded by the fleet, one page.
        const alerts = (await deps.alerts.listOpen(gymId)).filter((alert) => alert.status === status);
        return { gymId, status, alerts: alerts.sort((a, b) => b.updatedTs - a.updatedTs), nextCursor: null };
      }
      // History grows with time: a page at a time (docs/architecture.md section 7.3).
      const page = await deps.alerts.listPage(gymId, { limit, cursor });
      return { gymId, status, alerts: page.alerts, nextCursor: page.cursor };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/gyms/{gymId}/alerts/{treadmillId}/{kind}/ack',
    summary: 'Acknowledge an open alert (repeating it is harmless)',
    tag: 'alerts',
    access: OPERATOR,
    params: alertParams,
    query: noQuery,
    response: ackResponse,
    handle: async ({ params: { gymId, treadmillId, kind }, caller, deps }) => {
      await deps.alerts.acknowledge(gymId, treadmillId, kind, caller.username, deps.now());
      const alert = await deps.alerts.get({ gymId, treadmillId, kind });
      if (!alert) throw notFound(`no ${kind} alert on ${treadmillId}`);
      if (alert.status === 'resolved') throw new ApiError(409, 'conflict', `the ${kind} alert is resolved`);
      return { alert };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/gyms/{gymId}/utilisation',
    summary:
      "The gym's own utilisation for its operators: sessions and minutes by hour of day and by day, backward share (gym-day rollups)",
    tag: 'utilisation',
    access: OPERATOR,
    params: gymParams,
    query: utilisationQuery,
    response: utilisationResponse,
    handle: async ({ params: { gymId }, query: { days }, deps }) => {
      const range = dayRange(deps.now(), days);
      return utilisationOf(gymId, range, await deps.rollups.listGymDays(gymId, range.fromDay, range.toDay));
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/gyms/{gymId}/research/utilisation',
    summary: `Utilisation for researchers: each of the last ended ISO weeks as its research export (distinct members, k = ${DEFAULT_MIN_CELL}, complementary suppression)`,
    tag: 'research',
    access: ['researcher'],
    params: gymParams,
    query: researchUtilisationQuery,
    response: researchUtilisationResponse,
    handle: async ({ params: { gymId }, query: { weeks }, caller, deps }) => {
      // The pattern is the caller's own export's, over all their gyms (docs/architecture.md section 8).
      const gyms = new Set(caller.gyms);
      const perWeek = await mapWithConcurrency(
        endedWeeks(deps.now(), weeks),
        WEEKS_IN_FLIGHT,
        async (week) => ({
          week,
          rollups: (await deps.rollups.listMemberGymWeeks(week)).filter((rollup) => gyms.has(rollup.gymId)),
        }),
      );
      return researchUtilisationOf(gymId, perWeek, DEFAULT_MIN_CELL);
    },
  }),
  ...ALERT_ROUTES,
  ...MEMBER_ROUTES,
  ...EXPORT_ROUTES,
  definePublicRoute({
    method: 'GET',
    path: '/openapi.json',
    summary: 'This API described as OpenAPI 3.1, generated from its schemas',
    tag: 'meta',
    params: noParams,
    query: noQuery,
    response: openApiResponse,
    handle: async () => openApiDocument(ROUTES),
  }),
];
