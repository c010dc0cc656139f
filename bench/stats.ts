/** The few statistics the benchmarks report. Latencies are in milliseconds, rates in operations per second. */

/**
 * Nearest-rank percentile: the smallest value such that at least p % of the values are at or below it.
 * It is always one of the measured values (no interpolation), so a p99 of 100 samples is the 99th slowest
 * from the bottom, not a blend of the two slowest. NaN when there are no values.
 */
export function percentile(values: readonly number[], p: number): number {
  if (p < 0 || p > 100 || Number.isNaN(p)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const count = values.length;
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    count,
    // A reduce, not Math.min(...values): a run of 130,000 samples is more arguments than the stack holds.
    min: count ? values.reduce((a, b) => Math.min(a, b)) : Number.NaN,
    mean: count ? sum / count : Number.NaN,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: count ? values.reduce((a, b) => Math.max(a, b)) : Number.NaN,
  };
}

/** Operations per second. */
export const perSecond = (count: number, durationMs: number): number => (durationMs > 0 ? (count * 1000) / durationMs : Number.NaN);

/** Least-squares slope of y over x (e.g. bytes per waiting journey); NaN with fewer than two distinct x. */
export function slope(points: ReadonlyArray<{ x: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  if (sxx === 0) return Number.NaN;
  return points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx;
}

/** Rounds for display and for results.json, keeping NaN out of JSON (it becomes null there anyway). */
export const round = (value: number, digits = 2): number => (Number.isFinite(value) ? Number(value.toFixed(digits)) : Number.NaN);
