/** `retrostride calories`: the calorie model for one steady bout, as JSON. */
import {
  BACKWARD_MULTIPLIER_RANGE,
  BACKWARD_WALKING_DATA_RANGE,
  type CalorieInput,
  type CalorieProfile,
  calorieEquation,
  calorieRate,
} from '../../shared/src/metrics/calories.js';
import {
  type Command,
  numberFlag,
  oneOf,
  parseCommandArgs,
  requireFlag,
  UsageError,
} from '../lib/command.js';

const OPTIONS = {
  'speed-kmh': { type: 'string' },
  'grade-pct': { type: 'string' },
  'weight-kg': { type: 'string' },
  minutes: { type: 'string' },
  direction: { type: 'string' },
  'hr-bpm': { type: 'string' },
  age: { type: 'string' },
  sex: { type: 'string' },
  'backward-multiplier': { type: 'string' },
  running: { type: 'boolean' },
  'cadence-spm': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Plausible treadmill and member values; anything outside is a typing mistake. */
const RANGES = {
  speedKmh: { min: 0, max: 40 },
  gradePct: { min: -30, max: 40 },
  weightKg: { min: 20, max: 300 },
  minutes: { min: 0, max: 24 * 60 },
  hrBpm: { min: 20, max: 250 },
  age: { min: 5, max: 120 },
  cadenceSpm: { min: 0, max: 300 },
} as const;

/** parseArgs takes "--grade-pct -2" for a missing value; join a negative number to the flag before it. */
function joinNegativeNumbers(argv: readonly string[]): string[] {
  const joined: string[] = [];
  for (const arg of argv) {
    const previous = joined.at(-1);
    if (previous?.startsWith('--') && !previous.includes('=') && /^-\.?\d/.test(arg))
      joined[joined.length - 1] = `${previous}=${arg}`;
    else joined.push(arg);
  }
  return joined;
}

const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;

export const caloriesCommand: Command = {
  name: 'calories',
  summary: 'Estimate calories of a steady treadmill bout (ACSM, fitted backward equation, Keytel)',
  usage: [
    'calories --speed-kmh S --grade-pct G --weight-kg W --minutes M [--direction forward|backward]',
    '         [--hr-bpm H --age A] [--sex male|female] [--backward-multiplier K] [--running] [--cadence-spm C]',
    '         [--json]',
    '',
    'Prints { kcal, kcalPerMin, met, vo2, model, equation, confidence, reasons } as JSON (the only output;',
    '--json is accepted for symmetry with demo): kcal to 1 decimal, kcal/min, METs and VO2 (ml/kg/min) to 2;',
    '`equation` is the formula and coefficients the model priced with (S m/min, G grade fraction, HR bpm,',
    'W kg, A years) and where they are documented. Keytel needs --hr-bpm, --age and --sex.',
    'Backward uses the equation fitted to published measurements (docs/energy-model.md); outside the measured',
    `${(BACKWARD_WALKING_DATA_RANGE.speedMPerMin.min * 0.06).toFixed(2)}-${(BACKWARD_WALKING_DATA_RANGE.speedMPerMin.max * 0.06).toFixed(2)} km/h and ${BACKWARD_WALKING_DATA_RANGE.gradePct.min}-${BACKWARD_WALKING_DATA_RANGE.gradePct.max} % grade it says backward_outside_data_range.`,
    `--backward-multiplier K (within [${BACKWARD_MULTIPLIER_RANGE.min}, ${BACKWARD_MULTIPLIER_RANGE.max}]) prices backward as K x forward ACSM instead.`,
    '--running / --cadence-spm settle walking or running between 6 and 8 km/h.',
  ].join('\n'),

  async run(argv) {
    const { values } = parseCommandArgs(joinNegativeNumbers(argv), OPTIONS);
    const speedKmh = requireFlag('speed-kmh', numberFlag('speed-kmh', values['speed-kmh'], RANGES.speedKmh));
    const gradePct = requireFlag('grade-pct', numberFlag('grade-pct', values['grade-pct'], RANGES.gradePct));
    const weightKg = requireFlag('weight-kg', numberFlag('weight-kg', values['weight-kg'], RANGES.weightKg));
    const minutes = requireFlag('minutes', numberFlag('minutes', values.minutes, RANGES.minutes));
    if (minutes === 0) throw new UsageError('--minutes must be > 0');
    const direction = oneOf('direction', values.direction, ['forward', 'backward'] as const) ?? 'forward';
    const hrBpm = numberFlag('hr-bpm', values['hr-bpm'], RANGES.hrBpm);
    const ageYears = numberFlag('age', values.age, RANGES.age);
    if (hrBpm !== undefined && ageYears === undefined) throw new UsageError('--hr-bpm needs --age');
    const sex = oneOf('sex', values.sex, ['male', 'female'] as const);
    const backwardMultiplier = numberFlag(
      'backward-multiplier',
      values['backward-multiplier'],
      BACKWARD_MULTIPLIER_RANGE,
    );
    if (backwardMultiplier !== undefined && direction !== 'backward')
      throw new UsageError('--backward-multiplier needs --direction backward');
    const cadenceSpm = numberFlag('cadence-spm', values['cadence-spm'], RANGES.cadenceSpm);

    const input: CalorieInput = {
      speedKmh,
      gradePct,
      direction,
      hrBpm,
      running: values.running,
      cadenceSpm,
      backwardMultiplier,
    };
    const profile: CalorieProfile = { weightKg, ageYears, sex };
    const rate = calorieRate(input, profile);
    const result = {
      kcal: round(rate.kcalPerMin * minutes, 1),
      kcalPerMin: round(rate.kcalPerMin, 2),
      met: round(rate.met, 2),
      vo2: round(rate.vo2, 2),
      model: rate.model,
      equation: calorieEquation(rate.model, { backwardMultiplier, sex }),
      confidence: rate.confidence,
      reasons: rate.reasons,
    };
    console.log(JSON.stringify(result, null, 2));
    return 0;
  },
};
