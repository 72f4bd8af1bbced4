/**
 * The API's contract as zod schemas: what routes accept (path and query parameters) and what they return. The
 * router parses requests with them, the OpenAPI document is generated from them (openapi.ts), and route
 * handlers must return their response schema's input type, so the compiler keeps the document honest.
 *
 * Every response schema, and every schema worth naming, is registered in `apiSchemas`: it becomes a component
 * of the OpenAPI document.
 */
import * as z from 'zod';
import { ALERT_KINDS, SNOOZE_SCOPES } from '../../shared/src/alerts/types.js';
import { REASON_CONFIDENCE } from '../../shared/src/metrics/calories.js';
import {
  directionSchema,
  gymIdSchema,
  programSchema,
  treadmillIdSchema,
  userTokenSchema,
} from '../../shared/src/telemetry/events.js';

import { roleSchema } from './identity.js';
import { named } from './schema-registry.js';

const epochMs = z.number().int().describe('epoch milliseconds');
const nullableNumber = z.number().nullable();

// Path parameters

export const sessionIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, "_", ".", ":" or "-" only');

export const gymParams = z.object({ gymId: gymIdSchema });
export const treadmillParams = z.object({ gymId: gymIdSchema, treadmillId: treadmillIdSchema });
export const sessionParams = z.object({ gymId: gymIdSchema, sessionId: sessionIdSchema });
export const alertKindSchema = z.enum(ALERT_KINDS);
export const alertParams = z.object({
  gymId: gymIdSchema,
  treadmillId: treadmillIdSchema,
  kind: alertKindSchema,
});

// Query parameters (query strings are text: numbers are coerced)

export const MAX_SESSIONS_PER_PAGE = 200;
export const MAX_UTILISATION_DAYS = 31;
/** Each week is one query of a whole week's rollups partition (every gym's members): a bounded read. */
export const MAX_RESEARCH_WEEKS = 12;

/** The longest range a treadmill's status history covers at once (its hour records are kept longer). */
export const MAX_HISTORY_DAYS = 92;
/** A CSV download: every page of the filtered list, up to this many rows and this many pages. */
export const MAX_CSV_ROWS = 5_000;
export const MAX_CSV_PAGES = 40;

const queryEpochMs = z.coerce.number().int().nonnegative().describe('epoch milliseconds');
const fromNotAfterTo: [
  (q: { from?: number | undefined; to?: number | undefined }) => boolean,
  { message: string; path: string[] },
] = [
  (q) => q.from === undefined || q.to === undefined || q.from <= q.to,
  { message: 'must not be before from', path: ['to'] },
];
/** A cursor is the caller's own text: its shape is checked here, its content by the repo. */
const cursorSchema = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^[A-Za-z0-9_-]+$/, 'a nextCursor this API returned');

const sessionFilterShape = {
  from: queryEpochMs.optional().describe('sessions that started at or after (epoch ms)'),
  to: queryEpochMs.optional().describe('sessions that started at or before (epoch ms)'),
  treadmillId: treadmillIdSchema.optional().describe("one treadmill's sessions"),
  program: programSchema.optional(),
  direction: z
    .enum(['forward', 'backward'])
    .optional()
    .describe('sessions with some walking in this direction'),
  member: userTokenSchema.optional().describe("one member's sessions, by pseudonymous token"),
};

export const sessionsQuery = z
  .object({
    ...sessionFilterShape,
    limit: z.coerce.number().int().min(1).max(MAX_SESSIONS_PER_PAGE).default(50),
    cursor: cursorSchema.optional().describe("the previous page's nextCursor"),
  })
  .refine(...fromNotAfterTo);
export const sessionsCsvQuery = z.object(sessionFilterShape).refine(...fromNotAfterTo);
export const DEFAULT_HISTORY_DAYS = 7;
export const statusHistoryQuery = z
  .object({
    from: queryEpochMs
      .optional()
      .describe(`first hour (epoch ms); default ${DEFAULT_HISTORY_DAYS} days before to`),
    to: queryEpochMs.optional().describe('last hour (epoch ms); default now'),
  })
  .refine(...fromNotAfterTo);
/** A page of `status=all`: the history grows with time (docs/architecture.md section 7.3). */
export const MAX_ALERTS_PER_PAGE = 200;
export const alertsQuery = z.object({
  status: z.enum(['open', 'acknowledged', 'all']).default('open'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_ALERTS_PER_PAGE)
    .default(50)
    .describe('status=all: alerts per page (open and acknowledged are one page: one per treadmill and kind)'),
  cursor: cursorSchema.optional().describe("status=all: the previous page's nextCursor"),
});
export const utilisationQuery = z.object({
  days: z.coerce.number().int().min(1).max(MAX_UTILISATION_DAYS).default(7),
});
export const researchUtilisationQuery = z.object({
  weeks: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_RESEARCH_WEEKS)
    .default(8)
    .describe('how many of the last ISO weeks that have ended'),
});

// Responses

export const meResponse = named(
  'Me',
  z.object({
    sub: z.string(),
    username: z.string(),
    roles: z.array(roleSchema),
    gyms: z.array(z.string()),
  }),
);

export const treadmillStatusSchema = z.enum(['in_use', 'idle', 'offline', 'fault']);

export const currentSessionSchema = named(
  'CurrentSession',
  z.object({
    sessionId: z.string(),
    startTs: epochMs,
    userToken: z.string().nullable(),
    program: programSchema.nullable(),
    direction: directionSchema,
    speedKmh: nullableNumber,
    inclinePct: nullableNumber,
    hrBpm: nullableNumber.describe(
      'latest heart rate, null when none arrived in the last 10 s of the session',
    ),
    movingS: z.number(),
    distanceM: z.number(),
    backwardShare: nullableNumber,
  }),
);

export const treadmillSchema = named(
  'Treadmill',
  z.object({
    gymId: z.string(),
    treadmillId: z.string(),
    status: treadmillStatusSchema,
    lastSeenTs: epochMs.nullable(),
    fault: z
      .object({
        reason: z.enum(['safety_stop', 'error_code']),
        ts: epochMs,
        errorCode: z.string().optional(),
      })
      .nullable(),
    odometerKm: nullableNumber,
    beltHours: nullableNumber,
    motorTempC: nullableNumber,
    firmware: z.string().nullable(),
    speedKmh: nullableNumber,
    session: currentSessionSchema.nullable(),
    alerts: z.object({
      open: z.number().int(),
      acknowledged: z.number().int(),
      kinds: z.array(alertKindSchema),
    }),
  }),
);

export const fleetResponse = named(
  'Fleet',
  z.object({ gymId: z.string(), serverTs: epochMs, treadmills: z.array(treadmillSchema) }),
);

/** [offsetS from the session start, speedKmh, inclinePct, hrBpm or null, direction f|b|u]. */
export const timelinePointSchema = named(
  'TimelinePoint',
  z.tuple([z.number(), z.number(), z.number(), nullableNumber, z.enum(['f', 'b', 'u'])]),
);

export const alertSchema = named(
  'Alert',
  z.object({
    alertId: z.string(),
    gymId: z.string(),
    treadmillId: z.string(),
    kind: alertKindSchema,
    severity: z.enum(['info', 'warning', 'critical']),
    status: z.enum(['open', 'acknowledged', 'resolved']),
    message: z.string(),
    count: z.number().int(),
    firstSeenTs: epochMs,
    lastSeenTs: epochMs,
    updatedTs: epochMs,
    version: z.number().int(),
    sessionId: z.string().optional(),
    detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    acknowledgedBy: z.string().optional(),
    acknowledgedTs: epochMs.optional(),
    resolvedBy: z.string().optional(),
    resolvedTs: epochMs.optional(),
    snoozedUntil: epochMs.optional().describe('no notification before this (docs/architecture.md 7.3)'),
    snoozeScope: z.enum(SNOOZE_SCOPES).optional(),
    snoozedBy: z.string().optional(),
    notifiedTs: epochMs.optional().describe('when it was first notified; absent: only recorded'),
    lastNotifiedTs: epochMs.optional(),
  }),
);

export const treadmillDetailResponse = named(
  'TreadmillDetail',
  z.object({
    serverTs: epochMs,
    treadmill: treadmillSchema,
    timeline: z.array(timelinePointSchema).describe('the current session so far; empty between sessions'),
    alerts: z.array(alertSchema).describe('open and acknowledged alerts of this treadmill'),
  }),
);

export const sessionListItemSchema = named(
  'SessionListItem',
  z.object({
    sessionId: z.string(),
    gymId: z.string(),
    treadmillId: z.string(),
    userToken: z.string().optional(),
    program: z.string().optional(),
    startTs: epochMs,
    status: z.enum(['active', 'ended']),
    lastEventTs: epochMs.optional(),
    endTs: epochMs.optional(),
    endReason: z.enum(['session_end', 'machine_stop', 'new_member', 'idle']).optional(),
    durationS: z.number().optional(),
    movingS: z.number().optional(),
    distanceM: z.number().optional(),
    forwardS: z.number().optional(),
    forwardM: z.number().optional(),
    backwardS: z.number().optional(),
    backwardM: z.number().optional(),
    backwardShare: z.number().optional(),
    kcal: z.number().optional(),
    calorieModel: z.string().optional(),
    calorieConfidence: z.string().optional(),
    hrMeanBpm: z.number().optional(),
    hrMaxBpm: z.number().optional(),
    balanceScore: z.number().optional(),
    balanceDirection: z.string().optional(),
    stumbles: z.number().optional(),
    safetyStops: z.number().optional(),
    profileDefaults: z.array(z.string()).optional(),
  }),
);

const nextCursorSchema = z
  .string()
  .nullable()
  .describe('pass as `cursor` for the next page; null on the last');

export const sessionsResponse = named(
  'Sessions',
  z.object({
    gymId: z.string(),
    sessions: z.array(sessionListItemSchema),
    nextCursor: nextCursorSchema.describe(
      'pass as `cursor` for the next page; null on the last. A filtered page may be short and still have one',
    ),
  }),
);

export const sessionsCsvResponse = named(
  'SessionsCsv',
  z.object({
    gymId: z.string(),
    filename: z.string(),
    rows: z.number().int().describe('sessions in the CSV'),
    truncated: z
      .boolean()
      .describe(`true when more sessions match than one download holds (${MAX_CSV_ROWS} rows)`),
    csv: z.string().describe('RFC 4180, a header line, CRLF line ends'),
  }),
);

export const statusHistoryResponse = named(
  'TreadmillStatusHistory',
  z.object({
    gymId: z.string(),
    treadmillId: z.string(),
    from: epochMs,
    to: epochMs,
    hours: z
      .array(
        z.object({
          hour: z.string().describe('yyyy-mm-ddThh, UTC'),
          ts: epochMs.describe('start of the hour'),
          lastTs: epochMs.describe("the hour's last machine reading"),
          motorTempC: nullableNumber.describe('last motor temperature of the hour'),
          maxMotorTempC: nullableNumber.describe('hottest motor reading of the hour'),
          beltHours: nullableNumber,
          odometerKm: nullableNumber,
        }),
      )
      .describe('hours with a machine reading, oldest first (hours without one are absent)'),
  }),
);

const directionSummarySchema = z.object({
  movingS: z.number(),
  distanceM: z.number(),
  meanSpeedKmh: nullableNumber,
});

const calorieModelSchema = z.enum(['acsm-walking', 'acsm-running', 'acsm-walking-backward', 'keytel']);
const calorieReasonSchema = z.enum(Object.keys(REASON_CONFIDENCE) as [keyof typeof REASON_CONFIDENCE]);
const walkingDirectionSchema = z.enum(['forward', 'backward']);
const balanceComponentNameSchema = z.enum([
  'stride_time_cv',
  'step_width_cv',
  'symmetry',
  'cop_sway',
  'handrail',
  'stumbles',
]);

export const balanceScoreSchema = named(
  'BalanceScore',
  z.object({
    score: nullableNumber.describe('0-100, higher is steadier; null without enough strides'),
    reason: z.literal('insufficient_data').optional(),
    direction: walkingDirectionSchema,
    strides: z.number(),
    components: z.array(
      z.object({
        name: balanceComponentNameSchema,
        value: nullableNumber,
        subScore: nullableNumber.describe('0-1'),
        weight: z.number().describe('weight applied, re-normalised over the components present'),
        anchor: z.string(),
      }),
    ),
    dataSufficient: z.boolean(),
    baselineUsed: z.boolean(),
    baselineIgnored: z.enum(['other_direction', 'invalid']).optional(),
    missing: z.array(balanceComponentNameSchema),
  }),
);

export const sessionSummarySchema = named(
  'SessionSummary',
  z.object({
    sessionId: z.string(),
    gymId: z.string(),
    treadmillId: z.string(),
    userToken: z.string().nullable(),
    program: programSchema.nullable(),
    startTs: epochMs,
    endTs: epochMs,
    durationS: z.number(),
    movingS: z.number(),
    gapS: z.number(),
    forward: directionSummarySchema,
    backward: directionSummarySchema,
    unknownDirection: directionSummarySchema,
    distanceM: z.number(),
    backwardShare: nullableNumber,
    meanInclinePct: nullableNumber,
    elevationGainM: z.number(),
    heartRate: z.object({
      meanBpm: nullableNumber,
      maxBpm: nullableNumber,
      maxPredictedBpm: z.number(),
      zonesS: z.tuple([z.number(), z.number(), z.number(), z.number(), z.number()]),
    }),
    cadenceSpm: nullableNumber,
    strideLengthM: nullableNumber,
    calories: z.object({
      kcal: z.number(),
      kcalPerMin: z.number(),
      met: z.number(),
      model: calorieModelSchema,
      modelSeconds: z.partialRecord(calorieModelSchema, z.number()),
      confidence: z.enum(['high', 'medium', 'low']),
      reasons: z.array(calorieReasonSchema),
      treadmillKcal: nullableNumber.describe("the treadmill's own energy counter"),
    }),
    balance: z.object({
      score: nullableNumber,
      direction: walkingDirectionSchema.nullable(),
      forward: balanceScoreSchema,
      backward: balanceScoreSchema,
    }),
    stumbles: z.number().int(),
    safetyStops: z.number().int(),
    profileDefaults: z.array(z.string()),
  }),
);

export const sessionDetailResponse = named(
  'SessionDetail',
  z.object({
    session: sessionListItemSchema,
    summary: sessionSummarySchema.nullable().describe('null while the session is active'),
    timeline: z.array(timelinePointSchema),
  }),
);

export const alertsResponse = named(
  'Alerts',
  z.object({
    gymId: z.string(),
    status: z.enum(['open', 'acknowledged', 'all']),
    alerts: z.array(alertSchema),
    nextCursor: nextCursorSchema,
  }),
);

export const ackResponse = named('Acknowledged', z.object({ alert: alertSchema }));

export const utilisationResponse = named(
  'Utilisation',
  z.object({
    gymId: z.string(),
    fromDay: z.string(),
    toDay: z.string(),
    days: z.number().int(),
    sessions: z.number().int(),
    movingMin: z.number(),
    forwardMin: z.number(),
    backwardMin: z.number(),
    backwardShare: nullableNumber.describe('backward minutes over minutes of known direction'),
    byHour: z
      .array(z.object({ hour: z.number().int(), sessions: z.number().int(), minutes: z.number() }))
      .describe(
        '24 entries, by UTC hour of day; sessions by start hour, minutes spread over the hours walked',
      ),
    byDay: z.array(
      z.object({
        day: z.string(),
        sessions: z.number().int(),
        movingMin: z.number(),
        backwardShare: nullableNumber,
      }),
    ),
  }),
);

export const researchCellSchema = named(
  'ResearchCell',
  z
    .object({
      members: z.number().int().describe('distinct members (at least minCell)'),
      sessions: z.number().int(),
      movingMin: z.number().describe('moving minutes, summed over members'),
      movingMinMedian: nullableNumber.describe("median of the members' moving minutes"),
      distanceKm: z.number(),
      backwardShare: nullableNumber.describe('backward minutes over minutes of known direction'),
    })
    .nullable()
    .describe('a cell of the research export; null when it is left out (or empty: the two look alike)'),
);

export const researchUtilisationResponse = named(
  'ResearchUtilisation',
  z.object({
    gymId: z.string(),
    minCell: z.number().int().describe('k: cells with fewer distinct members are left out'),
    privacy: z.string().describe('the rules every number here obeys, in words'),
    weeks: z
      .array(
        z.object({
          week: z.string().describe('ISO 8601 week, UTC'),
          weekStart: z.string().describe('its Monday'),
          lastDay: z.string().describe('its Sunday'),
          all: researchCellSchema,
          byDirection: z.object({
            forward: researchCellSchema,
            backward: researchCellSchema,
            unknown: researchCellSchema,
          }),
        }),
      )
      .describe('the last ISO weeks that have ended, oldest first, each its own one-week research export'),
  }),
);

export const openApiResponse = named(
  'OpenApiDocument',
  z.record(z.string(), z.unknown()).describe('this document'),
);

export const errorResponse = named(
  'Error',
  z.object({
    error: z.object({
      status: z.number().int(),
      code: z.string(),
      message: z.string(),
      reasons: z.array(z.string()).optional().describe('"field path: message", one per problem (400)'),
    }),
  }),
);
export type ErrorBody = z.infer<typeof errorResponse>;
