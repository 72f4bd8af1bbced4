/**
 * Energy expenditure (docs/domain.md section 2): ACSM walking/running equations, a backward-walking equation
 * fitted to published measurements (docs/energy-model.md), and Keytel (2005) from heart rate for forward
 * exercise inside its validated population.
 *
 * Decisions (each [D] unless docs/domain.md gives a source):
 * - Calories are integrated per sample interval, never computed from session means.
 * - Nothing is ever below 1 MET (3.5 ml/kg/min). A stopped belt (speed 0) counts as rest at exactly 1 MET,
 *   whatever the direction or heart rate: Keytel was fitted on steady-state exercise, and the backward
 *   equation prices moving backwards, not standing.
 * - Negative grades are outside ACSM's level/uphill validation: the equation is kept as is, the 1 MET floor
 *   catches steep descents, and the estimate is flagged `negative_grade`.
 * - A missing weight uses 75 kg and a missing age 40 y (DEFAULT_PROFILE), each lowering confidence. There is
 *   no default sex: without it Keytel (two sex-specific equations) is not used.
 * - Confidence is the worst severity among the reasons (REASON_CONFIDENCE); over a session a reason counts
 *   once it covers MATERIAL_SHARE of the time.
 */

export type CalorieModel = 'acsm-walking' | 'acsm-running' | 'acsm-walking-backward' | 'keytel';
export type Confidence = 'high' | 'medium' | 'low';

/** Every reason code, in report order, with the confidence it allows ('high' = informational only). */
export const REASON_CONFIDENCE = {
  no_data: 'low',
  speed_below_validated_range: 'low',
  speed_above_validated_range: 'low',
  backward_outside_data_range: 'low',
  gait_assumed_walking: 'low',
  hr_disagrees_with_workload: 'low',
  speed_in_walk_run_gap: 'medium',
  backward_multiplier: 'medium',
  negative_grade: 'medium',
  default_weight: 'medium',
  default_age: 'medium',
  direction_unknown: 'high',
  belt_stopped: 'high',
  resting_floor: 'high',
  sex_unknown: 'high',
  age_outside_keytel_range: 'high',
  weight_outside_keytel_range: 'high',
  hr_outside_keytel_range: 'high',
} as const satisfies Record<string, Confidence>;
export type CalorieReason = keyof typeof REASON_CONFIDENCE;

/** Reasons that depend on the interval alone (not on the member's profile). */
type IntervalReason = Extract<
  CalorieReason,
  | 'speed_below_validated_range'
  | 'speed_above_validated_range'
  | 'backward_outside_data_range'
  | 'speed_in_walk_run_gap'
  | 'gait_assumed_walking'
  | 'backward_multiplier'
  | 'negative_grade'
  | 'direction_unknown'
  | 'belt_stopped'
  | 'resting_floor'
>;

export interface CalorieProfile {
  weightKg?: number;
  ageYears?: number;
  sex?: 'male' | 'female';
}

/** Stated defaults for a member whose profile lacks them: an adult of middle weight and age [D]. */
export const DEFAULT_PROFILE: { weightKg: number; ageYears: number } = { weightKg: 75, ageYears: 40 };

export interface CalorieInput {
  speedKmh: number;
  gradePct: number;
  /** `unknown` is treated as forward (FTMS cannot tell; docs/domain.md 0.1) and flagged `direction_unknown`. */
  direction: 'forward' | 'backward' | 'unknown';
  /** 0 means "no sensor contact" and is ignored. */
  hrBpm?: number;
  /** RSC "Walking or Running Status" bit. */
  running?: boolean;
  cadenceSpm?: number;
  /**
   * A constant backward cost relative to forward ACSM walking, in place of the fitted backward equation
   * (BACKWARD_WALKING_FIT) when given: the model before docs/energy-model.md, kept for comparison.
   */
  backwardMultiplier?: number;
}

export interface CalorieRate {
  kcalPerMin: number;
  met: number;
  /** ml/kg/min; for Keytel the oxygen uptake equivalent to its kcal (5 kcal per litre). */
  vo2: number;
  model: CalorieModel;
  confidence: Confidence;
  reasons: CalorieReason[];
}

export const RESTING_VO2 = 3.5;
/** ACSM walking is validated from 50 m/min (docs/domain.md 2.1). */
export const WALKING_VALIDATED_MIN_M_PER_MIN = 50;
/** Up to here always walking, from RUNNING_MIN_M_PER_MIN always running (forward). */
export const WALKING_MAX_M_PER_MIN = 100;
export const RUNNING_MIN_M_PER_MIN = 134;
/**
 * In the 100-134 m/min gap, a cadence from here counts as running [D]: treadmill walking cadence is
 * typically 100-130 steps/min and running rarely below 150, so 140 separates the two with a margin.
 */
export const RUNNING_CADENCE_SPM = 140;
/** The 1.3-1.6x range of the backward-walking evidence (docs/domain.md 2.2), for a constant multiplier. */
export const BACKWARD_MULTIPLIER_RANGE = { min: 1.3, max: 1.6 } as const;
/**
 * Backward walking is ACSM walking with its horizontal and vertical terms scaled by these factors, fitted by
 * scripts/energy/fit-backward-model.ts to docs/data/backward-walking-energy.csv (docs/energy-model.md 3).
 * Each factor is held at 1 or more, so backward never costs less than forward walking at the same speed and
 * grade.
 */
export const BACKWARD_WALKING_FIT = { horizontal: 2.027, vertical: 1 } as const;
/**
 * Speeds and grades of the measured points the fit rests on (docs/energy-model.md 4); outside them the
 * equation extrapolates and the estimate says so (`backward_outside_data_range`).
 */
export const BACKWARD_WALKING_DATA_RANGE = {
  speedMPerMin: { min: 83.33, max: 93.88 },
  gradePct: { min: 0, max: 5 },
} as const;
/** Keytel's study sample (docs/domain.md 2.3). */
export const KEYTEL_AGE_RANGE = { min: 18, max: 45 } as const;
export const KEYTEL_WEIGHT_RANGE_KG = { min: 47, max: 120 } as const;
export const KEYTEL_HR_FRACTION_OF_MAX = { min: 0.57, max: 0.9 } as const;
/** HR-implied and workload kcal further apart than this (relative to workload) are flagged [D]. */
export const HR_CROSS_CHECK_TOLERANCE = 0.3;
/** A session reason counts once it covers this share of the time [D]: a brief ramp-up should not taint it. */
export const MATERIAL_SHARE = 0.1;

/** About 5 kcal per litre of oxygen (docs/domain.md 2.1). */
export const KCAL_PER_LITRE_O2 = 5;
const KJ_PER_KCAL = 4.184;

/** ACSM's horizontal (per m/min) and vertical (per m/min x grade) costs in ml/kg/min (docs/domain.md 2.1). */
export const ACSM_WALKING = { horizontal: 0.1, vertical: 1.8 } as const;
export const ACSM_RUNNING = { horizontal: 0.2, vertical: 0.9 } as const;

/** ACSM gross VO2 (ml/kg/min), speed in m/min, grade as a fraction. */
export const acsmWalkingVo2 = (speedMPerMin: number, grade: number): number =>
  RESTING_VO2 + ACSM_WALKING.horizontal * speedMPerMin + ACSM_WALKING.vertical * speedMPerMin * grade;
export const acsmRunningVo2 = (speedMPerMin: number, grade: number): number =>
  RESTING_VO2 + ACSM_RUNNING.horizontal * speedMPerMin + ACSM_RUNNING.vertical * speedMPerMin * grade;

export interface BackwardWalkingFactors {
  horizontal: number;
  vertical: number;
}

/** Gross backward-walking VO2 (ml/kg/min): ACSM walking with each term scaled (docs/energy-model.md 3). */
export const backwardWalkingVo2 = (
  speedMPerMin: number,
  grade: number,
  factors: BackwardWalkingFactors = BACKWARD_WALKING_FIT,
): number =>
  RESTING_VO2 +
  factors.horizontal * ACSM_WALKING.horizontal * speedMPerMin +
  factors.vertical * ACSM_WALKING.vertical * speedMPerMin * grade;

/** Whether a backward interval lies outside the speeds and grades of the measured data. */
export function outsideBackwardData(speedMPerMin: number, grade: number): boolean {
  const { speedMPerMin: speed, gradePct } = BACKWARD_WALKING_DATA_RANGE;
  const pct = grade * 100;
  return speedMPerMin < speed.min || speedMPerMin > speed.max || pct < gradePct.min || pct > gradePct.max;
}

/** Keytel et al. 2005, the equations without VO2max, in kJ/min (docs/domain.md 2.3). */
export const KEYTEL_KJ_PER_MIN = {
  male: { intercept: -55.0969, hrBpm: 0.6309, weightKg: 0.1988, ageYears: 0.2017 },
  female: { intercept: -20.4022, hrBpm: 0.4472, weightKg: -0.1263, ageYears: 0.074 },
} as const;

/** Keytel et al. 2005; kJ/min converted to kcal/min. */
export function keytelKcalPerMin(hrBpm: number, weightKg: number, ageYears: number, sex: 'male' | 'female') {
  const c = KEYTEL_KJ_PER_MIN[sex];
  const kjPerMin = c.intercept + c.hrBpm * hrBpm + c.weightKg * weightKg + c.ageYears * ageYears;
  return kjPerMin / KJ_PER_KCAL;
}

export interface CalorieEquation {
  formula: string;
  coefficients: Record<string, number>;
  /** Where the equation and its coefficients are documented. */
  source: string;
}

/** The equation a model prices with, and its coefficients (for `retrostride calories`). */
export function calorieEquation(
  model: CalorieModel,
  options: { backwardMultiplier?: number; sex?: 'male' | 'female' } = {},
): CalorieEquation {
  const walking = { resting: RESTING_VO2, ...ACSM_WALKING };
  switch (model) {
    case 'acsm-walking':
      return {
        formula: 'VO2 = resting + horizontal*S + vertical*S*G',
        coefficients: walking,
        source: 'docs/domain.md 2.1',
      };
    case 'acsm-running':
      return {
        formula: 'VO2 = resting + horizontal*S + vertical*S*G',
        coefficients: { resting: RESTING_VO2, ...ACSM_RUNNING },
        source: 'docs/domain.md 2.1',
      };
    case 'acsm-walking-backward':
      return options.backwardMultiplier === undefined
        ? {
            formula: 'VO2 = resting + horizontalFactor*horizontal*S + verticalFactor*vertical*S*G',
            coefficients: {
              ...walking,
              horizontalFactor: BACKWARD_WALKING_FIT.horizontal,
              verticalFactor: BACKWARD_WALKING_FIT.vertical,
            },
            source: 'docs/energy-model.md 3',
          }
        : {
            formula: 'VO2 = k * (resting + horizontal*S + vertical*S*G)',
            coefficients: { k: options.backwardMultiplier, ...walking },
            source: 'docs/domain.md 2.2',
          };
    case 'keytel':
      return {
        formula: 'kJ/min = intercept + hrBpm*HR + weightKg*W + ageYears*A; kcal = kJ / 4.184',
        coefficients: { ...KEYTEL_KJ_PER_MIN[options.sex ?? 'male'] },
        source: 'docs/domain.md 2.3',
      };
  }
}

const kcalPerMinFromVo2 = (vo2: number, weightKg: number) => (vo2 * weightKg * KCAL_PER_LITRE_O2) / 1000;
const kcalFromVo2Seconds = (vo2Seconds: number, weightKg: number) =>
  kcalPerMinFromVo2(vo2Seconds, weightKg) / 60;
export const vo2FromKcalPerMin = (kcalPerMin: number, weightKg: number) =>
  (kcalPerMin * 1000) / (KCAL_PER_LITRE_O2 * weightKg);

// ---------------------------------------------------------------------------------------------------------
// Session accumulator

type WorkloadModel = Exclude<CalorieModel, 'keytel'>;
const WORKLOAD_MODELS: readonly WorkloadModel[] = ['acsm-walking', 'acsm-running', 'acsm-walking-backward'];
const MODELS: readonly CalorieModel[] = [...WORKLOAD_MODELS, 'keytel'];

/** Time and the time integral of workload VO2 (ml/kg/min x s). */
export interface Vo2Integral {
  seconds: number;
  vo2Seconds: number;
}

/** Forward moving intervals at one whole bpm; a tuple keeps the ~50 buckets of a session small. */
export type HeartRateBucket = [
  walkingSeconds: number,
  runningSeconds: number,
  /** Integral of heart rate (bpm x s): Keytel is linear in heart rate, so this makes it exact per bucket. */
  hrSeconds: number,
  /** Integral of the workload VO2, used when finalize finds the bucket outside Keytel's range. */
  vo2Seconds: number,
];

/**
 * Everything finalize needs, as plain sums (JSON-serialisable, no rounding). Workload VO2 does not depend on
 * the member's weight, and Keytel is linear in heart rate, so the profile can wait until finalize.
 */
export interface CalorieAccumulator {
  /** Belt stopped: rest at 1 MET, in no model. */
  idleSeconds: number;
  /** Moving intervals that only the workload model can price: no heart rate, or backward. */
  workload: Partial<Record<WorkloadModel, Vo2Integral>>;
  /** Forward moving intervals with heart rate, by Math.round(hrBpm). */
  heartRateBuckets: Record<string, HeartRateBucket>;
  /** Backward intervals with heart rate (also in `workload`): the Keytel cross-check. */
  backwardHeartRate: Vo2Integral & { hrSeconds: number };
  /** Seconds each interval reason applied, outside the heart-rate buckets... */
  reasonSeconds: Partial<Record<IntervalReason, number>>;
  /** ...and inside them, where they only matter for buckets that fall back to the workload model. */
  heartRateReasonSeconds: Partial<Record<IntervalReason, number>>;
}

export const emptyCalorieAccumulator = (): CalorieAccumulator => ({
  idleSeconds: 0,
  workload: {},
  heartRateBuckets: {},
  backwardHeartRate: { seconds: 0, hrSeconds: 0, vo2Seconds: 0 },
  reasonSeconds: {},
  heartRateReasonSeconds: {},
});

interface WorkloadEstimate {
  model: WorkloadModel;
  vo2: number;
  reasons: IntervalReason[];
}

function checkInterval(interval: CalorieInput & { durationS: number }): void {
  const { speedKmh, gradePct, hrBpm, cadenceSpm, backwardMultiplier, durationS } = interval;
  if (!(Number.isFinite(speedKmh) && speedKmh >= 0))
    throw new RangeError(`speedKmh must be >= 0: ${speedKmh}`);
  if (!Number.isFinite(gradePct)) throw new RangeError(`gradePct must be finite: ${gradePct}`);
  if (!(Number.isFinite(durationS) && durationS >= 0))
    throw new RangeError(`durationS must be >= 0: ${durationS}`);
  if (hrBpm !== undefined && !(Number.isFinite(hrBpm) && hrBpm >= 0))
    throw new RangeError(`hrBpm must be >= 0: ${hrBpm}`);
  if (cadenceSpm !== undefined && !(Number.isFinite(cadenceSpm) && cadenceSpm >= 0))
    throw new RangeError(`cadenceSpm must be >= 0: ${cadenceSpm}`);
  if (
    backwardMultiplier !== undefined &&
    !(
      backwardMultiplier >= BACKWARD_MULTIPLIER_RANGE.min &&
      backwardMultiplier <= BACKWARD_MULTIPLIER_RANGE.max
    )
  )
    throw new RangeError(
      `backwardMultiplier must be within [${BACKWARD_MULTIPLIER_RANGE.min}, ${BACKWARD_MULTIPLIER_RANGE.max}]: ${backwardMultiplier}`,
    );
}

/** Forward gait in the walk/run gap: the RSC flag, else cadence, else walking (flagged). */
function runsInGap(input: CalorieInput): boolean | undefined {
  if (input.running !== undefined) return input.running;
  if (input.cadenceSpm !== undefined && input.cadenceSpm > 0) return input.cadenceSpm >= RUNNING_CADENCE_SPM;
  return undefined;
}

/** The weight-independent workload estimate of a moving interval, floored at rest. */
function workloadEstimate(input: CalorieInput): WorkloadEstimate {
  const speed = (input.speedKmh * 1000) / 60;
  const grade = input.gradePct / 100;
  const reasons: IntervalReason[] = [];
  let model: WorkloadModel;
  let vo2: number;
  if (input.direction === 'backward') {
    // Never the running equation backwards (docs/domain.md 2.2): backward jogging has no validated equation.
    model = 'acsm-walking-backward';
    vo2 =
      input.backwardMultiplier === undefined
        ? backwardWalkingVo2(speed, grade)
        : input.backwardMultiplier * acsmWalkingVo2(speed, grade);
    reasons.push('backward_multiplier');
    if (speed > WALKING_MAX_M_PER_MIN) reasons.push('speed_above_validated_range');
    if (outsideBackwardData(speed, grade)) reasons.push('backward_outside_data_range');
  } else {
    if (input.direction === 'unknown') reasons.push('direction_unknown');
    let running = speed >= RUNNING_MIN_M_PER_MIN;
    if (speed > WALKING_MAX_M_PER_MIN && !running) {
      reasons.push('speed_in_walk_run_gap');
      const gait = runsInGap(input);
      if (gait === undefined) reasons.push('gait_assumed_walking');
      running = gait === true;
    }
    model = running ? 'acsm-running' : 'acsm-walking';
    vo2 = running ? acsmRunningVo2(speed, grade) : acsmWalkingVo2(speed, grade);
  }
  if (speed < WALKING_VALIDATED_MIN_M_PER_MIN) reasons.push('speed_below_validated_range');
  if (grade < 0) reasons.push('negative_grade');
  if (vo2 < RESTING_VO2) {
    reasons.push('resting_floor');
    vo2 = RESTING_VO2;
  }
  return { model, vo2, reasons };
}

const addVo2 = (integral: Vo2Integral | undefined, seconds: number, vo2Seconds: number): Vo2Integral => ({
  seconds: (integral?.seconds ?? 0) + seconds,
  vo2Seconds: (integral?.vo2Seconds ?? 0) + vo2Seconds,
});

function addReasons<R extends string>(
  sums: Partial<Record<R, number>>,
  reasons: readonly R[],
  seconds: number,
): Partial<Record<R, number>> {
  const next = { ...sums };
  for (const reason of reasons) next[reason] = (next[reason] ?? 0) + seconds;
  return next;
}

/** A new accumulator with one interval added (pure). Throws RangeError on invalid input. */
export function accumulateCalories(
  acc: CalorieAccumulator,
  interval: CalorieInput & { durationS: number },
): CalorieAccumulator {
  checkInterval(interval);
  const seconds = interval.durationS;
  if (seconds === 0) return acc;
  if (interval.speedKmh === 0) {
    return {
      ...acc,
      idleSeconds: acc.idleSeconds + seconds,
      reasonSeconds: addReasons(acc.reasonSeconds, ['belt_stopped'], seconds),
    };
  }
  const { model, vo2, reasons } = workloadEstimate(interval);
  const vo2Seconds = vo2 * seconds;
  const hr = interval.hrBpm !== undefined && interval.hrBpm > 0 ? interval.hrBpm : undefined;
  if (hr !== undefined && model !== 'acsm-walking-backward') {
    const key = String(Math.round(hr));
    const [walking, running, hrSeconds, bucketVo2] = acc.heartRateBuckets[key] ?? [0, 0, 0, 0];
    const isRunning = model === 'acsm-running';
    return {
      ...acc,
      heartRateBuckets: {
        ...acc.heartRateBuckets,
        [key]: [
          isRunning ? walking : walking + seconds,
          isRunning ? running + seconds : running,
          hrSeconds + hr * seconds,
          bucketVo2 + vo2Seconds,
        ],
      },
      heartRateReasonSeconds: addReasons(acc.heartRateReasonSeconds, reasons, seconds),
    };
  }
  const backward = acc.backwardHeartRate;
  return {
    ...acc,
    workload: { ...acc.workload, [model]: addVo2(acc.workload[model], seconds, vo2Seconds) },
    backwardHeartRate:
      hr === undefined
        ? backward
        : { ...addVo2(backward, seconds, vo2Seconds), hrSeconds: backward.hrSeconds + hr * seconds },
    reasonSeconds: addReasons(acc.reasonSeconds, reasons, seconds),
  };
}

function mergeSums<K extends string>(a: Partial<Record<K, number>>, b: Partial<Record<K, number>>) {
  const merged = { ...a };
  for (const [key, value] of Object.entries(b) as [K, number][]) merged[key] = (merged[key] ?? 0) + value;
  return merged;
}

/**
 * Both accumulators' sums. Equal to accumulating b's intervals onto a up to floating-point reassociation
 * (sums are added in a different order); accumulating batch after batch is bit-exact.
 */
export function mergeCalorieAccumulators(a: CalorieAccumulator, b: CalorieAccumulator): CalorieAccumulator {
  const workload = { ...a.workload };
  for (const model of WORKLOAD_MODELS) {
    const extra = b.workload[model];
    if (extra) workload[model] = addVo2(workload[model], extra.seconds, extra.vo2Seconds);
  }
  const heartRateBuckets = { ...a.heartRateBuckets };
  for (const [key, extra] of Object.entries(b.heartRateBuckets)) {
    const base = heartRateBuckets[key] ?? [0, 0, 0, 0];
    heartRateBuckets[key] = [base[0] + extra[0], base[1] + extra[1], base[2] + extra[2], base[3] + extra[3]];
  }
  return {
    idleSeconds: a.idleSeconds + b.idleSeconds,
    workload,
    heartRateBuckets,
    backwardHeartRate: {
      ...addVo2(a.backwardHeartRate, b.backwardHeartRate.seconds, b.backwardHeartRate.vo2Seconds),
      hrSeconds: a.backwardHeartRate.hrSeconds + b.backwardHeartRate.hrSeconds,
    },
    reasonSeconds: mergeSums(a.reasonSeconds, b.reasonSeconds),
    heartRateReasonSeconds: mergeSums(a.heartRateReasonSeconds, b.heartRateReasonSeconds),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Finalize

export interface CalorieTotals {
  kcal: number;
  kcalPerMin: number;
  /** Mean METs over the whole time, idle included. */
  met: number;
  /** The model with the most moving time ('acsm-walking' when the belt never moved). */
  model: CalorieModel;
  /** Moving time per model; idle time is in none. */
  modelSeconds: Partial<Record<CalorieModel, number>>;
  confidence: Confidence;
  reasons: CalorieReason[];
}

interface ResolvedProfile {
  weightKg: number;
  ageYears: number;
  sex: 'male' | 'female' | undefined;
  weightDefaulted: boolean;
  ageDefaulted: boolean;
}

function resolveProfile(profile: CalorieProfile): ResolvedProfile {
  const { weightKg, ageYears, sex } = profile;
  if (weightKg !== undefined && !(Number.isFinite(weightKg) && weightKg > 0))
    throw new RangeError(`weightKg must be > 0: ${weightKg}`);
  if (ageYears !== undefined && !(Number.isFinite(ageYears) && ageYears >= 0))
    throw new RangeError(`ageYears must be >= 0: ${ageYears}`);
  return {
    weightKg: weightKg ?? DEFAULT_PROFILE.weightKg,
    ageYears: ageYears ?? DEFAULT_PROFILE.ageYears,
    sex,
    weightDefaulted: weightKg === undefined,
    ageDefaulted: ageYears === undefined,
  };
}

/** Why this member is outside Keytel's study population, if they are. */
function keytelProfileExclusion(person: ResolvedProfile): CalorieReason | undefined {
  if (person.sex === undefined) return 'sex_unknown';
  if (person.ageYears < KEYTEL_AGE_RANGE.min || person.ageYears > KEYTEL_AGE_RANGE.max)
    return 'age_outside_keytel_range';
  if (person.weightKg < KEYTEL_WEIGHT_RANGE_KG.min || person.weightKg > KEYTEL_WEIGHT_RANGE_KG.max)
    return 'weight_outside_keytel_range';
  return undefined;
}

function hrInKeytelRange(hrBpm: number, ageYears: number): boolean {
  const hrMax = 220 - ageYears;
  return hrBpm >= KEYTEL_HR_FRACTION_OF_MAX.min * hrMax && hrBpm <= KEYTEL_HR_FRACTION_OF_MAX.max * hrMax;
}

const worstConfidence = (reasons: readonly CalorieReason[]): Confidence => {
  const levels = reasons.map((reason) => REASON_CONFIDENCE[reason]);
  return levels.includes('low') ? 'low' : levels.includes('medium') ? 'medium' : 'high';
};

/** Calories of the accumulated intervals for this member: Keytel per heart-rate bucket where it applies. */
export function finalizeCalories(acc: CalorieAccumulator, profile: CalorieProfile): CalorieTotals {
  const person = resolveProfile(profile);
  const { weightKg, ageYears, sex } = person;
  // Zero-length intervals are never stored, so an accumulator without entries saw no time at all.
  const empty =
    acc.idleSeconds === 0 &&
    Object.keys(acc.workload).length === 0 &&
    Object.keys(acc.heartRateBuckets).length === 0;
  if (empty) {
    return {
      kcal: 0,
      kcalPerMin: 0,
      met: 0,
      model: 'acsm-walking',
      modelSeconds: {},
      confidence: 'low',
      reasons: ['no_data'],
    };
  }
  const modelSeconds: Partial<Record<CalorieModel, number>> = {};
  const addModel = (model: CalorieModel, seconds: number) => {
    if (seconds > 0) modelSeconds[model] = (modelSeconds[model] ?? 0) + seconds;
  };
  const reasonSeconds: Partial<Record<CalorieReason, number>> = {};
  const addReason = (reason: CalorieReason, seconds: number) => {
    if (seconds > 0) reasonSeconds[reason] = (reasonSeconds[reason] ?? 0) + seconds;
  };

  let workloadVo2Seconds = RESTING_VO2 * acc.idleSeconds;
  for (const model of WORKLOAD_MODELS) {
    const integral = acc.workload[model];
    if (!integral) continue;
    workloadVo2Seconds += integral.vo2Seconds;
    addModel(model, integral.seconds);
  }

  const keytelExclusion = keytelProfileExclusion(person);
  // Narrowed for the equation: defined only when the member is inside Keytel's population.
  const keytelSex = keytelExclusion === undefined ? sex : undefined;
  const restingKcalPerMin = kcalPerMinFromVo2(RESTING_VO2, weightKg);
  let keytelKcal = 0;
  let keytelSeconds = 0;
  let bucketSeconds = 0;
  for (const [walkingSeconds, runningSeconds, hrSeconds, vo2Seconds] of Object.values(acc.heartRateBuckets)) {
    const seconds = walkingSeconds + runningSeconds;
    const hr = hrSeconds / seconds;
    bucketSeconds += seconds;
    if (keytelSex !== undefined && hrInKeytelRange(hr, ageYears)) {
      const rate = keytelKcalPerMin(hr, weightKg, ageYears, keytelSex);
      if (rate < restingKcalPerMin) addReason('resting_floor', seconds);
      keytelKcal += (Math.max(rate, restingKcalPerMin) * seconds) / 60;
      keytelSeconds += seconds;
      addModel('keytel', seconds);
    } else {
      workloadVo2Seconds += vo2Seconds;
      addModel('acsm-walking', walkingSeconds);
      addModel('acsm-running', runningSeconds);
      if (keytelExclusion === undefined) addReason('hr_outside_keytel_range', seconds);
    }
  }

  const backward = acc.backwardHeartRate;
  if (keytelSex !== undefined && backward.seconds > 0) {
    const hr = backward.hrSeconds / backward.seconds;
    if (hrInKeytelRange(hr, ageYears)) {
      const hrKcal = (keytelKcalPerMin(hr, weightKg, ageYears, keytelSex) * backward.seconds) / 60;
      const workloadKcal = kcalFromVo2Seconds(backward.vo2Seconds, weightKg);
      if (Math.abs(hrKcal - workloadKcal) > HR_CROSS_CHECK_TOLERANCE * workloadKcal)
        addReason('hr_disagrees_with_workload', backward.seconds);
    }
  }

  // Workload reasons inside the buckets only concern the share of bucket time priced by the workload model.
  const fallbackShare = bucketSeconds === 0 ? 0 : (bucketSeconds - keytelSeconds) / bucketSeconds;
  for (const [reason, seconds] of Object.entries(acc.reasonSeconds) as [IntervalReason, number][])
    addReason(reason, seconds);
  for (const [reason, seconds] of Object.entries(acc.heartRateReasonSeconds) as [IntervalReason, number][])
    addReason(reason, seconds * fallbackShare);

  const movingSeconds = MODELS.reduce((sum, model) => sum + (modelSeconds[model] ?? 0), 0);
  const totalSeconds = acc.idleSeconds + movingSeconds;
  const heartRateSeconds = bucketSeconds + backward.seconds;
  if (person.weightDefaulted) addReason('default_weight', totalSeconds);
  if (person.ageDefaulted) addReason('default_age', heartRateSeconds);
  if (keytelExclusion !== undefined) addReason(keytelExclusion, heartRateSeconds);

  const kcal = kcalFromVo2Seconds(workloadVo2Seconds, weightKg) + keytelKcal;
  const kcalPerMin = kcal / (totalSeconds / 60);
  const reasons = (Object.keys(REASON_CONFIDENCE) as CalorieReason[]).filter(
    (reason) => (reasonSeconds[reason] ?? 0) >= MATERIAL_SHARE * totalSeconds,
  );
  const model = MODELS.reduce<CalorieModel>(
    (best, candidate) => ((modelSeconds[candidate] ?? 0) > (modelSeconds[best] ?? 0) ? candidate : best),
    'acsm-walking',
  );
  return {
    kcal,
    kcalPerMin,
    met: vo2FromKcalPerMin(kcalPerMin, weightKg) / RESTING_VO2,
    model,
    modelSeconds,
    confidence: worstConfidence(reasons),
    reasons,
  };
}

/**
 * The steady rate of one interval. It is one minute run through the session path, so a single interval and a
 * session can never disagree on model, floor or reasons.
 */
export function calorieRate(input: CalorieInput, profile: CalorieProfile): CalorieRate {
  const totals = finalizeCalories(
    accumulateCalories(emptyCalorieAccumulator(), { ...input, durationS: 60 }),
    profile,
  );
  const weightKg = profile.weightKg ?? DEFAULT_PROFILE.weightKg;
  return {
    kcalPerMin: totals.kcalPerMin,
    met: totals.met,
    vo2: vo2FromKcalPerMin(totals.kcalPerMin, weightKg),
    model: totals.model,
    confidence: totals.confidence,
    reasons: totals.reasons,
  };
}
