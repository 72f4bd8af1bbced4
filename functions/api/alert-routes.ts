/**
 * Alert triage for a gym's operators (docs/architecture.md section 7.3): a treadmill's alert history a page at
 * a time, acknowledging several alerts in one action, snoozing an alert or a treadmill's kind, and the gym's
 * alert thresholds. The gym in the path is checked against the caller's claims by the router.
 */
import * as z from 'zod';
import {
  type AlertItem,
  DEFAULT_THRESHOLDS,
  SNOOZE_SCOPES,
  THRESHOLD_BOUNDS,
  THRESHOLD_NAMES,
} from '../../shared/src/alerts/index.js';
import type { AlertKey, AlertsRepo } from '../lib/alerts-repo.js';
import { ApiError, defineRoute, notFound, type Route } from './router.js';
import {
  alertKindSchema,
  alertParams,
  alertSchema,
  alertsQuery,
  gymParams,
  treadmillParams,
} from './schemas.js';
import { apiSchemas, noQuery } from './schema-registry.js';
import { treadmillIdSchema } from '../../shared/src/telemetry/events.js';

export interface AlertApiDeps {
  alerts: AlertsRepo;
  now: () => number;
}

const OPERATOR = ['operator'] as const;

/** Alerts acknowledged in one action: what one screen of alerts holds. */
export const MAX_BULK_ALERTS = 50;
/** The longest snooze: a day (a longer silence should be a threshold or a repair). */
export const MAX_SNOOZE_MINUTES = 24 * 60;

const alertRefSchema = z.string().transform((ref, context) => {
  const [treadmillId, kind, ...rest] = ref.split(':');
  const parsed = z.object({ treadmillId: treadmillIdSchema, kind: alertKindSchema }).safeParse({
    treadmillId,
    kind,
  });
  if (rest.length === 0 && parsed.success) return parsed.data;
  context.addIssue({ code: 'custom', message: `"${ref.slice(0, 80)}" is not treadmillId:kind` });
  return z.NEVER;
});

export const bulkAckQuery = z.object({
  alerts: z
    .string()
    .min(1)
    .max(MAX_BULK_ALERTS * 90)
    .describe(`comma-separated treadmillId:kind, at most ${MAX_BULK_ALERTS}`)
    .transform((text) => text.split(','))
    .pipe(z.array(alertRefSchema).min(1).max(MAX_BULK_ALERTS)),
});

export const bulkAckResponse = z.object({
  acknowledged: z
    .array(alertSchema)
    .describe('acknowledged now or before (repeating the action is harmless)'),
  skipped: z.array(
    z.object({
      treadmillId: z.string(),
      kind: alertKindSchema,
      reason: z.enum(['not_found', 'resolved']),
    }),
  ),
});
apiSchemas.add(bulkAckResponse, { id: 'BulkAcknowledged' });

export const snoozeQuery = z.object({
  minutes: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_SNOOZE_MINUTES)
    .default(60)
    .describe('how long no notification goes out (minutes); 0 ends the snooze'),
  scope: z
    .enum(SNOOZE_SCOPES)
    .default('alert')
    .describe('alert: this alert only; kind: also later alerts of this treadmill and kind'),
});

export const snoozeResponse = z.object({ alert: alertSchema });
apiSchemas.add(snoozeResponse, { id: 'Snoozed' });

export const treadmillAlertsResponse = z.object({
  gymId: z.string(),
  treadmillId: z.string(),
  alerts: z.array(alertSchema).describe('current and replaced alerts, newest change first'),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last'),
});
apiSchemas.add(treadmillAlertsResponse, { id: 'TreadmillAlerts' });

const thresholdValue = (name: (typeof THRESHOLD_NAMES)[number]) =>
  z.coerce.number().int().min(THRESHOLD_BOUNDS[name].min).max(THRESHOLD_BOUNDS[name].max);

const thresholdsSchema = z.object({
  motorTempMaxC: z.number().int().describe('°C over which the motor overheats'),
  offlineAfterMinutes: z.number().int().describe('silence after which a treadmill is offline'),
  stumbleAlertCount: z.number().int().describe('stumbles in a session that make a notified warning'),
});

export const thresholdsQuery = z.object({
  motorTempMaxC: thresholdValue('motorTempMaxC').optional(),
  offlineAfterMinutes: thresholdValue('offlineAfterMinutes').optional(),
  stumbleAlertCount: thresholdValue('stumbleAlertCount').optional(),
});

export const thresholdsResponse = z.object({
  gymId: z.string(),
  thresholds: thresholdsSchema,
  defaults: thresholdsSchema,
  bounds: z.record(z.string(), z.object({ min: z.number().int(), max: z.number().int() })),
});
apiSchemas.add(thresholdsResponse, { id: 'AlertThresholds' });

/** The treadmill page's history: a page size and cursor as the gym's list takes them. */
const treadmillAlertsQuery = alertsQuery.pick({ limit: true, cursor: true });

/** Acknowledges one alert; what became of it (acknowledged, or why not). */
async function acknowledgeOne(
  deps: AlertApiDeps,
  key: AlertKey,
  by: string,
): Promise<{ alert: AlertItem } | { reason: 'not_found' | 'resolved' }> {
  await deps.alerts.acknowledge(key.gymId, key.treadmillId, key.kind, by, deps.now());
  const alert = await deps.alerts.get(key);
  if (!alert) return { reason: 'not_found' };
  if (alert.status === 'resolved') return { reason: 'resolved' };
  return { alert };
}

const thresholdsView = async (deps: AlertApiDeps, gymId: string) => ({
  gymId,
  thresholds: await deps.alerts.thresholds(gymId),
  defaults: DEFAULT_THRESHOLDS,
  bounds: THRESHOLD_BOUNDS,
});

export const ALERT_ROUTES: readonly Route<AlertApiDeps>[] = [
  defineRoute({
    method: 'GET',
    path: '/gyms/{gymId}/treadmills/{treadmillId}/alerts',
    summary: "A treadmill's alert history, current and replaced, newest change first; paged (limit, cursor)",
    tag: 'alerts',
    access: OPERATOR,
    params: treadmillParams,
    query: treadmillAlertsQuery,
    response: treadmillAlertsResponse,
    handle: async ({ params: { gymId, treadmillId }, query: { limit, cursor }, deps }) => {
      const page = await deps.alerts.listTreadmillPage(gymId, treadmillId, { limit, cursor });
      return { gymId, treadmillId, alerts: page.alerts, nextCursor: page.cursor };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/gyms/{gymId}/alerts/ack',
    summary: `Acknowledge several open alerts in one action (at most ${MAX_BULK_ALERTS}; repeating it is harmless)`,
    tag: 'alerts',
    access: OPERATOR,
    params: gymParams,
    query: bulkAckQuery,
    response: bulkAckResponse,
    handle: async ({ params: { gymId }, query, caller, deps }) => {
      const acknowledged: AlertItem[] = [];
      const skipped: Array<{
        treadmillId: string;
        kind: AlertKey['kind'];
        reason: 'not_found' | 'resolved';
      }> = [];
      const unique = new Map(query.alerts.map((ref) => [`${ref.treadmillId}:${ref.kind}`, ref]));
      for (const ref of unique.values()) {
        const outcome = await acknowledgeOne(deps, { gymId, ...ref }, caller.username);
        if ('alert' in outcome) acknowledged.push(outcome.alert);
        else skipped.push({ ...ref, reason: outcome.reason });
      }
      return { acknowledged, skipped };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/gyms/{gymId}/alerts/{treadmillId}/{kind}/snooze',
    summary: `Hold the notifications of an active alert, or of its treadmill and kind, for up to ${MAX_SNOOZE_MINUTES} minutes (0 ends it)`,
    tag: 'alerts',
    access: OPERATOR,
    params: alertParams,
    query: snoozeQuery,
    response: snoozeResponse,
    handle: async ({ params: { gymId, treadmillId, kind }, query: { minutes, scope }, caller, deps }) => {
      const now = deps.now();
      const key = { gymId, treadmillId, kind };
      await deps.alerts.snooze(key, { by: caller.username, untilTs: now + minutes * 60_000, scope }, now);
      const alert = await deps.alerts.get(key);
      if (!alert) throw notFound(`no ${kind} alert on ${treadmillId}`);
      if (alert.status === 'resolved') throw new ApiError(409, 'conflict', `the ${kind} alert is resolved`);
      return { alert };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/gyms/{gymId}/alert-thresholds',
    summary: "The gym's alert thresholds, their defaults and bounds",
    tag: 'alerts',
    access: OPERATOR,
    params: gymParams,
    query: noQuery,
    response: thresholdsResponse,
    handle: async ({ params: { gymId }, deps }) => thresholdsView(deps, gymId),
  }),
  defineRoute({
    method: 'POST',
    path: '/gyms/{gymId}/alert-thresholds',
    summary:
      "Change the gym's alert thresholds (those given; each within its bounds); the rules use them within a minute",
    tag: 'alerts',
    access: OPERATOR,
    params: gymParams,
    query: thresholdsQuery,
    response: thresholdsResponse,
    handle: async ({ params: { gymId }, query, caller, deps }) => {
      const current = await deps.alerts.thresholds(gymId);
      const given = Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined));
      await deps.alerts.putThresholds(gymId, { ...current, ...given }, caller.username, deps.now());
      return thresholdsView(deps, gymId);
    },
  }),
];
