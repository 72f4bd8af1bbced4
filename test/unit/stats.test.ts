import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addSample,
  coefficientOfVariationPct,
  emptyStats,
  mergeStats,
  standardDeviation,
} from '../../shared/src/metrics/stats.js';

const fromSamples = (xs: number[]) => xs.reduce(addSample, emptyStats());

describe('running statistics', () => {
  it('matches the textbook mean and sample standard deviation', () => {
    const s = fromSamples([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(standardDeviation(s)).toBeCloseTo(2.138, 3);
    expect(coefficientOfVariationPct(s)).toBeCloseTo(42.76, 2);
    expect([s.min, s.max]).toEqual([2, 9]);
  });

  it('merging any split equals adding every sample in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { maxLength: 60 }),
        fc.nat(),
        (xs, cut) => {
          const at = xs.length === 0 ? 0 : cut % (xs.length + 1);
          const merged = mergeStats(fromSamples(xs.slice(0, at)), fromSamples(xs.slice(at)));
          const whole = fromSamples(xs);
          expect(merged.n).toBe(whole.n);
          expect(merged.mean).toBeCloseTo(whole.mean, 6);
          expect(merged.m2).toBeCloseTo(whole.m2, 3);
        },
      ),
    );
  });

  it('has no coefficient of variation without spread data', () => {
    expect(coefficientOfVariationPct(fromSamples([3]))).toBeUndefined();
    expect(coefficientOfVariationPct(fromSamples([0, 0]))).toBeUndefined();
  });
});
