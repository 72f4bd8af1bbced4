import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accumulateCalories,
  type CalorieAccumulator,
  type CalorieInput,
  type CalorieProfile,
  calorieRate,
  DEFAULT_PROFILE,
  emptyCalorieAccumulator,
  finalizeCalories,
  keytelKcalPerMin,
  mergeCalorieAccumulators,
} from '../../shared/src/metrics/calories.js';

type Interval = CalorieInput & { durationS: number };

const expectWithin = (actual: number, expected: number, relative = 0.005) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * relative);

const accumulateAll = (intervals: readonly Interval[], from = emptyCalorieAccumulator()) =>
  intervals.reduce(accumulateCalories, from);

/** A steady bout as 1-second samples, the way the reducer feeds it. */
const steady = (input: CalorieInput, minutes: number): Interval[] =>
  Array.from({ length: minutes * 60 }, () => ({ ...input, durationS: 1 }));

const forward = (speedKmh: number, gradePct = 0, extra: Partial<CalorieInput> = {}): CalorieInput => ({
  speedKmh,
  gradePct,
  direction: 'forward',
  ...extra,
});
const backward = (speedKmh: number, gradePct = 0, extra: Partial<CalorieInput> = {}): CalorieInput => ({
  ...forward(speedKmh, gradePct, extra),
  direction: 'backward',
});

describe('ACSM worked examples (docs/domain.md 2.1, 2.2)', () => {
  const cases = [
    {
      name: 'A walk 5 km/h 0 %',
      input: forward(5),
      kg: 70,
      vo2: 11.83,
      met: 3.38,
      rate: 4.14,
      minutes: 30,
      kcal: 124.2,
    },
    {
      name: 'B walk 5 km/h 10 %',
      input: forward(5, 10),
      kg: 70,
      vo2: 26.83,
      met: 7.67,
      rate: 9.39,
      minutes: 30,
      kcal: 281.8,
    },
    {
      name: 'C run 10 km/h 1 %',
      input: forward(10, 1),
      kg: 70,
      vo2: 38.33,
      met: 10.95,
      rate: 13.42,
      minutes: 30,
      kcal: 402.5,
    },
    {
      name: 'D backward 3 km/h 0 %',
      input: backward(3),
      kg: 70,
      vo2: 13.64,
      met: 3.9,
      rate: 4.77,
      minutes: 20,
      kcal: 95.4,
    },
    {
      name: 'E walk 5.63 km/h 6 %',
      input: forward(5.63, 6),
      kg: 80,
      vo2: 23.02,
      met: 6.58,
      rate: 9.21,
      minutes: 1,
      kcal: 9.21,
    },
  ];

  it.each(cases)(
    '$name: rate and session integrated per second',
    ({ input, kg, vo2, met, rate, minutes, kcal }) => {
      const result = calorieRate(input, { weightKg: kg });
      expectWithin(result.vo2, vo2);
      expectWithin(result.met, met);
      expectWithin(result.kcalPerMin, rate);
      const session = finalizeCalories(accumulateAll(steady(input, minutes)), { weightKg: kg });
      expectWithin(session.kcal, kcal);
      expect(session.model).toBe(result.model);
    },
  );

  it('picks the models and confidences of the examples', () => {
    expect(calorieRate(forward(5), { weightKg: 70 })).toMatchObject({
      model: 'acsm-walking',
      confidence: 'high',
      reasons: [],
    });
    expect(calorieRate(forward(10, 1), { weightKg: 70 })).toMatchObject({
      model: 'acsm-running',
      confidence: 'high',
    });
    // 3 km/h is below the measured backward speeds (docs/energy-model.md 4); 5.3 km/h at 2 % is inside them.
    expect(calorieRate(backward(3), { weightKg: 70 })).toMatchObject({
      model: 'acsm-walking-backward',
      confidence: 'low',
      reasons: ['backward_outside_data_range', 'backward_multiplier'],
    });
    expect(calorieRate(backward(5.3, 2), { weightKg: 70 })).toMatchObject({
      confidence: 'medium',
      reasons: ['backward_multiplier'],
    });
  });

  it('D: backward scales the horizontal ACSM term by the fitted factor; a given multiplier replaces it', () => {
    const forwardRate = calorieRate(forward(3), { weightKg: 70 });
    expectWithin(forwardRate.vo2, 8.5);
    expectWithin(forwardRate.kcalPerMin * 20, 59.5);
    expect(calorieRate(backward(3), { weightKg: 70 }).vo2).toBeCloseTo(3.5 + 2.027 * 5, 10);
    // The vertical term is forward ACSM's: 10 % adds 1.8 x 50 x 0.1 = 9 ml/kg/min either way.
    expect(calorieRate(backward(3, 10), { weightKg: 70 }).vo2).toBeCloseTo(3.5 + 2.027 * 5 + 9, 10);
    for (const k of [1.3, 1.4, 1.5, 1.6])
      expect(calorieRate(backward(3, 0, { backwardMultiplier: k }), { weightKg: 70 }).vo2).toBeCloseTo(
        8.5 * k,
        10,
      );
  });

  it('never prices backward below forward walking at the same speed and grade', () => {
    fc.assert(
      fc.property(
        // Up to 8 km/h, where forward is walking (above it the forward running equation applies).
        fc.double({ min: 0.5, max: 8, noNaN: true }),
        fc.double({ min: -10, max: 15, noNaN: true }),
        (speedKmh, gradePct) => {
          const kg = { weightKg: 70 };
          expect(calorieRate(backward(speedKmh, gradePct), kg).vo2).toBeGreaterThanOrEqual(
            calorieRate(forward(speedKmh, gradePct, { running: false }), kg).vo2 - 1e-9,
          );
        },
      ),
    );
  });
});

describe('Keytel 2005 (docs/domain.md 2.3)', () => {
  const rows = [
    { hr: 130, kg: 80, age: 40, sex: 'male', rate: 12.16, kcal30: 364.9 },
    { hr: 130, kg: 60, age: 35, sex: 'female', rate: 7.83, kcal30: 234.8 },
    { hr: 100, kg: 70, age: 30, sex: 'male', rate: 6.68, kcal30: 200.5 },
  ] as const;

  it.each(rows)('$sex HR $hr, $kg kg, $age y', ({ hr, kg, age, sex, rate, kcal30 }) => {
    expectWithin(keytelKcalPerMin(hr, kg, age, sex), rate);
    expectWithin(keytelKcalPerMin(hr, kg, age, sex) * 30, kcal30);
  });

  it('is the model for the first two rows, forward, and integrates to their 30-minute totals', () => {
    for (const { hr, kg, age, sex, kcal30 } of rows.slice(0, 2)) {
      const input = forward(5, 0, { hrBpm: hr });
      const profile = { weightKg: kg, ageYears: age, sex };
      expect(calorieRate(input, profile)).toMatchObject({ model: 'keytel', confidence: 'high', reasons: [] });
      const session = finalizeCalories(accumulateAll(steady(input, 30)), profile);
      expect(session.model).toBe('keytel');
      expectWithin(session.kcal, kcal30);
    }
  });

  it('leaves the third row to the workload model: HR 100 is below 57 % of 190', () => {
    const result = calorieRate(forward(5, 0, { hrBpm: 100 }), { weightKg: 70, ageYears: 30, sex: 'male' });
    expect(result.model).toBe('acsm-walking');
    expect(result.reasons).toContain('hr_outside_keytel_range');
    expect(result.confidence).toBe('high');
  });
});

describe('model selection', () => {
  const kg = { weightKg: 70 };
  const modelAt = (input: CalorieInput, profile: CalorieProfile = kg) => calorieRate(input, profile).model;

  it('walks up to 100 m/min and runs from 134 m/min whatever the gait hints say', () => {
    expect(modelAt(forward(6))).toBe('acsm-walking');
    expect(modelAt(forward(6, 0, { running: true, cadenceSpm: 170 }))).toBe('acsm-walking');
    expect(modelAt(forward(8.1))).toBe('acsm-running');
    expect(modelAt(forward(8.1, 0, { running: false }))).toBe('acsm-running');
    expect(calorieRate(forward(8.1), kg).confidence).toBe('high');
  });

  it('in the 100-134 m/min gap decides by the RSC flag, then cadence, else walking with low confidence', () => {
    expect(calorieRate(forward(7), kg)).toMatchObject({
      model: 'acsm-walking',
      confidence: 'low',
      reasons: ['gait_assumed_walking', 'speed_in_walk_run_gap'],
    });
    expect(calorieRate(forward(7, 0, { running: true }), kg)).toMatchObject({
      model: 'acsm-running',
      confidence: 'medium',
      reasons: ['speed_in_walk_run_gap'],
    });
    expect(modelAt(forward(7, 0, { running: false, cadenceSpm: 170 }))).toBe('acsm-walking');
    expect(modelAt(forward(7, 0, { cadenceSpm: 140 }))).toBe('acsm-running');
    expect(modelAt(forward(7, 0, { cadenceSpm: 139 }))).toBe('acsm-walking');
    expect(calorieRate(forward(7, 0, { cadenceSpm: 0 }), kg).reasons).toContain('gait_assumed_walking');
  });

  it('never runs backwards, at any speed or gait hint', () => {
    const fast = calorieRate(backward(10, 0, { running: true, cadenceSpm: 180 }), kg);
    expect(fast.model).toBe('acsm-walking-backward');
    expect(fast.vo2).toBeCloseTo(3.5 + 2.027 * 0.1 * (10000 / 60), 10);
    expect(fast.reasons).toContain('speed_above_validated_range');
    expect(fast.confidence).toBe('low');
  });

  it('treats an unknown direction as forward and says so', () => {
    const result = calorieRate({ ...forward(5), direction: 'unknown' }, kg);
    expect(result.kcalPerMin).toBe(calorieRate(forward(5), kg).kcalPerMin);
    expect(result).toMatchObject({
      model: 'acsm-walking',
      confidence: 'high',
      reasons: ['direction_unknown'],
    });
  });

  it('flags speeds below the walking validation range as low confidence', () => {
    expect(calorieRate(forward(2), kg)).toMatchObject({
      confidence: 'low',
      reasons: ['speed_below_validated_range'],
    });
    expect(calorieRate(backward(2), kg).reasons).toContain('speed_below_validated_range');
  });

  describe('Keytel eligibility edges', () => {
    const male = (ageYears: number, weightKg = 70): CalorieProfile => ({ ageYears, weightKg, sex: 'male' });

    it('takes ages 18 to 45 and no one outside', () => {
      expect(modelAt(forward(5, 0, { hrBpm: 140 }), male(18))).toBe('keytel');
      expect(modelAt(forward(5, 0, { hrBpm: 140 }), male(45))).toBe('keytel');
      for (const age of [17, 46]) {
        const result = calorieRate(forward(5, 0, { hrBpm: 140 }), male(age));
        expect(result.model).toBe('acsm-walking');
        expect(result.reasons).toContain('age_outside_keytel_range');
      }
    });

    it('takes 47 to 120 kg and no one outside', () => {
      expect(modelAt(forward(5, 0, { hrBpm: 140 }), male(30, 47))).toBe('keytel');
      expect(modelAt(forward(5, 0, { hrBpm: 140 }), male(30, 120))).toBe('keytel');
      for (const kgOut of [46, 121])
        expect(calorieRate(forward(5, 0, { hrBpm: 140 }), male(30, kgOut)).reasons).toContain(
          'weight_outside_keytel_range',
        );
    });

    it('takes heart rates within 57-90 % of 220 - age (102.6-162 bpm at 40)', () => {
      expect(modelAt(forward(5, 0, { hrBpm: 103 }), male(40))).toBe('keytel');
      expect(modelAt(forward(5, 0, { hrBpm: 162 }), male(40))).toBe('keytel');
      for (const hrBpm of [102, 163])
        expect(calorieRate(forward(5, 0, { hrBpm }), male(40)).reasons).toContain('hr_outside_keytel_range');
    });

    it('needs the sex; a missing age uses the default 40 y and lowers confidence', () => {
      const noSex = calorieRate(forward(5, 0, { hrBpm: 130 }), { weightKg: 80, ageYears: 40 });
      expect(noSex).toMatchObject({ model: 'acsm-walking', reasons: ['sex_unknown'] });
      const noAge = calorieRate(forward(5, 0, { hrBpm: 130 }), { weightKg: 80, sex: 'male' });
      expect(noAge).toMatchObject({ model: 'keytel', confidence: 'medium', reasons: ['default_age'] });
      expect(noAge.kcalPerMin).toBe(keytelKcalPerMin(130, 80, DEFAULT_PROFILE.ageYears, 'male'));
    });

    it('ignores a heart rate of 0 (no contact)', () => {
      expect(calorieRate(forward(5, 0, { hrBpm: 0 }), male(30))).toEqual(calorieRate(forward(5), male(30)));
    });

    it('never uses heart rate backwards, only cross-checks it against the workload', () => {
      const close = calorieRate(backward(5, 5, { hrBpm: 120 }), male(30)); // 9.8 vs Keytel 9.7 kcal/min
      expect(close.model).toBe('acsm-walking-backward');
      expect(close.reasons).not.toContain('hr_disagrees_with_workload');
      const far = calorieRate(backward(3, 0, { hrBpm: 170 }), male(30));
      expect(far.model).toBe('acsm-walking-backward');
      expect(far.kcalPerMin).toBe(calorieRate(backward(3), male(30)).kcalPerMin);
      expect(far).toMatchObject({
        confidence: 'low',
        reasons: ['backward_outside_data_range', 'hr_disagrees_with_workload', 'backward_multiplier'],
      });
    });
  });
});

describe('resting floor and validation', () => {
  it('never goes below 1 MET, even on steep descents', () => {
    const result = calorieRate(forward(3, -30), { weightKg: 70 });
    expect(result.met).toBe(1);
    expect(result.vo2).toBeCloseTo(3.5, 12);
    expect(result.reasons).toEqual(expect.arrayContaining(['negative_grade', 'resting_floor']));
    expect(result.confidence).toBe('medium');
  });

  it('counts a stopped belt as 1 MET rest in any direction and whatever the heart rate', () => {
    const profile: CalorieProfile = { weightKg: 70, ageYears: 30, sex: 'male' };
    for (const direction of ['forward', 'backward', 'unknown'] as const) {
      const result = calorieRate({ speedKmh: 0, gradePct: 10, direction, hrBpm: 150 }, profile);
      expect(result).toMatchObject({
        met: 1,
        model: 'acsm-walking',
        confidence: 'high',
        reasons: ['belt_stopped'],
      });
      expect(result.kcalPerMin).toBeCloseTo((3.5 * 70) / 200, 12);
    }
  });

  it('is at least 1 MET for any valid input', () => {
    fc.assert(
      fc.property(intervalArbitrary, profileArbitrary, (interval, profile) => {
        expect(calorieRate(interval, profile).met).toBeGreaterThanOrEqual(1 - 1e-12);
      }),
    );
  });

  it('rejects a backward multiplier outside [1.3, 1.6]', () => {
    for (const backwardMultiplier of [1.29, 1.61, 0, Number.NaN])
      expect(() => calorieRate(backward(3, 0, { backwardMultiplier }), { weightKg: 70 })).toThrow(RangeError);
    for (const backwardMultiplier of [1.3, 1.6])
      expect(() => calorieRate(backward(3, 0, { backwardMultiplier }), { weightKg: 70 })).not.toThrow();
  });

  it('rejects impossible inputs and profiles', () => {
    expect(() => calorieRate(forward(-1), { weightKg: 70 })).toThrow(RangeError);
    expect(() => calorieRate(forward(5, Number.NaN), { weightKg: 70 })).toThrow(RangeError);
    expect(() => calorieRate(forward(5), { weightKg: 0 })).toThrow(RangeError);
    expect(() => accumulateCalories(emptyCalorieAccumulator(), { ...forward(5), durationS: -1 })).toThrow(
      RangeError,
    );
  });
});

const intervalArbitrary: fc.Arbitrary<Interval> = fc.record(
  {
    speedKmh: fc.oneof(fc.constant(0), fc.double({ min: 0.5, max: 20, noNaN: true })),
    gradePct: fc.double({ min: -10, max: 15, noNaN: true }),
    direction: fc.constantFrom('forward', 'backward', 'unknown'),
    hrBpm: fc.option(fc.integer({ min: 60, max: 190 }), { nil: undefined }),
    running: fc.option(fc.boolean(), { nil: undefined }),
    cadenceSpm: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
    backwardMultiplier: fc.option(fc.double({ min: 1.3, max: 1.6, noNaN: true }), { nil: undefined }),
    // Whole seconds keep time sums exact in any order, so only the kcal sums may differ after merging.
    durationS: fc.integer({ min: 1, max: 120 }),
  },
  { requiredKeys: ['speedKmh', 'gradePct', 'direction', 'durationS'] },
);

const profileArbitrary: fc.Arbitrary<CalorieProfile> = fc.record({
  weightKg: fc.option(fc.integer({ min: 40, max: 150 }), { nil: undefined }),
  ageYears: fc.option(fc.integer({ min: 15, max: 80 }), { nil: undefined }),
  sex: fc.option(fc.constantFrom('male' as const, 'female' as const), { nil: undefined }),
});

/** Cut `items` at the given points (taken modulo its length), in order. */
function batches<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((cut) => cut % (items.length + 1)))].sort((a, b) => a - b);
  return [...points, items.length].map((end, i) => items.slice(i === 0 ? 0 : points[i - 1], end));
}

describe('session accumulator', () => {
  it('continuing batch after batch, through JSON, is bit-exact', () => {
    fc.assert(
      fc.property(
        fc.array(intervalArbitrary, { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (intervals, cuts) => {
          const stored = batches(intervals, cuts).reduce<CalorieAccumulator>(
            (acc, batch) => JSON.parse(JSON.stringify(accumulateAll(batch, acc))),
            emptyCalorieAccumulator(),
          );
          expect(stored).toEqual(accumulateAll(intervals));
        },
      ),
    );
  });

  it('merging batches reduced separately gives the same totals', () => {
    fc.assert(
      fc.property(
        fc.array(intervalArbitrary, { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        profileArbitrary,
        (intervals, cuts, profile) => {
          const merged = batches(intervals, cuts)
            .map((batch) => accumulateAll(batch))
            .reduce(mergeCalorieAccumulators, emptyCalorieAccumulator());
          const whole = finalizeCalories(accumulateAll(intervals), profile);
          const fromMerged = finalizeCalories(merged, profile);
          expect(fromMerged.kcal).toBeCloseTo(whole.kcal, 8);
          expect(fromMerged.met).toBeCloseTo(whole.met, 8);
          expect(fromMerged.modelSeconds).toEqual(whole.modelSeconds);
          expect([fromMerged.model, fromMerged.confidence, fromMerged.reasons]).toEqual([
            whole.model,
            whole.confidence,
            whole.reasons,
          ]);
        },
      ),
    );
  });

  it('does not change the accumulator it is given', () => {
    const before = accumulateAll([
      { ...forward(5, 0, { hrBpm: 120 }), durationS: 10 },
      { ...backward(3, 0, { hrBpm: 110 }), durationS: 10 },
    ]);
    const snapshot = structuredClone(before);
    accumulateCalories(before, { ...forward(5, 0, { hrBpm: 120 }), durationS: 5 });
    accumulateCalories(before, { ...backward(4), durationS: 5 });
    mergeCalorieAccumulators(before, before);
    expect(before).toEqual(snapshot);
  });

  it('integrates per interval, not from the mean speed', () => {
    const profile = { weightKg: 70 };
    const session = finalizeCalories(
      accumulateAll([...steady(forward(4), 10), ...steady(forward(10), 10)]),
      profile,
    );
    const perInterval =
      (calorieRate(forward(4), profile).kcalPerMin + calorieRate(forward(10), profile).kcalPerMin) * 10;
    expect(session.kcal).toBeCloseTo(perInterval, 8);
    expect(session.kcal).not.toBeCloseTo(calorieRate(forward(7), profile).kcalPerMin * 20, 0);
    expect(session.modelSeconds).toEqual({ 'acsm-walking': 600, 'acsm-running': 600 });
  });

  it('decides Keytel per heart-rate bucket once the profile is known', () => {
    const acc = accumulateAll([
      ...steady(forward(5, 0, { hrBpm: 130 }), 20),
      ...steady(forward(5, 0, { hrBpm: 95 }), 5), // below 57 % of 190 at 30 y
      ...steady(backward(3), 5),
    ]);
    const young = finalizeCalories(acc, { weightKg: 70, ageYears: 30, sex: 'male' });
    expect(young.modelSeconds).toEqual({ keytel: 1200, 'acsm-walking': 300, 'acsm-walking-backward': 300 });
    expect(young.model).toBe('keytel');
    const expected =
      keytelKcalPerMin(130, 70, 30, 'male') * 20 +
      calorieRate(forward(5), { weightKg: 70 }).kcalPerMin * 5 +
      calorieRate(backward(3), { weightKg: 70 }).kcalPerMin * 5;
    expect(young.kcal).toBeCloseTo(expected, 8);
    expect(young.reasons).toEqual([
      'backward_outside_data_range',
      'backward_multiplier',
      'hr_outside_keytel_range',
    ]);

    const older = finalizeCalories(acc, { weightKg: 70, ageYears: 60, sex: 'male' });
    expect(older.modelSeconds).toEqual({ 'acsm-walking': 1500, 'acsm-walking-backward': 300 });
    expect(older.reasons).toContain('age_outside_keytel_range');
  });

  it('drops workload reasons of intervals that Keytel priced', () => {
    const profile: CalorieProfile = { weightKg: 70, ageYears: 30, sex: 'male' };
    const session = finalizeCalories(
      accumulateAll(steady({ ...forward(7), direction: 'unknown', hrBpm: 140 }, 10)),
      profile,
    );
    expect(session).toMatchObject({ model: 'keytel', confidence: 'high', reasons: [] });
    const noHeartRate = finalizeCalories(
      accumulateAll(steady({ ...forward(7), direction: 'unknown' }, 10)),
      profile,
    );
    expect(noHeartRate.confidence).toBe('low');
  });

  it('ignores reasons that cover under 10 % of the session', () => {
    const session = finalizeCalories(accumulateAll([...steady(forward(2), 1), ...steady(forward(5), 30)]), {
      weightKg: 70,
    });
    expect(session).toMatchObject({ confidence: 'high', reasons: [] });
  });

  it('counts idle time as rest at 1 MET in no model', () => {
    const session = finalizeCalories(
      accumulateAll([...steady(backward(3), 10), ...steady(backward(0), 30)]),
      {
        weightKg: 70,
      },
    );
    expect(session.modelSeconds).toEqual({ 'acsm-walking-backward': 600 });
    expect(session.model).toBe('acsm-walking-backward');
    expect(session.kcal).toBeCloseTo(
      calorieRate(backward(3), { weightKg: 70 }).kcalPerMin * 10 + 1.225 * 30,
      8,
    );
  });

  it('uses the default weight and says so', () => {
    const acc = accumulateAll(steady(forward(5), 30));
    const withDefault = finalizeCalories(acc, {});
    expect(withDefault.kcal).toBe(finalizeCalories(acc, { weightKg: DEFAULT_PROFILE.weightKg }).kcal);
    expect(withDefault).toMatchObject({ confidence: 'medium', reasons: ['default_weight'] });
  });

  it('reports an empty session as no data', () => {
    expect(finalizeCalories(emptyCalorieAccumulator(), { weightKg: 70 })).toMatchObject({
      kcal: 0,
      confidence: 'low',
      reasons: ['no_data'],
    });
  });

  it('stays small: a 30-minute 1 Hz session with heart rate drifting 100 to 140 bpm', () => {
    const intervals = Array.from({ length: 1800 }, (_, i) => ({
      ...forward(5 + (i % 7) / 10, i % 5, { hrBpm: 100 + Math.floor(i / 45) }),
      durationS: 1,
    }));
    const acc = accumulateAll([...intervals, { ...backward(3, 0, { hrBpm: 110 }), durationS: 60 }]);
    expect(Object.keys(acc.heartRateBuckets)).toHaveLength(40);
    expect(JSON.stringify(acc).length).toBeLessThan(2048);
  });
});
