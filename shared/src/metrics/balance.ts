/**
 * The 0-100 balance score from step-level gait data (docs/domain.md 3.4: a design choice [D] built on 3.2-3.3).
 *
 * A session keeps one accumulator per walking direction and each is scored only against anchors or a
 * personal baseline of that same direction: backward walking has longer double support and more variability,
 * and forward thresholds would label every backward walker unstable (docs/domain.md 3.3).
 *
 * The accumulator is bounded (running statistics, no raw arrays) and plain JSON: it survives a round trip
 * through storage unchanged.
 */
import { addSample, coefficientOfVariationPct, emptyStats, mergeStats, type RunningStats } from './stats.js';

export type Foot = 'L' | 'R';
export type WalkingDirection = 'forward' | 'backward';

interface PerFoot<T> {
  L: T;
  R: T;
}

export interface BalanceAccumulator {
  steps: number;
  /** First contacts, so that `mergeBalanceAccumulators` can rebuild the intervals spanning a boundary. */
  firstFoot: Foot | null;
  firstContactTs: PerFoot<number | null>;
  lastContactTs: PerFoot<number | null>;
  /** Between consecutive contacts of the same foot. */
  strideTimeMs: PerFoot<RunningStats>;
  /** A foot's step time runs from the other foot's contact to this foot's contact. */
  stepTimeMs: PerFoot<RunningStats>;
  contactMs: PerFoot<RunningStats>;
  stepWidthMm: RunningStats;
  /** Per foot, so that the constant left/right offset of the two feet is not counted as sway. */
  copLateralMm: PerFoot<RunningStats>;
  /** Whether any step carried a handrail reading: without a sensor the component is missing, not perfect. */
  handrailSensor: boolean;
  handrailSteps: number;
  stumbles: number;
}

export interface BalanceStep {
  ts: number;
  foot: Foot;
  contactMs?: number;
  stepWidthMm?: number;
  copLateralMm?: number;
  handrail?: boolean;
  stumble?: boolean;
}

/** The user's reference (median of the first 3 qualifying sessions), valid only for its own direction. */
export interface BalanceBaseline {
  direction: WalkingDirection;
  strideTimeCvPct: number;
  copLateralSdMm?: number;
}

export type BalanceComponentName =
  'stride_time_cv' | 'step_width_cv' | 'symmetry' | 'cop_sway' | 'handrail' | 'stumbles';

export interface BalanceComponent {
  name: BalanceComponentName;
  /** In the unit of the anchor (%, mm, events per 10 min); null when the data for it is missing. */
  value: number | null;
  /** In [0, 1]; null when missing. */
  subScore: number | null;
  /** The weight applied: the nominal one re-normalised over the components present; 0 if missing. */
  weight: number;
  anchor: string;
}

export interface BalanceScore {
  score: number | null;
  reason?: 'insufficient_data';
  direction: WalkingDirection;
  /** Gait cycles: the larger of the two feet's plausible stride counts (one-foot sensors still count). */
  strides: number;
  components: BalanceComponent[];
  dataSufficient: boolean;
  baselineUsed: boolean;
  /** Why a baseline that was passed in was not used. */
  baselineIgnored?: 'other_direction' | 'invalid';
  missing: BalanceComponentName[];
}

export interface BalanceContext {
  direction: WalkingDirection;
  /** Seconds walked in this direction, for the stumble rate. */
  durationS: number;
  /** Safety stops (machine events) during this direction's walking, counted by the caller. */
  safetyStops: number;
  baseline?: BalanceBaseline;
}

/** docs/domain.md 3.4. */
export const MIN_STRIDES = 100;
/** [D] A longer gap between contacts is a pause (or a sensor dropout), not a stride or a step. */
export const PAUSE_GAP_MS = 3000;

export const BALANCE_WEIGHTS: Readonly<Record<BalanceComponentName, number>> = {
  stride_time_cv: 0.3,
  step_width_cv: 0.15,
  symmetry: 0.15,
  cop_sway: 0.15,
  handrail: 0.15,
  stumbles: 0.1,
};

/** Lower is better: full marks at or below `full`, zero at or above `zero`. */
interface Ramp {
  full: number;
  zero: number;
}
/** Both extremes are bad: full marks inside [fullLow, fullHigh], zero outside [zeroLow, zeroHigh]. */
interface Band {
  zeroLow: number;
  fullLow: number;
  fullHigh: number;
  zeroHigh: number;
}

interface DirectionAnchors {
  strideTimeCvPct: Ramp;
  stepWidthCvPct: Band;
  symmetryPct: Ramp;
  copLateralSdMm: Ramp;
  handrailPct: Ramp;
  stumblesPer10Min: Ramp;
}

/** Population anchors, used where no personal baseline applies. */
export const BALANCE_ANCHORS: Readonly<Record<WalkingDirection, DirectionAnchors>> = {
  forward: {
    // [D] docs/domain.md 3.4 table; the absolute % anchors are not from a primary source.
    strideTimeCvPct: { full: 2.5, zero: 6 },
    // [D] Stand-ins for the cohort's 10th-90th (full) and 5th-95th (zero) percentiles (Brach 2005 U-shape).
    stepWidthCvPct: { zeroLow: 4, fullLow: 8, fullHigh: 25, zeroHigh: 35 },
    // [D] docs/domain.md 3.4 table.
    symmetryPct: { full: 5, zero: 20 },
    // [D] Within-foot SD of lateral COP at contact; no published treadmill norm was found.
    copLateralSdMm: { full: 10, zero: 25 },
    // [D] docs/domain.md 3.4 table, measured as the share of steps with a handrail reading of true.
    handrailPct: { full: 0, zero: 50 },
    // [D] docs/domain.md 3.4 table: stumbles plus safety stops.
    stumblesPer10Min: { full: 0, zero: 2 },
  },
  backward: {
    // [D] Looser than forward: backward gait is more variable (docs/domain.md 3.3).
    strideTimeCvPct: { full: 3.5, zero: 8 },
    // [D] Wider band: step placement is less regular when the walker cannot see where the foot lands.
    stepWidthCvPct: { zeroLow: 4, fullLow: 8, fullHigh: 30, zeroHigh: 42 },
    // [D] Looser: a shorter swing phase and longer double support amplify small left/right differences.
    symmetryPct: { full: 7, zero: 25 },
    // [D] Looser: more lateral sway walking backward.
    copLateralSdMm: { full: 14, zero: 35 },
    // [D] Occasional grip is not penalised: arm support prevents falls walking backward (docs/domain.md 4.3).
    handrailPct: { full: 10, zero: 60 },
    // [D] A stumble is a stumble in either direction.
    stumblesPer10Min: { full: 0, zero: 2 },
  },
};

/** [D] docs/domain.md 3.4: a personal stride-time CV scores zero at twice the baseline. */
const BASELINE_STRIDE_CV_ZERO_FACTOR = 2;
/**
 * [D] docs/domain.md 3.4 gives "zero at <= baseline x 0.7" for harmonic ratio, where higher is better. COP sway is
 * the other way round (more sway is worse), so it scores zero at baseline / 0.7.
 */
const BASELINE_COP_RATIO = 0.7;

const otherFoot = (foot: Foot): Foot => (foot === 'L' ? 'R' : 'L');
const perFoot = <T>(make: () => T): PerFoot<T> => ({ L: make(), R: make() });
const withFoot = <T>(pair: PerFoot<T>, foot: Foot, value: T): PerFoot<T> =>
  foot === 'L' ? { L: value, R: pair.R } : { L: pair.L, R: value };
const addOptional = (stats: RunningStats, x: number | null | undefined): RunningStats =>
  x === null || x === undefined ? stats : addSample(stats, x);
const addForFoot = (pair: PerFoot<RunningStats>, foot: Foot, x: number | null | undefined) =>
  x === null || x === undefined ? pair : withFoot(pair, foot, addSample(pair[foot], x));

export function emptyBalanceAccumulator(): BalanceAccumulator {
  return {
    steps: 0,
    firstFoot: null,
    firstContactTs: perFoot(() => null),
    lastContactTs: perFoot(() => null),
    strideTimeMs: perFoot(emptyStats),
    stepTimeMs: perFoot(emptyStats),
    contactMs: perFoot(emptyStats),
    stepWidthMm: emptyStats(),
    copLateralMm: perFoot(emptyStats),
    handrailSensor: false,
    handrailSteps: 0,
    stumbles: 0,
  };
}

/** The interval from `from` to `to` if it is a plausible stride or step; null at a first contact or pause. */
function plausibleGapMs(from: number | null, to: number): number | null {
  if (from === null) return null;
  const gap = to - from;
  return gap > 0 && gap <= PAUSE_GAP_MS ? gap : null;
}

/** The other foot's contact starts this foot's step only if it came after this foot's previous contact. */
function stepStartTs(lastContactTs: PerFoot<number | null>, foot: Foot): number | null {
  const previousOther = lastContactTs[otherFoot(foot)];
  const previousSame = lastContactTs[foot];
  return previousOther !== null && (previousSame === null || previousOther > previousSame)
    ? previousOther
    : null;
}

/**
 * The accumulator with one step added (pure). Steps must come in order: sequential reduction is exact, so
 * reducing a batch onto the state of the batches before it equals reducing everything at once.
 */
export function addStep(acc: BalanceAccumulator, step: BalanceStep): BalanceAccumulator {
  const { foot, ts } = step;
  return {
    steps: acc.steps + 1,
    firstFoot: acc.firstFoot ?? foot,
    firstContactTs:
      acc.firstContactTs[foot] === null ? withFoot(acc.firstContactTs, foot, ts) : acc.firstContactTs,
    lastContactTs: withFoot(acc.lastContactTs, foot, ts),
    strideTimeMs: addForFoot(acc.strideTimeMs, foot, plausibleGapMs(acc.lastContactTs[foot], ts)),
    stepTimeMs: addForFoot(acc.stepTimeMs, foot, plausibleGapMs(stepStartTs(acc.lastContactTs, foot), ts)),
    contactMs: addForFoot(acc.contactMs, foot, step.contactMs),
    stepWidthMm: addOptional(acc.stepWidthMm, step.stepWidthMm),
    copLateralMm: addForFoot(acc.copLateralMm, foot, step.copLateralMm),
    handrailSensor: acc.handrailSensor || step.handrail !== undefined,
    handrailSteps: acc.handrailSteps + (step.handrail === true ? 1 : 0),
    stumbles: acc.stumbles + (step.stumble === true ? 1 : 0),
  };
}

/**
 * Combines the accumulators of two consecutive stretches of the same direction, every step of `earlier`
 * before every step of `later` in time. Equal to sequential reduction up to floating-point rounding: the two
 * strides and the step spanning the boundary are rebuilt from `earlier`'s last and `later`'s first contacts.
 */
export function mergeBalanceAccumulators(
  earlier: BalanceAccumulator,
  later: BalanceAccumulator,
): BalanceAccumulator {
  const laterFirstFoot = later.firstFoot;
  if (laterFirstFoot === null) return earlier;
  if (earlier.firstFoot === null) return later;

  const boundaryStride = (foot: Foot): number | null => {
    const first = later.firstContactTs[foot];
    return first === null ? null : plausibleGapMs(earlier.lastContactTs[foot], first);
  };
  // Only later's very first step can have its step start in `earlier`; later already measured the others.
  const laterFirstTs = later.firstContactTs[laterFirstFoot] as number;
  const boundaryStep = plausibleGapMs(stepStartTs(earlier.lastContactTs, laterFirstFoot), laterFirstTs);
  const mergeFeet = (a: PerFoot<RunningStats>, b: PerFoot<RunningStats>): PerFoot<RunningStats> => ({
    L: mergeStats(a.L, b.L),
    R: mergeStats(a.R, b.R),
  });

  return {
    steps: earlier.steps + later.steps,
    firstFoot: earlier.firstFoot,
    firstContactTs: {
      L: earlier.firstContactTs.L ?? later.firstContactTs.L,
      R: earlier.firstContactTs.R ?? later.firstContactTs.R,
    },
    lastContactTs: {
      L: later.lastContactTs.L ?? earlier.lastContactTs.L,
      R: later.lastContactTs.R ?? earlier.lastContactTs.R,
    },
    strideTimeMs: {
      L: mergeStats(addOptional(earlier.strideTimeMs.L, boundaryStride('L')), later.strideTimeMs.L),
      R: mergeStats(addOptional(earlier.strideTimeMs.R, boundaryStride('R')), later.strideTimeMs.R),
    },
    stepTimeMs: mergeFeet(addForFoot(earlier.stepTimeMs, laterFirstFoot, boundaryStep), later.stepTimeMs),
    contactMs: mergeFeet(earlier.contactMs, later.contactMs),
    stepWidthMm: mergeStats(earlier.stepWidthMm, later.stepWidthMm),
    copLateralMm: mergeFeet(earlier.copLateralMm, later.copLateralMm),
    handrailSensor: earlier.handrailSensor || later.handrailSensor,
    handrailSteps: earlier.handrailSteps + later.handrailSteps,
    stumbles: earlier.stumbles + later.stumbles,
  };
}

function rampScore(value: number, { full, zero }: Ramp): number {
  if (value <= full) return 1;
  if (value >= zero) return 0;
  return (zero - value) / (zero - full);
}

function bandScore(value: number, band: Band): number {
  if (value < band.fullLow) return 1 - rampScore(value, { full: band.zeroLow, zero: band.fullLow });
  return rampScore(value, { full: band.fullHigh, zero: band.zeroHigh });
}

const rampText = (ramp: Ramp, unit: string) => `full <= ${ramp.full} ${unit}, zero >= ${ramp.zero} ${unit}`;

/** Robinson-style symmetry index, percent. */
const symmetryIndexPct = (left: number, right: number): number =>
  (Math.abs(left - right) / (0.5 * (left + right))) * 100;

function symmetryPct(pair: PerFoot<RunningStats>): number | null {
  return pair.L.n > 0 && pair.R.n > 0 && pair.L.mean + pair.R.mean > 0
    ? symmetryIndexPct(pair.L.mean, pair.R.mean)
    : null;
}

/** Pooled within-foot standard deviation: each foot around its own mean. */
function pooledWithinFootSd(pair: PerFoot<RunningStats>): number | null {
  const feetWithData = (pair.L.n > 0 ? 1 : 0) + (pair.R.n > 0 ? 1 : 0);
  const degreesOfFreedom = pair.L.n + pair.R.n - feetWithData;
  return degreesOfFreedom > 0 ? Math.sqrt((pair.L.m2 + pair.R.m2) / degreesOfFreedom) : null;
}

function usableBaseline(
  ctx: BalanceContext,
): Pick<BalanceScore, 'baselineIgnored'> & { baseline?: BalanceBaseline } {
  const { baseline } = ctx;
  if (baseline === undefined) return {};
  if (baseline.direction !== ctx.direction) return { baselineIgnored: 'other_direction' };
  const positive = (x: number) => Number.isFinite(x) && x > 0;
  const valid =
    positive(baseline.strideTimeCvPct) &&
    (baseline.copLateralSdMm === undefined || positive(baseline.copLateralSdMm));
  return valid ? { baseline } : { baselineIgnored: 'invalid' };
}

type Measured = Omit<BalanceComponent, 'weight'>;

function measure(
  name: BalanceComponentName,
  value: number | null | undefined,
  score: (v: number) => number,
  anchor: string,
): Measured {
  return value === null || value === undefined
    ? { name, value: null, subScore: null, anchor }
    : { name, value, subScore: score(value), anchor };
}

export function scoreBalance(acc: BalanceAccumulator, ctx: BalanceContext): BalanceScore {
  const { direction } = ctx;
  const anchors = BALANCE_ANCHORS[direction];
  const { baseline, baselineIgnored } = usableBaseline(ctx);
  const population = `${direction} population [D]`;

  const strideRamp: Ramp = baseline
    ? { full: baseline.strideTimeCvPct, zero: baseline.strideTimeCvPct * BASELINE_STRIDE_CV_ZERO_FACTOR }
    : anchors.strideTimeCvPct;
  const copBaseline = baseline?.copLateralSdMm;
  const copRamp: Ramp =
    copBaseline === undefined
      ? anchors.copLateralSdMm
      : { full: copBaseline, zero: copBaseline / BASELINE_COP_RATIO };
  const band = anchors.stepWidthCvPct;
  const symmetryValues = [symmetryPct(acc.stepTimeMs), symmetryPct(acc.contactMs)].filter((x) => x !== null);
  const validDuration = Number.isFinite(ctx.durationS) && ctx.durationS > 0;

  const measured: Measured[] = [
    measure(
      'stride_time_cv',
      coefficientOfVariationPct(mergeStats(acc.strideTimeMs.L, acc.strideTimeMs.R)),
      (v) => rampScore(v, strideRamp),
      `${baseline ? `${direction} personal baseline` : population}: ${rampText(strideRamp, '%')}`,
    ),
    measure(
      'step_width_cv',
      coefficientOfVariationPct(acc.stepWidthMm),
      (v) => bandScore(v, band),
      `${population}: U-shape (Brach 2005), full in ${band.fullLow}-${band.fullHigh} %, ` +
        `zero <= ${band.zeroLow} % or >= ${band.zeroHigh} %`,
    ),
    measure(
      'symmetry',
      // [D] The worse of step-time and contact-time SI: either one shows a favoured limb.
      symmetryValues.length > 0 ? Math.max(...symmetryValues) : null,
      (v) => rampScore(v, anchors.symmetryPct),
      `${population}: worse of step-time and contact-time SI, ${rampText(anchors.symmetryPct, '%')}`,
    ),
    measure(
      'cop_sway',
      pooledWithinFootSd(acc.copLateralMm),
      (v) => rampScore(v, copRamp),
      `${copBaseline === undefined ? population : `${direction} personal baseline`}: ` +
        `within-foot SD of lateral COP, ${rampText(copRamp, 'mm')}`,
    ),
    measure(
      'handrail',
      acc.handrailSensor && acc.steps > 0 ? (acc.handrailSteps / acc.steps) * 100 : null,
      (v) => rampScore(v, anchors.handrailPct),
      `${population}: share of steps on the handrail, ${rampText(anchors.handrailPct, '%')}`,
    ),
    measure(
      'stumbles',
      validDuration ? ((acc.stumbles + ctx.safetyStops) / ctx.durationS) * 600 : null,
      (v) => rampScore(v, anchors.stumblesPer10Min),
      `${population}: stumbles and safety stops, ${rampText(anchors.stumblesPer10Min, 'per 10 min')}`,
    ),
  ];

  // Missing components are left out and the others re-weighted, so the score stays on the same 0-100 scale.
  const presentWeight = measured.reduce(
    (sum, c) => sum + (c.subScore === null ? 0 : BALANCE_WEIGHTS[c.name]),
    0,
  );
  const components: BalanceComponent[] = measured.map((c) => ({
    ...c,
    weight: c.subScore === null ? 0 : BALANCE_WEIGHTS[c.name] / presentWeight,
  }));
  const strides = Math.max(acc.strideTimeMs.L.n, acc.strideTimeMs.R.n);
  const dataSufficient = strides >= MIN_STRIDES;
  const weighted = components.reduce((sum, c) => sum + c.weight * (c.subScore ?? 0), 0);

  return {
    score: dataSufficient ? Math.round(weighted * 1000) / 10 : null,
    ...(dataSufficient ? {} : { reason: 'insufficient_data' as const }),
    direction,
    strides,
    components,
    dataSufficient,
    baselineUsed: baseline !== undefined,
    ...(baselineIgnored ? { baselineIgnored } : {}),
    missing: components.filter((c) => c.subScore === null).map((c) => c.name),
  };
}

/**
 * The personal baseline of one direction: the median of the first 3 data-sufficient sessions of that
 * direction (docs/domain.md 3.4), or undefined before there are 3. `history` is in chronological order.
 * The COP baseline is set only when all 3 sessions measured it.
 */
export function balanceBaseline(
  direction: WalkingDirection,
  history: readonly BalanceScore[],
): BalanceBaseline | undefined {
  const firstThree = history.filter((s) => s.direction === direction && s.dataSufficient).slice(0, 3);
  if (firstThree.length < 3) return undefined;
  const medianOf = (name: BalanceComponentName): number | undefined => {
    const values = firstThree
      .map((s) => s.components.find((c) => c.name === name)?.value)
      .filter((v): v is number => typeof v === 'number');
    return values.length === 3 ? values.sort((a, b) => a - b)[1] : undefined;
  };
  const strideTimeCvPct = medianOf('stride_time_cv');
  if (strideTimeCvPct === undefined) return undefined;
  const copLateralSdMm = medianOf('cop_sway');
  return copLateralSdMm === undefined
    ? { direction, strideTimeCvPct }
    : { direction, strideTimeCvPct, copLateralSdMm };
}
