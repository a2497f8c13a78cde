import { BUCKETS, TOKEN_BUCKETS, type Bucket, type Buckets } from './types.js';

/**
 * Sum of the given buckets (token buckets by default). Per-call units (`requests`, `web_search`,
 * `tool_calls`) are not tokens, so they only count when asked for explicitly.
 */
export function bucketsTotal(buckets: Buckets, which: readonly Bucket[] = TOKEN_BUCKETS): number {
  let total = 0;
  for (const name of which) total += buckets[name] ?? 0;
  return total;
}

/** Bucket-wise sum of any number of bucket sets, normalized (zeros dropped). */
export function addBuckets(...items: Buckets[]): Buckets {
  const sum: Buckets = {};
  for (const item of items) {
    for (const name of BUCKETS) {
      const value = item[name];
      if (value !== undefined) sum[name] = (sum[name] ?? 0) + value;
    }
  }
  return normalizeBuckets(sum);
}

/**
 * The canonical form: known buckets only, in BUCKETS order, zeros and undefined dropped. Two usages
 * with the same counts then serialize identically, which keeps stored JSON and test fixtures stable.
 */
export function normalizeBuckets(buckets: Buckets): Buckets {
  const out: Buckets = {};
  for (const name of BUCKETS) {
    const value = buckets[name];
    if (value !== undefined && value !== 0) out[name] = value;
  }
  return out;
}

/**
 * Makes counts safe to price: NaN/Infinity, negatives and counts beyond 2^53 − 1 become 0,
 * fractions are rounded. The evidence of what was wrong is kept by the caller in `Usage.issues`
 * and `Usage.raw`; pricing multiplies counts as bigints and must never see a fraction, and a
 * number past MAX_SAFE_INTEGER is not an exact count of anything (a provider sending 1e20 must
 * not stop its call from being recorded).
 */
export function sanitizeBuckets(buckets: Buckets): Buckets {
  const out: Buckets = {};
  for (const name of BUCKETS) {
    const value = buckets[name];
    if (value !== undefined) out[name] = priceableCount(value);
  }
  return normalizeBuckets(out);
}

/** The count sanitizeBuckets makes of one value (a provider mapping splits totals by the same rule). */
export function priceableCount(value: number): number {
  if (!Number.isFinite(value) || value <= 0 || value > Number.MAX_SAFE_INTEGER) return 0;
  return Math.round(value);
}
