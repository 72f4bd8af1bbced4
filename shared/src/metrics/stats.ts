/**
 * Running statistics that stay small and merge exactly: Welford/Chan mean and variance. Session state is
 * reduced batch by batch and may be merged, so no raw sample arrays are ever kept.
 */

export interface RunningStats {
  n: number;
  mean: number;
  /** Sum of squared deviations from the mean (Welford's M2). */
  m2: number;
  min: number;
  max: number;
}

/** min and max are 0 while n is 0: finite, so a state survives a JSON round trip unchanged. */
export const emptyStats = (): RunningStats => ({ n: 0, mean: 0, m2: 0, min: 0, max: 0 });

/** A new RunningStats with `x` added (pure: the input is not changed). */
export function addSample(stats: RunningStats, x: number): RunningStats {
  const n = stats.n + 1;
  const delta = x - stats.mean;
  const mean = stats.mean + delta / n;
  const first = stats.n === 0;
  return {
    n,
    mean,
    m2: stats.m2 + delta * (x - mean),
    min: first ? x : Math.min(stats.min, x),
    max: first ? x : Math.max(stats.max, x),
  };
}

/** Chan et al.'s parallel combination: the same result as adding b's samples to a one by one. */
export function mergeStats(a: RunningStats, b: RunningStats): RunningStats {
  if (a.n === 0) return { ...b };
  if (b.n === 0) return { ...a };
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  return {
    n,
    mean: a.mean + (delta * b.n) / n,
    m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
  };
}

/** Sample variance (n - 1); 0 below two samples. */
export const variance = (s: RunningStats): number => (s.n < 2 ? 0 : s.m2 / (s.n - 1));
export const standardDeviation = (s: RunningStats): number => Math.sqrt(variance(s));

/** Coefficient of variation in percent; undefined when the mean is 0 or there are under two samples. */
export function coefficientOfVariationPct(s: RunningStats): number | undefined {
  if (s.n < 2 || s.mean === 0) return undefined;
  return (standardDeviation(s) / Math.abs(s.mean)) * 100;
}
