/**
 * Order statistics of small samples: the linear interpolation between order statistics that R calls type 7 and
 * spreadsheets QUARTILE.INC, so a researcher can reproduce every published median and IQR.
 */

/** The p-quantile (0 <= p <= 1) of the values; null for none. */
export function quantile(values: readonly number[], p: number): number | null {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile must be in [0, 1]: ${p}`);
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * p;
  const below = Math.floor(position);
  const low = sorted[below]!;
  const high = sorted[Math.min(below + 1, sorted.length - 1)]!;
  return low + (high - low) * (position - below);
}

export const median = (values: readonly number[]): number | null => quantile(values, 0.5);

/** Interquartile range: the 0.75 quantile minus the 0.25 quantile. */
export function interquartileRange(values: readonly number[]): number | null {
  const q1 = quantile(values, 0.25);
  const q3 = quantile(values, 0.75);
  return q1 === null || q3 === null ? null : q3 - q1;
}
