/**
 * The canonical event (docs/architecture.md section 2): every reading from every source becomes one of these.
 * Units are in the field names (Kmh, Pct, M, S, Ms, Bpm, Kcal, N, W, C, Km, H).
 */
import * as z from 'zod';

export const SCHEMA_VERSION = 1 as const;

const finite = z.number().finite();
const nonNegative = finite.nonnegative();

/**
 * Physical bounds of what a treadmill can report. Every number of the event has one: a value beyond it is a
 * fault or an attack, and one such value summed into a session (1e16 kcal) would make the session's write
 * fail for ever. Counters are bounded by their widest source field (FTMS: uint24 metres, uint16 seconds
 * and kcal) or by the life of a treadmill.
 */
export const BOUNDS = {
  distanceM: 16_777_215,
  /** A console's elapsed time: a week (FTMS: uint16, 18 h). */
  elapsedS: 604_800,
  energyKcal: 100_000,
  /** FTMS: sint16 watts and newtons. */
  powerW: 32_767,
  forceN: 32_767,
  odometerKm: 1_000_000,
  /** 24/7 for 50 years. */
  beltHours: 438_000,
  /** Epoch ms: up to the year 2100. */
  epochMs: 4_102_444_800_000,
} as const;
const identity = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." or "-" only');

export const gymIdSchema = identity;
export const treadmillIdSchema = identity;

export const directionSchema = z.enum(['forward', 'backward', 'unknown']);
export type Direction = z.infer<typeof directionSchema>;

export const machineStateSchema = z.enum(['started', 'stopped', 'paused', 'safety_stop', 'reset']);
export type MachineState = z.infer<typeof machineStateSchema>;

export const programSchema = z.enum(['forward', 'backward', 'interval', 'hill', 'free']);
export type Program = z.infer<typeof programSchema>;

/** Fields every event carries; `id` and `seq` are assigned by the gateway. */
const commonFields = {
  id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a ULID'),
  gymId: gymIdSchema,
  treadmillId: treadmillIdSchema,
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  ts: z.number().int().positive().max(BOUNDS.epochMs),
  rxTs: z.number().int().positive().max(BOUNDS.epochMs),
  raw: z
    .string()
    .regex(/^([0-9a-f]{2})*$/, 'lower-case hex')
    .max(512)
    .optional(),
};

export const beltBodySchema = z.object({
  type: z.literal('belt'),
  speedKmh: nonNegative.max(40),
  inclinePct: finite.min(-30).max(40).optional(),
  distanceM: nonNegative.max(BOUNDS.distanceM).optional(),
  elapsedS: nonNegative.max(BOUNDS.elapsedS).optional(),
  energyKcal: nonNegative.max(BOUNDS.energyKcal).optional(),
  hrBpm: finite.min(20).max(250).optional(),
  met: nonNegative.max(30).optional(),
  powerW: finite.min(-BOUNDS.powerW).max(BOUNDS.powerW).optional(),
  forceN: finite.min(-BOUNDS.forceN).max(BOUNDS.forceN).optional(),
  direction: directionSchema.optional(),
});

export const machineBodySchema = z.object({
  type: z.literal('machine'),
  state: machineStateSchema.optional(),
  targetSpeedKmh: nonNegative.max(40).optional(),
  targetInclinePct: finite.min(-30).max(40).optional(),
  errorCode: z.string().min(1).max(32).optional(),
  motorTempC: finite.min(-40).max(200).optional(),
  odometerKm: nonNegative.max(BOUNDS.odometerKm).optional(),
  beltHours: nonNegative.max(BOUNDS.beltHours).optional(),
});

export const hrBodySchema = z.object({
  type: z.literal('hr'),
  hrBpm: finite.min(20).max(250),
  rrMs: z.array(finite.positive().max(3000)).max(32).optional(),
  contact: z.boolean().optional(),
});

export const strideBodySchema = z.object({
  type: z.literal('stride'),
  speedKmh: nonNegative.max(40),
  cadenceSpm: nonNegative.max(300),
  strideLengthM: nonNegative.max(5).optional(),
  running: z.boolean().optional(),
});

export const stepBodySchema = z.object({
  type: z.literal('step'),
  foot: z.enum(['L', 'R']),
  contactMs: nonNegative.max(5000).optional(),
  strike: z.enum(['heel', 'toe', 'flat']).optional(),
  stepWidthMm: nonNegative.max(1000).optional(),
  copLateralMm: finite.min(-500).max(500).optional(),
  handrail: z.boolean().optional(),
  stumble: z.boolean().optional(),
});

/** Pseudonymous member token; never a name or an email address. */
export const userTokenSchema = z
  .string()
  .min(4)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'pseudonymous token: letters, digits, "_" or "-" only');

export const sessionBodySchema = z.object({
  type: z.literal('session'),
  action: z.enum(['start', 'end']),
  userToken: userTokenSchema.optional(),
  program: programSchema.optional(),
});

export const heartbeatBodySchema = z.object({
  type: z.literal('heartbeat'),
  online: z.boolean(),
  firmware: z.string().max(64).optional(),
  rssi: finite.min(-150).max(20).optional(),
});

/** The type-specific part of an event: what an MQTT payload carries besides identity and time. */
export const eventBodySchema = z.discriminatedUnion('type', [
  beltBodySchema,
  machineBodySchema,
  hrBodySchema,
  strideBodySchema,
  stepBodySchema,
  sessionBodySchema,
  heartbeatBodySchema,
]);
export type EventBody = z.infer<typeof eventBodySchema>;
export type EventType = EventBody['type'];

export const eventSchema = z.discriminatedUnion('type', [
  beltBodySchema.extend(commonFields),
  machineBodySchema.extend(commonFields),
  hrBodySchema.extend(commonFields),
  strideBodySchema.extend(commonFields),
  stepBodySchema.extend(commonFields),
  sessionBodySchema.extend(commonFields),
  heartbeatBodySchema.extend(commonFields),
]);
export type TelemetryEvent = z.infer<typeof eventSchema>;
export type EventOf<T extends EventType> = Extract<TelemetryEvent, { type: T }>;

/** A ULID whose time part fits its 48 bits (first character 0-7), so that string order is time order. */
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/** One Kinesis record: a batch of one treadmill's consecutive events (docs/architecture.md section 4.2). */
export const kinesisRecordSchema = z.object({
  v: z.literal(SCHEMA_VERSION),
  gymId: gymIdSchema,
  treadmillId: treadmillIdSchema,
  /**
   * The gateway spool the events come from; seq counts within it, and a later epoch (ULID order) starts seq
   * again. Absent in records of older gateways, and for events spooled before their spool had one.
   */
  epoch: z.string().regex(ULID, 'must be a ULID').optional(),
  events: z.array(z.unknown()).min(1),
});
export type KinesisRecordBody = z.infer<typeof kinesisRecordSchema>;

export const KINESIS_RECORD_MAX_BYTES = 256 * 1024;

export const partitionKey = (gymId: string, treadmillId: string): string => `${gymId}/${treadmillId}`;
