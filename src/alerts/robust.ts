/**
 * Robust statistics for the anomaly detectors (docs: reference "Robust anomaly detection for cost
 * time series"): medians and MAD rather than mean and standard deviation, because cost series are
 * skewed and spiky and one spike in a stddev hides the next one.
 *
 * score = (x − baseline) / max(1.4826·MAD, 0.05·baseline, floor)
 *
 * - 1.4826·MAD estimates σ for normal noise, so the score reads like a z-score;
 * - 0.05·baseline keeps a very regular series from alerting on a few percent;
 * - `floor` (units of the series) keeps a flat or tiny series from dividing by (nearly) zero.
 *   The anomaly detector sets it to its absolute impact floor: on a flat series an excess must be
 *   `ticket_score` × the floor to open a ticket. With floor ÷ page score instead, one expensive
 *   request (per-request cost is heavy-tailed) paged on small series: 7 false pages a day across
 *   200 tenants of the 10M-event seed ledger, none with the floor at the impact. */
export const WEEK_HOURS = 168;
export const MAD_TO_SIGMA = 1.4826;
/** The scale never drops below this share of the baseline. */
export const MIN_RELATIVE_SCALE = 0.05;
/**
 * Hours of the day either side of the scored hour whose residuals form the MAD pool. Noise grows
 * with the level: a pool over all 168 hours of the week would take its scale from the quiet night
 * and make every office-hour peak look anomalous; ±1 h on every day of the week is 21 buckets ×
 * `weeks` residuals (84 at 4 weeks), enough for a stable MAD while staying at the scored hour's
 * level — and the series reader only needs these hours (series.ts dailyBands).
 */
export const POOL_HOURS = 1;
/**
 * A young series has no seasonal bucket yet; its recent hours mix day and night, so their median
 * would call every busy hour a spike. Its baseline is this quantile of the recent hours instead:
 * "the busy level of the last day", above which a spike must rise.
 */
const YOUNG_QUANTILE = 0.9;

type Values = ArrayLike<number>;

/** Sorted copy (ascending) of some values. */
function sorted(values: Values): Float64Array {
  return Float64Array.from(values).sort();
}

/** Linear-interpolated quantile (q in [0, 1]) of already sorted values; NaN when empty. */
function quantileSorted(s: Float64Array, q: number): number {
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function quantile(values: Values, q: number): number {
  return quantileSorted(sorted(values), q);
}

/** Median; NaN for no values. */
export function median(values: Values): number {
  return quantileSorted(sorted(values), 0.5);
}

/** Median absolute deviation around `center` (default: the median); NaN for no values. */
export function mad(values: Values, center: number = median(values)): number {
  const deviations = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) deviations[i] = Math.abs(values[i]! - center);
  return median(deviations);
}

/** max(1.4826·MAD, 0.05·|baseline|, floor): never 0 when floor > 0. */
export function robustScale(madValue: number, baseline: number, floor: number): number {
  const fromMad = Number.isFinite(madValue) ? MAD_TO_SIGMA * madValue : 0;
  return Math.max(fromMad, MIN_RELATIVE_SCALE * Math.abs(baseline), floor);
}

/** (x − baseline) ÷ scale; 0 when the scale is 0 and x equals the baseline. */
export function robustScore(x: number, baseline: number, scale: number): number {
  const diff = x - baseline;
  if (scale > 0) return diff / scale;
  return diff === 0 ? 0 : diff > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

export interface Baseline {
  /** What the scored point was expected to be. */
  expected: number;
  /** The divisor of the score: max(1.4826·MAD, 0.05·expected, floor). */
  scale: number;
  /** seasonal: same hour-of-week; recent: the last hours of a young series; level: a pooled ratio. */
  method: 'seasonal' | 'recent' | 'level';
  /** History points left out of the baseline because they were anomalous themselves. */
  excluded: number;
}

export interface SeasonalOptions {
  /** Weeks of the same hour-of-week that form the baseline. */
  weeks: number;
  /** Hours a young series is compared with instead. */
  recentHours: number;
  /** Smallest scale, in units of the series. */
  floor: number;
  /** A history point scoring above this against its own bucket is left out (reference trap 9). */
  excludeScore: number;
}

/**
 * The baseline of `values[t]` from the hours before it, or null while the series is too young to
 * have one ("learning": fewer than `recentHours` hours since its first request).
 *
 * Mature series (a request at least `weeks` weeks before t): the median of the same hour-of-week
 * in the last `weeks` weeks. The scale is the MAD of leave-one-out residuals — each sample minus
 * the median of the other samples of its bucket — pooled over the buckets within ±POOL_HOURS of
 * the hour of day. Leave-one-out because that is how the scored point is judged (against the
 * median of samples it is not part of); residuals against a median that includes the point itself
 * are smaller — with four weekly samples about half (robust.test.ts) — and would make ordinary
 * noise score like an incident.
 *
 * Trap 9: a history sample whose leave-one-out residual scores above `excludeScore` was an
 * anomaly itself; it is dropped and medians and MAD are computed again, so last week's incident
 * neither raises this week's baseline nor widens its scale. One pass: a median already ignores a
 * minority of outliers, the pass guards against two of four weeks being bad.
 *
 * Young series: the 90th percentile of the last `recentHours` hours (see YOUNG_QUANTILE), with
 * the same one-pass exclusion. NaN samples (hours not read) are ignored.
 */
export function seasonalBaseline(
  values: Values,
  t: number,
  firstSeen: number,
  options: SeasonalOptions,
): Baseline | null {
  const first = t - options.weeks * WEEK_HOURS;
  if (first >= 0 && firstSeen <= first) return matureBaseline(values, t, options);
  if (t - options.recentHours < Math.max(0, firstSeen)) return null;
  return youngBaseline(values, t, options);
}

/** Each sample minus the median of the others (none for a single sample). */
function leaveOneOut(samples: readonly number[]): number[] {
  if (samples.length < 2) return [];
  return samples.map((v, i) => v - median(samples.filter((_, j) => j !== i)));
}

function matureBaseline(values: Values, t: number, options: SeasonalOptions): Baseline {
  const { weeks, floor, excludeScore } = options;
  const first = t - weeks * WEEK_HOURS;
  // Bucket positions relative to `first`; the scored hour's bucket is position 0.
  const positions: number[] = [];
  for (let day = 0; day < 7; day++) {
    for (let h = -POOL_HOURS; h <= POOL_HOURS; h++) positions.push((day * 24 + h + WEEK_HOURS) % WEEK_HOURS);
  }
  const buckets = positions.map((p) => {
    const samples: number[] = [];
    for (let k = 0; k < weeks; k++) {
      const v = values[first + p + k * WEEK_HOURS]!;
      if (!Number.isNaN(v)) samples.push(v);
    }
    return samples;
  });

  // Pass 1: flag the samples that were anomalies themselves.
  const mad0 = mad(buckets.flatMap(leaveOneOut));
  let excluded = 0;
  const kept = buckets.map((b) => {
    if (b.length < 2) return b;
    const residuals = leaveOneOut(b);
    const keep = b.filter((v, i) => {
      const others = v - residuals[i]!;
      return robustScore(v, others, robustScale(mad0, others, floor)) <= excludeScore;
    });
    excluded += b.length - keep.length;
    return keep;
  });

  // Pass 2: the same without them. A sample is flagged only above the median of the others, so
  // a bucket keeps at least half of its samples.
  const own = kept[positions.indexOf(0)]!;
  const expected = own.length === 0 ? 0 : median(own);
  return {
    expected,
    scale: robustScale(mad(kept.flatMap(leaveOneOut)), expected, floor),
    method: 'seasonal',
    excluded,
  };
}

function youngBaseline(values: Values, t: number, options: SeasonalOptions): Baseline | null {
  const recent = Float64Array.from(
    { length: options.recentHours },
    (_, i) => values[t - options.recentHours + i]!,
  ).filter((v) => !Number.isNaN(v));
  if (recent.length === 0) return null;
  const level0 = quantile(recent, YOUNG_QUANTILE);
  const scale0 = robustScale(mad(recent), level0, options.floor);
  const kept = Array.from(recent).filter((v) => robustScore(v, level0, scale0) <= options.excludeScore);
  const expected = quantile(kept, YOUNG_QUANTILE);
  return {
    expected,
    scale: robustScale(mad(kept), expected, options.floor),
    method: 'recent',
    excluded: recent.length - kept.length,
  };
}

export interface RatioOptions {
  /** Fewer samples than this: no baseline (null). */
  minSamples: number;
  floor: number;
  excludeScore: number;
  /** Which side of the median an excluded (anomalous) sample lies on. */
  direction: 'up' | 'down';
}

/** One hour of a ratio: numerator ÷ denominator (tokens ÷ requests, cache reads ÷ prompt tokens). */
export interface RatioSample {
  numerator: number;
  denominator: number;
}

/**
 * The baseline of a ratio without a seasonal shape (tokens per request, cache-hit share) from
 * hourly samples: samples whose own ratio was anomalous in the watched direction are left out
 * (median and MAD of the hourly ratios, one pass); the level is then the pooled ratio of the rest,
 * Σ numerator ÷ Σ denominator, and the scale the MAD of their hourly ratios.
 *
 * Pooled, not the median of hourly ratios: an hour's tokens per request is a mean of
 * heavy-tailed request sizes, right-skewed, so the median hour sits below the true level and an
 * ordinary hour already looked ~1.2× "inflated". On the 10M-event seed ledger the pooled level
 * cut false inflation tickets from 22 to 8 a day (200 tenants, 2-hour rule of inflation.ts).
 */
export function ratioBaseline(samples: readonly RatioSample[], options: RatioOptions): Baseline | null {
  if (samples.length === 0 || samples.length < options.minSamples) return null;
  const sign = options.direction === 'up' ? 1 : -1;
  const ratios = samples.map((s) => s.numerator / s.denominator);
  const m0 = median(ratios);
  const scale0 = robustScale(mad(ratios), m0, options.floor);
  let numerator = 0;
  let denominator = 0;
  const kept: number[] = [];
  samples.forEach((s, i) => {
    if (sign * robustScore(ratios[i]!, m0, scale0) > options.excludeScore) return;
    numerator += s.numerator;
    denominator += s.denominator;
    kept.push(ratios[i]!);
  });
  const expected = numerator / denominator;
  return {
    expected,
    scale: robustScale(mad(kept), expected, options.floor),
    method: 'level',
    excluded: samples.length - kept.length,
  };
}
