/** Percentile summaries of latency samples. */

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

/**
 * The q-quantile (0..1) of sorted values by linear interpolation between closest ranks (the
 * numpy/Excel "inclusive" definition): p50 of [1, 2, 3, 4] is 2.5.
 */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? a;
  return a + (b - a) * (pos - lo);
}

const round3 = (v: number | null): number | null => (v === null ? null : Math.round(v * 1000) / 1000);

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: round3(quantile(sorted, 0.5)),
    p90: round3(quantile(sorted, 0.9)),
    p99: round3(quantile(sorted, 0.99)),
  };
}
