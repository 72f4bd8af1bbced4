/**
 * The backward-walking energy model held against published measurements (docs/energy-model.md): reading the
 * data set, fitting BACKWARD_WALKING_FIT, and the error tables the document and its test recompute. Pure.
 *
 * Decisions [D], each explained in docs/energy-model.md 3:
 * - The fit minimises the squared log error (a relative error, so a 10 % miss weighs the same at any VO2),
 *   every measured point weighted alike.
 * - Each factor is searched in [1, 3] (a 0.01 grid, then 0.001 around the best): below 1 backward would cost
 *   less than forward, above 3 is beyond any published backward/forward ratio. A factor the points cannot
 *   identify stays at its lower bound 1 (the forward ACSM term), since the search keeps the first best value.
 */
import { parseCsv } from '../csv.js';
import {
  acsmWalkingVo2,
  BACKWARD_WALKING_FIT,
  type BackwardWalkingFactors,
  backwardWalkingVo2,
  KCAL_PER_LITRE_O2,
  keytelKcalPerMin,
  RESTING_VO2,
  vo2FromKcalPerMin,
} from './calories.js';

export type EnergyRowRole = 'fit' | 'ratio-check' | 'hr-check';

/** One row of docs/data/backward-walking-energy.csv, numbers parsed (ml/kg/min; METs already x 3.5). */
export interface EnergyRow {
  line: number;
  sourceId: string;
  role: EnergyRowRole;
  reference: string;
  speedMPerMin?: number;
  gradeMinPct: number;
  gradeMaxPct: number;
  gradeStated: boolean;
  /** Measured backward VO2 (ml/kg/min), from vo2_ml_kg_min or met. */
  vo2?: number;
  forwardVo2?: number;
  ratioMin?: number;
  ratioMax?: number;
  vo2LPerMin?: number;
  hrBpm?: number;
  forwardHrBpm?: number;
  n?: number;
}

export interface RejectedRow {
  line: number;
  reason: string;
}

const COLUMNS = [
  'source_id',
  'role',
  'reference',
  'url',
  'location',
  'population',
  'n',
  'speed_published',
  'speed_m_s',
  'grade_min_pct',
  'grade_max_pct',
  'grade_stated',
  'direction',
  'vo2_ml_kg_min',
  'met',
  'forward_vo2_ml_kg_min',
  'forward_met',
  'bw_fw_ratio_min',
  'bw_fw_ratio_max',
  'vo2_l_min',
  'hr_bpm',
  'forward_hr_bpm',
  'quote',
] as const;
type Column = (typeof COLUMNS)[number];

/** Plausible bounds of each numeric column; a value outside is a typing mistake in the data set. */
const BOUNDS: Partial<Record<Column, { min: number; max: number }>> = {
  n: { min: 1, max: 10_000 },
  speed_m_s: { min: 0.1, max: 3 },
  grade_min_pct: { min: -40, max: 45 },
  grade_max_pct: { min: -40, max: 45 },
  vo2_ml_kg_min: { min: RESTING_VO2, max: 80 },
  met: { min: 1, max: 23 },
  forward_vo2_ml_kg_min: { min: RESTING_VO2, max: 80 },
  forward_met: { min: 1, max: 23 },
  bw_fw_ratio_min: { min: 1, max: 3 },
  bw_fw_ratio_max: { min: 1, max: 3 },
  vo2_l_min: { min: 0.1, max: 7 },
  hr_bpm: { min: 40, max: 230 },
  forward_hr_bpm: { min: 40, max: 230 },
};
const ROLES: readonly EnergyRowRole[] = ['fit', 'ratio-check', 'hr-check'];

class RowError extends Error {}

function numberField(record: Record<Column, string>, column: Column): number | undefined {
  const text = record[column].trim();
  if (text === '') return undefined;
  const value = Number(text);
  const bounds = BOUNDS[column];
  if (!Number.isFinite(value)) throw new RowError(`${column} is not a number: "${text}"`);
  if (bounds && (value < bounds.min || value > bounds.max))
    throw new RowError(`${column} ${value} is outside [${bounds.min}, ${bounds.max}]`);
  return value;
}

function requiredNumber(record: Record<Column, string>, column: Column): number {
  const value = numberField(record, column);
  if (value === undefined) throw new RowError(`${column} is empty`);
  return value;
}

function toRow(line: number, record: Record<Column, string>): EnergyRow {
  const role = record.role as EnergyRowRole;
  if (!ROLES.includes(role)) throw new RowError(`role must be one of ${ROLES.join(', ')}: "${record.role}"`);
  if (record.source_id.trim() === '' || record.reference.trim() === '' || record.quote.trim() === '')
    throw new RowError('source_id, reference and quote are required');
  if (record.direction !== 'backward')
    throw new RowError(`direction must be backward: "${record.direction}"`);
  if (record.grade_stated !== 'yes' && record.grade_stated !== 'no')
    throw new RowError(`grade_stated must be yes or no: "${record.grade_stated}"`);
  const speedMPerS = numberField(record, 'speed_m_s');
  const met = numberField(record, 'met');
  const forwardMet = numberField(record, 'forward_met');
  const row: EnergyRow = {
    line,
    sourceId: record.source_id,
    role,
    reference: record.reference,
    speedMPerMin: speedMPerS === undefined ? undefined : speedMPerS * 60,
    gradeMinPct: requiredNumber(record, 'grade_min_pct'),
    gradeMaxPct: requiredNumber(record, 'grade_max_pct'),
    gradeStated: record.grade_stated === 'yes',
    vo2: numberField(record, 'vo2_ml_kg_min') ?? (met === undefined ? undefined : met * RESTING_VO2),
    forwardVo2:
      numberField(record, 'forward_vo2_ml_kg_min') ??
      (forwardMet === undefined ? undefined : forwardMet * RESTING_VO2),
    ratioMin: numberField(record, 'bw_fw_ratio_min'),
    ratioMax: numberField(record, 'bw_fw_ratio_max'),
    vo2LPerMin: numberField(record, 'vo2_l_min'),
    hrBpm: numberField(record, 'hr_bpm'),
    forwardHrBpm: numberField(record, 'forward_hr_bpm'),
    n: numberField(record, 'n'),
  };
  if (row.gradeMinPct > row.gradeMaxPct) throw new RowError('grade_min_pct is above grade_max_pct');
  if (role === 'fit' && (row.vo2 === undefined || row.speedMPerMin === undefined))
    throw new RowError('a fit row needs a speed and a backward VO2 or MET');
  if (role === 'fit' && row.gradeMinPct !== row.gradeMaxPct) throw new RowError('a fit row needs one grade');
  if (role === 'ratio-check' && (row.ratioMin === undefined || row.ratioMax === undefined))
    throw new RowError('a ratio-check row needs bw_fw_ratio_min and bw_fw_ratio_max');
  if (role === 'hr-check' && row.hrBpm === undefined) throw new RowError('an hr-check row needs hr_bpm');
  return row;
}

/** The data set's rows; a row that breaks a rule is set aside with its line and reason, never guessed at. */
export function parseEnergyCsv(text: string): { rows: EnergyRow[]; rejected: RejectedRow[] } {
  const [header, ...records] = parseCsv(text);
  const names = header?.fields ?? [];
  if (names.join(',') !== COLUMNS.join(','))
    return { rows: [], rejected: [{ line: 1, reason: `header must be ${COLUMNS.join(',')}` }] };
  const rows: EnergyRow[] = [];
  const rejected: RejectedRow[] = [];
  for (const { line, fields } of records) {
    if (fields.length !== COLUMNS.length) {
      rejected.push({ line, reason: `${fields.length} fields, expected ${COLUMNS.length}` });
      continue;
    }
    const record = Object.fromEntries(COLUMNS.map((name, i) => [name, fields[i] ?? ''])) as Record<
      Column,
      string
    >;
    try {
      rows.push(toRow(line, record));
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      rejected.push({ line, reason: error.message });
    }
  }
  return { rows, rejected };
}

/** A measured backward VO2 at one speed and grade. */
export interface FitPoint {
  sourceId: string;
  /** The study; rows of one publication share it (leave-one-source-out leaves them out together). */
  source: string;
  speedMPerMin: number;
  grade: number;
  measuredVo2: number;
}

/** The source of a row: its id before the first hyphen (COMP2011-17320 -> COMP2011). */
export const sourceOf = (sourceId: string): string => sourceId.split('-')[0] ?? sourceId;

export function fitPoints(rows: readonly EnergyRow[]): FitPoint[] {
  return rows.flatMap((row) =>
    row.role === 'fit' && row.vo2 !== undefined && row.speedMPerMin !== undefined
      ? [
          {
            sourceId: row.sourceId,
            source: sourceOf(row.sourceId),
            speedMPerMin: row.speedMPerMin,
            grade: row.gradeMinPct / 100,
            measuredVo2: row.vo2,
          },
        ]
      : [],
  );
}

/** The search space of each factor (see the decisions above): a 0.01 grid, then 0.001 around its best. */
const FACTOR_RANGE = { min: 1, max: 3 } as const;
const COARSE_STEP = 0.01;
const FINE_STEP = 0.001;

const squaredLogError = (points: readonly FitPoint[], factors: BackwardWalkingFactors) =>
  points.reduce(
    (sum, p) => sum + Math.log(backwardWalkingVo2(p.speedMPerMin, p.grade, factors) / p.measuredVo2) ** 2,
    0,
  );

/** Grid values from..to in steps, computed from integers so that they are exact decimals. */
function grid(from: number, to: number, step: number): number[] {
  const first = Math.round(Math.max(from, FACTOR_RANGE.min) / step);
  const last = Math.round(Math.min(to, FACTOR_RANGE.max) / step);
  const decimals = Math.round(-Math.log10(step));
  return Array.from({ length: last - first + 1 }, (_, i) => Number(((first + i) * step).toFixed(decimals)));
}

function bestOn(points: readonly FitPoint[], horizontals: number[], verticals: number[]) {
  let best: BackwardWalkingFactors = { horizontal: FACTOR_RANGE.min, vertical: FACTOR_RANGE.min };
  let bestError = Number.POSITIVE_INFINITY;
  for (const horizontal of horizontals)
    for (const vertical of verticals) {
      const error = squaredLogError(points, { horizontal, vertical });
      if (error < bestError) {
        bestError = error;
        best = { horizontal, vertical };
      }
    }
  return best;
}

/** The factors that minimise the squared log error over the points (see the decisions above). */
export function fitBackwardWalking(points: readonly FitPoint[]): BackwardWalkingFactors {
  const coarse = bestOn(
    points,
    grid(FACTOR_RANGE.min, FACTOR_RANGE.max, COARSE_STEP),
    grid(FACTOR_RANGE.min, FACTOR_RANGE.max, COARSE_STEP),
  );
  return bestOn(
    points,
    grid(coarse.horizontal - COARSE_STEP, coarse.horizontal + COARSE_STEP, FINE_STEP),
    grid(coarse.vertical - COARSE_STEP, coarse.vertical + COARSE_STEP, FINE_STEP),
  );
}

/** Relative error of a prediction, in percent. */
export const errorPct = (predicted: number, measured: number): number => (predicted / measured - 1) * 100;

export interface ErrorRow {
  sourceId: string;
  speedMPerMin: number;
  gradePct: number;
  measuredVo2: number;
  /** Forward ACSM at the same speed and grade, and the ratio the measurement implies against it. */
  acsmForwardVo2: number;
  impliedFactor: number;
  predictedVo2: number;
  errorPct: number;
  /** The prediction of a fit that left this point's whole source out. */
  leaveSourceOutVo2: number;
  leaveSourceOutErrorPct: number;
}

/** Every fit point against the model, and against a refit without its source. */
export function errorTable(
  points: readonly FitPoint[],
  factors: BackwardWalkingFactors = BACKWARD_WALKING_FIT,
): ErrorRow[] {
  const sources = [...new Set(points.map((p) => p.source))];
  const withoutSource = new Map(
    sources.map((source) => [source, fitBackwardWalking(points.filter((p) => p.source !== source))]),
  );
  return points.map((p) => {
    const predictedVo2 = backwardWalkingVo2(p.speedMPerMin, p.grade, factors);
    const leaveSourceOutVo2 = backwardWalkingVo2(p.speedMPerMin, p.grade, withoutSource.get(p.source));
    const acsmForwardVo2 = acsmWalkingVo2(p.speedMPerMin, p.grade);
    return {
      sourceId: p.sourceId,
      speedMPerMin: p.speedMPerMin,
      gradePct: p.grade * 100,
      measuredVo2: p.measuredVo2,
      acsmForwardVo2,
      impliedFactor: p.measuredVo2 / acsmForwardVo2,
      predictedVo2,
      errorPct: errorPct(predictedVo2, p.measuredVo2),
      leaveSourceOutVo2,
      leaveSourceOutErrorPct: errorPct(leaveSourceOutVo2, p.measuredVo2),
    };
  });
}

export interface RatioRow {
  sourceId: string;
  speedMPerMin: number;
  gradeMinPct: number;
  gradeMaxPct: number;
  measuredMin: number;
  measuredMax: number;
  /** The model's backward/forward-ACSM ratio over the grades (it is monotonic in grade at one speed). */
  modelMin: number;
  modelMax: number;
  /** How far the model's ratios fall outside the measured range, % of the nearer bound (0 inside). */
  errorPct: number;
}

/**
 * Sources that give only backward/forward ratios, and fit rows with a forward value, against the model's
 * backward / ACSM-forward ratio. Their own forward VO2 is the reference, so this checks the factor, not ACSM.
 */
export function ratioTable(
  rows: readonly EnergyRow[],
  factors: BackwardWalkingFactors = BACKWARD_WALKING_FIT,
): RatioRow[] {
  return rows.flatMap((row) => {
    if (row.speedMPerMin === undefined) return [];
    const measured =
      row.ratioMin !== undefined && row.ratioMax !== undefined
        ? { min: row.ratioMin, max: row.ratioMax }
        : row.vo2 !== undefined && row.forwardVo2 !== undefined
          ? { min: row.vo2 / row.forwardVo2, max: row.vo2 / row.forwardVo2 }
          : undefined;
    if (!measured) return [];
    const speed = row.speedMPerMin;
    const ratios = [row.gradeMinPct, row.gradeMaxPct].map(
      (pct) => backwardWalkingVo2(speed, pct / 100, factors) / acsmWalkingVo2(speed, pct / 100),
    );
    const modelMin = Math.min(...ratios);
    const modelMax = Math.max(...ratios);
    const below = modelMin < measured.min ? errorPct(modelMin, measured.min) : 0;
    const above = modelMax > measured.max ? errorPct(modelMax, measured.max) : 0;
    return [
      {
        sourceId: row.sourceId,
        speedMPerMin: speed,
        gradeMinPct: row.gradeMinPct,
        gradeMaxPct: row.gradeMaxPct,
        measuredMin: measured.min,
        measuredMax: measured.max,
        modelMin,
        modelMax,
        errorPct: Math.abs(below) > Math.abs(above) ? below : above,
      },
    ];
  });
}

/** Body mass and age assumed where a source does not report them (docs/energy-model.md 5) [D]. */
export interface ProfileBracket {
  weightKg: { min: number; max: number };
  ageYears: { min: number; max: number };
}

export interface KeytelRow {
  sourceId: string;
  direction: 'backward' | 'forward';
  hrBpm: number;
  /** Measured energy expenditure, kcal/min for an absolute VO2, else ml/kg/min. */
  measured: number;
  unit: 'kcal/min' | 'ml/kg/min';
  /** Keytel's estimate at the bracket's corners: the lowest and highest it can be. */
  keytelMin: number;
  keytelMax: number;
  errorMinPct: number;
  errorMaxPct: number;
}

/**
 * Keytel (men's equation: every source with heart rate here studied men) against measured VO2, over the
 * corners of the bracket, since the sources do not give their subjects' mass and age. Keytel is linear in
 * both, so the corners bound it.
 */
export function keytelTable(rows: readonly EnergyRow[], bracket: ProfileBracket): KeytelRow[] {
  const corners = [bracket.weightKg.min, bracket.weightKg.max].flatMap((weightKg) =>
    [bracket.ageYears.min, bracket.ageYears.max].map((ageYears) => ({ weightKg, ageYears })),
  );
  const estimate = (hrBpm: number, perKg: boolean) => {
    const values = corners.map(({ weightKg, ageYears }) => {
      const kcalPerMin = keytelKcalPerMin(hrBpm, weightKg, ageYears, 'male');
      return perKg ? vo2FromKcalPerMin(kcalPerMin, weightKg) : kcalPerMin;
    });
    return { min: Math.min(...values), max: Math.max(...values) };
  };
  const row = (
    sourceId: string,
    direction: KeytelRow['direction'],
    hrBpm: number,
    measured: number,
    unit: KeytelRow['unit'],
  ): KeytelRow => {
    const { min, max } = estimate(hrBpm, unit === 'ml/kg/min');
    return {
      sourceId,
      direction,
      hrBpm,
      measured,
      unit,
      keytelMin: min,
      keytelMax: max,
      errorMinPct: errorPct(min, measured),
      errorMaxPct: errorPct(max, measured),
    };
  };
  return rows.flatMap((r) => {
    const out: KeytelRow[] = [];
    if (r.hrBpm !== undefined && r.vo2LPerMin !== undefined)
      out.push(row(r.sourceId, 'backward', r.hrBpm, r.vo2LPerMin * KCAL_PER_LITRE_O2, 'kcal/min'));
    if (r.hrBpm !== undefined && r.vo2 !== undefined)
      out.push(row(r.sourceId, 'backward', r.hrBpm, r.vo2, 'ml/kg/min'));
    if (r.forwardHrBpm !== undefined && r.forwardVo2 !== undefined)
      out.push(row(r.sourceId, 'forward', r.forwardHrBpm, r.forwardVo2, 'ml/kg/min'));
    return out;
  });
}

export interface MixRow {
  sourceId: string;
  /** Measured forward + backward VO2 of equal bouts, ml/kg/min summed. */
  measured: number;
  /** The summary's pricing: Keytel forward (over the bracket), the fitted equation backward. */
  mixedMin: number;
  mixedMax: number;
  errorMinPct: number;
  errorMaxPct: number;
}

/**
 * A session of equal forward and backward bouts at a source's condition, priced as the session summary does
 * when both apply (heart rate forward, workload backward), against the measured total.
 */
export function mixTable(
  rows: readonly EnergyRow[],
  bracket: ProfileBracket,
  factors: BackwardWalkingFactors = BACKWARD_WALKING_FIT,
): MixRow[] {
  const keytel = keytelTable(rows, bracket);
  return rows.flatMap((r) => {
    const forward = keytel.find((k) => k.sourceId === r.sourceId && k.direction === 'forward');
    if (!forward || r.vo2 === undefined || r.speedMPerMin === undefined) return [];
    const backward = backwardWalkingVo2(r.speedMPerMin, r.gradeMinPct / 100, factors);
    const measured = forward.measured + r.vo2;
    const mixedMin = forward.keytelMin + backward;
    const mixedMax = forward.keytelMax + backward;
    return [
      {
        sourceId: r.sourceId,
        measured,
        mixedMin,
        mixedMax,
        errorMinPct: errorPct(mixedMin, measured),
        errorMaxPct: errorPct(mixedMax, measured),
      },
    ];
  });
}

/** Speeds (m/min) and grades (%) the fit points span; BACKWARD_WALKING_DATA_RANGE is these rounded out. */
export function dataRange(points: readonly FitPoint[]) {
  const speeds = points.map((p) => p.speedMPerMin);
  const grades = points.map((p) => p.grade * 100);
  return {
    speedMPerMin: {
      min: Math.floor(Math.min(...speeds) * 100) / 100,
      max: Math.ceil(Math.max(...speeds) * 100) / 100,
    },
    gradePct: { min: Math.min(...grades), max: Math.max(...grades) },
  };
}
