import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../scripts/lib/random.js';
import { type SyntheticGaitOptions, syntheticSteps } from '../../scripts/lib/synthetic-gait.js';
import {
  addStep,
  type BalanceAccumulator,
  type BalanceComponentName,
  type BalanceContext,
  type BalanceScore,
  type BalanceStep,
  balanceBaseline,
  emptyBalanceAccumulator,
  mergeBalanceAccumulators,
  scoreBalance,
} from '../../shared/src/metrics/balance.js';

const START_TS = 1_700_000_000_000;

const reduce = (steps: readonly BalanceStep[], from: BalanceAccumulator = emptyBalanceAccumulator()) =>
  steps.reduce(addStep, from);

const durationS = (steps: readonly BalanceStep[]) => ((steps.at(-1)?.ts ?? 0) - (steps[0]?.ts ?? 0)) / 1000;

const gait = (options: Partial<SyntheticGaitOptions> = {}) =>
  syntheticSteps({ seed: 7, startTs: START_TS, strides: 300, direction: 'forward', ...options });

function scoreSteps(steps: readonly BalanceStep[], ctx: Partial<BalanceContext> = {}): BalanceScore {
  return scoreBalance(reduce(steps), {
    direction: 'forward',
    durationS: durationS(steps),
    safetyStops: 0,
    ...ctx,
  });
}

const scoreGait = (options: Partial<SyntheticGaitOptions> = {}, ctx: Partial<BalanceContext> = {}) =>
  scoreSteps(gait(options), { direction: options.direction ?? 'forward', ...ctx });

function component(score: BalanceScore, name: BalanceComponentName) {
  const found = score.components.find((c) => c.name === name);
  if (!found) throw new Error(`no component ${name}`);
  return found;
}

const scoreOf = (score: BalanceScore): number => {
  if (score.score === null) throw new Error('expected a score');
  return score.score;
};

/** Equal structure; numbers equal up to floating-point rounding (merge adds samples in another order). */
function expectClose(actual: unknown, expected: unknown, path = 'acc'): void {
  if (typeof expected === 'number' && typeof actual === 'number' && Number.isFinite(expected)) {
    expect(Math.abs(actual - expected), path).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
  } else if (
    expected !== null &&
    typeof expected === 'object' &&
    actual !== null &&
    typeof actual === 'object'
  ) {
    expect(Object.keys(actual).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected)) {
      expectClose((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
  } else {
    expect(actual, path).toEqual(expected);
  }
}

/** Arbitrary steps: same-foot repeats, pauses, simultaneous contacts, missing fields. */
const stepsArbitrary = (minGapMs: number) =>
  fc
    .array(
      fc.record(
        {
          gapMs: fc.integer({ min: minGapMs, max: 4000 }),
          foot: fc.constantFrom('L' as const, 'R' as const),
          contactMs: fc.integer({ min: 100, max: 1500 }),
          stepWidthMm: fc.double({ min: 0, max: 300, noNaN: true }),
          // JSON turns -0 into 0; both are the same position, so -0 is left out.
          copLateralMm: fc.double({ min: -200, max: 200, noNaN: true }).map((x) => x + 0),
          handrail: fc.boolean(),
          stumble: fc.boolean(),
        },
        { requiredKeys: ['gapMs', 'foot'] },
      ),
      { maxLength: 80 },
    )
    .map((raw) => {
      let ts = START_TS;
      return raw.map(({ gapMs, ...step }): BalanceStep => {
        ts += gapMs;
        return { ...step, ts };
      });
    });

describe('synthetic gait and seeded random source', () => {
  it('replays exactly from a seed and differs between seeds', () => {
    const draw = (seed: number) => {
      const random = createRandom(seed);
      return [random.next(), random.normal(0, 1), random.int(1, 6), random.pick(['a', 'b', 'c'])];
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(gait()).toEqual(gait());
    expect(gait({ seed: 8 })).not.toEqual(gait());
    expect(() => createRandom(1.5)).toThrow(RangeError);
    expect(() => createRandom(1).pick([])).toThrow(RangeError);
  });

  it('produces the variability it was asked for', () => {
    const score = scoreGait({ strides: 2000, strideTimeCvPct: 4, asymmetryPct: 10, copSdMm: 12 });
    expect(score.strides).toBe(2000);
    expect(component(score, 'stride_time_cv').value).toBeCloseTo(4, 0);
    expect(component(score, 'symmetry').value).toBeCloseTo(10, 0);
    expect(component(score, 'cop_sway').value).toBeCloseTo(12, 0);
    expect(component(score, 'step_width_cv').value).toBeCloseTo(15, 0);
  });

  it('strikes with the toe walking backward and the heel walking forward', () => {
    expect(new Set(gait({ direction: 'backward' }).map((s) => s.strike))).toEqual(new Set(['toe']));
    expect(new Set(gait().map((s) => s.strike))).toEqual(new Set(['heel']));
  });
});

describe('balance score', () => {
  it('gives a steady, symmetric, hands-free forward gait nearly full marks with every component', () => {
    const score = scoreGait({ strideTimeCvPct: 1.5 });
    expect(score.dataSufficient).toBe(true);
    expect(score.missing).toEqual([]);
    expect(scoreOf(score)).toBeGreaterThanOrEqual(95);
    expect(score.components.reduce((sum, c) => sum + c.weight, 0)).toBeCloseTo(1, 12);
  });

  it('falls monotonically as stride-time CV rises, by the full 30-point weight from best to worst', () => {
    const scores = [1, 2, 3, 4, 5, 6, 7, 8].map((cv) => scoreOf(scoreGait({ strideTimeCvPct: cv })));
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeLessThanOrEqual(scores[i - 1] as number);
    expect(
      (scores[2] as number) > (scores[3] as number) && (scores[3] as number) > (scores[4] as number),
    ).toBe(true);
    expect((scores[0] as number) - (scores[7] as number)).toBeCloseTo(30, 0);
  });

  it('scores a symmetric gait above an asymmetric one', () => {
    const [even, mild, marked] = [0, 10, 25].map((a) => scoreOf(scoreGait({ asymmetryPct: a })));
    expect(even).toBeGreaterThan(mild as number);
    expect(mild).toBeGreaterThan(marked as number);
    expect(component(scoreGait({ asymmetryPct: 25 }), 'symmetry').subScore).toBe(0);
  });

  it('lowers the score for handrail use, stumbles and safety stops', () => {
    const clean = scoreOf(scoreGait());
    expect(scoreOf(scoreGait({ handrailShare: 0.3 }))).toBeLessThan(clean);
    expect(scoreOf(scoreGait({ stumbles: 2 }))).toBeLessThan(clean);
    expect(scoreOf(scoreGait({}, { safetyStops: 1 }))).toBeLessThan(clean);
    expect(component(scoreGait({ handrailShare: 0.3 }), 'handrail').value).toBeCloseTo(30, -1);
  });

  it('penalises step-width variability that is too low as well as too high (U-shape)', () => {
    const subScore = (cv: number) => component(scoreGait({ stepWidthCvPct: cv }), 'step_width_cv').subScore;
    expect(subScore(15)).toBe(1);
    expect(subScore(1)).toBe(0);
    expect(subScore(60)).toBe(0);
    const middle = scoreOf(scoreGait({ stepWidthCvPct: 15 }));
    expect(middle).toBeGreaterThan(scoreOf(scoreGait({ stepWidthCvPct: 1 })));
    expect(middle).toBeGreaterThan(scoreOf(scoreGait({ stepWidthCvPct: 60 })));
  });

  it('returns null with insufficient_data below 100 strides', () => {
    const short = scoreGait({ strides: 99 });
    expect(short).toMatchObject({
      score: null,
      reason: 'insufficient_data',
      dataSufficient: false,
      strides: 99,
    });
    const enough = scoreGait({ strides: 100 });
    expect(enough.dataSufficient).toBe(true);
    expect(enough.reason).toBeUndefined();
    expect(typeof enough.score).toBe('number');
    const nothing = scoreBalance(emptyBalanceAccumulator(), {
      direction: 'forward',
      durationS: 0,
      safetyStops: 0,
    });
    expect(nothing).toMatchObject({ score: null, strides: 0, reason: 'insufficient_data' });
    expect(nothing.missing).toHaveLength(6);
  });

  it('treats long gaps as pauses, not strides', () => {
    const steps = gait({ strides: 300, strideTimeCvPct: 2 });
    const paused = steps.map((s, i) => (i >= 300 ? { ...s, ts: s.ts + 10_000 } : s));
    const withPause = scoreSteps(paused);
    expect(withPause.strides).toBe(299);
    expect(component(withPause, 'stride_time_cv').value).toBeCloseTo(
      component(scoreSteps(steps), 'stride_time_cv').value as number,
      0,
    );
  });

  it('re-weights the rest and says so when COP or handrail data is missing', () => {
    const noPlate = scoreGait({ copSdMm: null });
    expect(noPlate.missing).toEqual(['cop_sway']);
    expect(component(noPlate, 'cop_sway')).toMatchObject({ value: null, subScore: null, weight: 0 });
    expect(component(noPlate, 'stride_time_cv').weight).toBeCloseTo(0.3 / 0.85, 12);
    expect(noPlate.components.reduce((sum, c) => sum + c.weight, 0)).toBeCloseTo(1, 12);
    expect(noPlate.score).not.toBeNull();

    const noHandrailSensor = scoreSteps(gait().map(({ handrail: _, ...step }) => step));
    expect(noHandrailSensor.missing).toEqual(['handrail']);
  });
});

describe('walking direction', () => {
  const variable = { strideTimeCvPct: 4.5, asymmetryPct: 8, copSdMm: 13, handrailShare: 0.08 };

  it('scores the same gait higher against backward anchors than against forward ones', () => {
    const steps = gait(variable);
    const asForward = scoreSteps(steps, { direction: 'forward' });
    const asBackward = scoreSteps(steps, { direction: 'backward' });
    expect(scoreOf(asBackward)).toBeGreaterThan(scoreOf(asForward));
    expect(component(asBackward, 'stride_time_cv').subScore).toBeGreaterThan(
      component(asForward, 'stride_time_cv').subScore as number,
    );
    expect(component(asBackward, 'stride_time_cv').anchor).toContain('backward');
  });

  it('never uses a forward baseline for a backward session', () => {
    const steps = gait({ ...variable, direction: 'backward' });
    const forwardBaseline = { direction: 'forward' as const, strideTimeCvPct: 1, copLateralSdMm: 5 };
    const without = scoreSteps(steps, { direction: 'backward' });
    const offered = scoreSteps(steps, { direction: 'backward', baseline: forwardBaseline });
    expect(offered).toMatchObject({ baselineUsed: false, baselineIgnored: 'other_direction' });
    expect(offered.components).toEqual(without.components);
    expect(offered.score).toBe(without.score);
  });

  it('uses a same-direction baseline: full marks at the baseline, zero at twice it', () => {
    const steps = gait({ ...variable, direction: 'backward' });
    const measured = component(scoreSteps(steps, { direction: 'backward' }), 'stride_time_cv')
      .value as number;
    const atBaseline = scoreSteps(steps, {
      direction: 'backward',
      baseline: { direction: 'backward', strideTimeCvPct: measured },
    });
    expect(atBaseline.baselineUsed).toBe(true);
    expect(component(atBaseline, 'stride_time_cv').subScore).toBe(1);
    const doubled = scoreSteps(steps, {
      direction: 'backward',
      baseline: { direction: 'backward', strideTimeCvPct: measured / 2 },
    });
    expect(component(doubled, 'stride_time_cv').subScore).toBe(0);
    expect(
      scoreSteps(steps, { direction: 'backward', baseline: { direction: 'backward', strideTimeCvPct: 0 } }),
    ).toMatchObject({ baselineUsed: false, baselineIgnored: 'invalid' });
  });

  it('builds a baseline from the median of the first 3 qualifying sessions of its own direction', () => {
    const history = [
      scoreGait({ strideTimeCvPct: 6, direction: 'backward' }),
      scoreGait({ strideTimeCvPct: 2 }),
      scoreGait({ strideTimeCvPct: 1, strides: 50 }),
      scoreGait({ strideTimeCvPct: 4 }),
      scoreGait({ strideTimeCvPct: 3, copSdMm: 11 }),
      scoreGait({ strideTimeCvPct: 9 }),
    ];
    const baseline = balanceBaseline('forward', history);
    expect(baseline?.direction).toBe('forward');
    expect(baseline?.strideTimeCvPct).toBe(component(history[4] as BalanceScore, 'stride_time_cv').value);
    expect(baseline?.copLateralSdMm).toBe(component(history[1] as BalanceScore, 'cop_sway').value);
    expect(balanceBaseline('backward', history)).toBeUndefined();
  });
});

describe('balance accumulator', () => {
  it('gives the identical accumulator however the steps are split into batches, across a JSON round trip', () => {
    fc.assert(
      fc.property(stepsArbitrary(0), fc.nat(), (steps, cut) => {
        const at = cut % (steps.length + 1);
        const stored = JSON.parse(JSON.stringify(reduce(steps.slice(0, at))));
        expect(reduce(steps.slice(at), stored)).toEqual(reduce(steps));
      }),
    );
  });

  it('merges two consecutive stretches into what sequential reduction gives, boundary stride included', () => {
    fc.assert(
      fc.property(stepsArbitrary(1), fc.nat(), (steps, cut) => {
        const at = cut % (steps.length + 1);
        const merged = mergeBalanceAccumulators(reduce(steps.slice(0, at)), reduce(steps.slice(at)));
        expectClose(merged, reduce(steps));
      }),
    );
  });

  it('stays under 2 KB of JSON for a 2-hour session', () => {
    const steps = gait({ strides: 7000, strideTimeMs: 1030 });
    expect(durationS(steps)).toBeGreaterThan(7000);
    const acc = reduce(steps);
    expect(JSON.stringify(acc).length).toBeLessThan(2048);
    expect(
      scoreBalance(acc, { direction: 'forward', durationS: durationS(steps), safetyStops: 0 }).strides,
    ).toBe(7000);
  });
});
