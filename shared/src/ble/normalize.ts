/**
 * Decoded readings -> canonical event bodies (telemetry/events.ts). Values outside the schema's ranges are
 * left out (or, for a required value, no body is produced), so every body this returns validates; the
 * ranges are read from the schemas themselves.
 */
import * as z from 'zod';
import {
  beltBodySchema,
  type EventBody,
  hrBodySchema,
  machineBodySchema,
  strideBodySchema,
} from '../telemetry/events.js';
import type { DecodedReading } from './decode.js';
import type { HeartRate } from './heart-rate.js';
import type { MachineStatus } from './machine-status.js';
import type { RscMeasurement } from './rsc.js';
import type { TreadmillData } from './treadmill-data.js';

type BeltBody = z.infer<typeof beltBodySchema>;
type MachineBody = z.infer<typeof machineBodySchema>;
type HrBody = z.infer<typeof hrBodySchema>;
type StrideBody = z.infer<typeof strideBodySchema>;

interface Range {
  readonly min: number;
  readonly max: number;
}

function rangeOf(schema: z.ZodNumber | z.ZodOptional<z.ZodNumber>): Range {
  const number = schema instanceof z.ZodOptional ? schema.unwrap() : schema;
  return {
    min: number.minValue ?? Number.NEGATIVE_INFINITY,
    max: number.maxValue ?? Number.POSITIVE_INFINITY,
  };
}

function rangesOf<K extends string>(
  shape: Record<K, z.ZodNumber | z.ZodOptional<z.ZodNumber>>,
  names: readonly K[],
): Record<K, Range> {
  return Object.fromEntries(names.map((name) => [name, rangeOf(shape[name])])) as Record<K, Range>;
}

const inRange = (value: number | undefined, range: Range): value is number =>
  value !== undefined && value >= range.min && value <= range.max;

/** Copies each named value that is present and within its range. */
function copyInRange<K extends string>(
  source: { readonly [P in K]?: number },
  target: { [P in K]?: number },
  ranges: Record<K, Range>,
  names: readonly K[],
): void {
  for (const name of names) {
    const value = source[name];
    if (inRange(value, ranges[name])) target[name] = value;
  }
}

const BELT_OPTIONAL = [
  'inclinePct',
  'distanceM',
  'elapsedS',
  'energyKcal',
  'hrBpm',
  'met',
  'powerW',
  'forceN',
] as const;
const BELT_RANGES = rangesOf(beltBodySchema.shape, ['speedKmh', ...BELT_OPTIONAL]);

const MACHINE_TARGETS = ['targetSpeedKmh', 'targetInclinePct'] as const;
const MACHINE_RANGES = rangesOf(machineBodySchema.shape, MACHINE_TARGETS);

const HR_RANGE = rangeOf(hrBodySchema.shape.hrBpm);
const rrSchema = hrBodySchema.shape.rrMs.unwrap();
const RR_RANGE = rangeOf(rrSchema.element);
const RR_MAX_COUNT = z.toJSONSchema(rrSchema).maxItems ?? Number.POSITIVE_INFINITY;

const STRIDE_RANGES = rangesOf(strideBodySchema.shape, ['speedKmh', 'cadenceSpm', 'strideLengthM']);

/**
 * The event body a reading means, or undefined when it means none: characteristics without an event
 * (feature, speed range, training status), a Treadmill Data fragment without speed (More Data = 1),
 * a status op that changes neither state nor speed/incline targets, a heart rate of 0.
 * FTMS cannot tell direction, so belt bodies carry none.
 */
export function normalizeReading(reading: DecodedReading): EventBody | undefined {
  switch (reading.kind) {
    case 'ftms':
      return beltBody(reading);
    case 'ftms-status':
      return machineBody(reading);
    case 'hrs':
      return hrBody(reading);
    case 'rsc':
      return strideBody(reading);
    default:
      return undefined;
  }
}

function beltBody(reading: TreadmillData): BeltBody | undefined {
  if (!inRange(reading.speedKmh, BELT_RANGES.speedKmh)) return undefined;
  const body: BeltBody = { type: 'belt', speedKmh: reading.speedKmh };
  copyInRange(reading, body, BELT_RANGES, BELT_OPTIONAL);
  return body;
}

function machineBody(status: MachineStatus): MachineBody | undefined {
  const body: MachineBody = { type: 'machine' };
  if (status.state !== undefined) body.state = status.state;
  copyInRange(status, body, MACHINE_RANGES, MACHINE_TARGETS);
  return Object.keys(body).length > 1 ? body : undefined;
}

function hrBody(reading: HeartRate): HrBody | undefined {
  if (!inRange(reading.hrBpm, HR_RANGE)) return undefined;
  const body: HrBody = { type: 'hr', hrBpm: reading.hrBpm };
  // The schema's RR minimum is exclusive (positive), hence `> min`.
  const rrMs = reading.rrMs?.filter((ms) => ms > RR_RANGE.min && ms <= RR_RANGE.max);
  // Keep the most recent intervals when a large-MTU notification carries more than an event may hold.
  if (rrMs !== undefined && rrMs.length > 0) body.rrMs = rrMs.slice(-RR_MAX_COUNT);
  if (reading.contact !== undefined) body.contact = reading.contact;
  return body;
}

function strideBody(reading: RscMeasurement): StrideBody | undefined {
  if (
    !inRange(reading.speedKmh, STRIDE_RANGES.speedKmh) ||
    !inRange(reading.cadenceSpm, STRIDE_RANGES.cadenceSpm)
  )
    return undefined;
  const body: StrideBody = {
    type: 'stride',
    speedKmh: reading.speedKmh,
    cadenceSpm: reading.cadenceSpm,
    running: reading.running,
  };
  if (inRange(reading.strideLengthM, STRIDE_RANGES.strideLengthM)) body.strideLengthM = reading.strideLengthM;
  return body;
}
