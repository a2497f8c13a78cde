import { describe, expect, it } from 'vitest';
import {
  mad,
  median,
  quantile,
  ratioBaseline,
  robustScale,
  robustScore,
  seasonalBaseline,
  WEEK_HOURS,
  type SeasonalOptions,
} from './robust.js';

const OPTIONS: SeasonalOptions = { weeks: 4, recentHours: 24, floor: 1 / 3, excludeScore: 2 };

/** Five weeks of hours (index 0 = a Monday 00:00) from a function of the hour index. */
function weeks(f: (i: number) => number, count = 5): Float64Array {
  return Float64Array.from({ length: count * WEEK_HOURS }, (_, i) => f(i));
}

/** Office hours 8–18 at 10 USD/h, nights at 1, weekends (days 5, 6) at a quarter. */
function shape(i: number): number {
  const hour = i % 24;
  const day = Math.floor(i / 24) % 7;
  const level = hour >= 8 && hour < 18 ? 10 : 1;
  return day >= 5 ? level / 4 : level;
}

/** ±1% deterministic ripple, so the MAD is not 0. */
const ripple = (i: number): number => 1 + 0.01 * Math.sin(i * 1.7);

describe('median, MAD, quantile', () => {
  it('computes the textbook values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
    // |x − 3| = 2, 1, 0, 1, 97: one wild point does not move it.
    expect(mad([1, 2, 3, 4, 100])).toBe(1);
    expect(quantile([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(quantile([0, 10], 0.25)).toBe(2.5);
  });

  it('scales by max(1.4826·MAD, 5% of the baseline, floor)', () => {
    expect(robustScale(2, 10, 0.1)).toBeCloseTo(2.9652, 10);
    expect(robustScale(0, 10, 0.1)).toBe(0.5);
    expect(robustScale(0, 0, 0.25)).toBe(0.25);
    expect(robustScale(Number.NaN, 0, 0.25)).toBe(0.25);
    expect(robustScore(13, 10, 0.5)).toBe(6);
    expect(robustScore(1, 0, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(robustScore(0, 0, 0)).toBe(0);
  });
});

describe('seasonalBaseline', () => {
  const t = 5 * WEEK_HOURS - 1 - 24 * 4 - 13; // a Thursday 11:00 of the last week

  it('takes the same hour-of-week of the last `weeks` weeks for a mature series', () => {
    const values = weeks((i) => shape(i) * ripple(i));
    const b = seasonalBaseline(values, t, 0, OPTIONS)!;
    expect(b.method).toBe('seasonal');
    const samples = [1, 2, 3, 4].map((k) => values[t - k * WEEK_HOURS]!);
    expect(b.expected).toBeCloseTo(median(samples), 12);
    // The ripple's MAD is ~0.05 at this level: the 5% term (0.5) rules.
    expect(b.scale).toBeCloseTo(0.05 * b.expected, 12);
    expect(b.excluded).toBe(0);
  });

  it('leaves out earlier anomalies: two bad weeks of four do not lift the baseline (trap 9)', () => {
    const bad = new Set([t - WEEK_HOURS, t - 3 * WEEK_HOURS]);
    const values = weeks((i) => (bad.has(i) ? 100 : shape(i) * ripple(i)));
    // A plain median of the four samples would be (10 + 100) / 2.
    expect(median([1, 2, 3, 4].map((k) => values[t - k * WEEK_HOURS]!))).toBeGreaterThan(50);
    const b = seasonalBaseline(values, t, 0, OPTIONS)!;
    expect(b.excluded).toBe(2);
    expect(b.expected).toBeCloseTo(10, 0);
    expect(robustScore(100, b.expected, b.scale)).toBeGreaterThan(100);
  });

  it("takes the scale from hours at the scored hour's level, not from the quiet night", () => {
    // Office hours swing ±20% week to week, nights are steady. Over the whole week most residuals
    // would be night zeros (MAD 0); the ±2 h pool around 11:00 holds office hours only.
    const values = weeks((i) => {
      const hour = i % 24;
      const swing = Math.floor(i / WEEK_HOURS) % 2 === 0 ? 1.2 : 0.8;
      return shape(i) * (hour >= 8 && hour < 18 ? swing : 1);
    });
    const b = seasonalBaseline(values, t, 0, OPTIONS)!;
    expect(b.expected).toBeCloseTo(10, 12);
    // Weekly samples 12, 8, 12, 8: each is 4 off the median of the other three (weekends 1), so
    // the leave-one-out MAD is 4. Against a median that includes the sample it would be 2.
    expect(b.scale).toBeCloseTo(1.4826 * 4, 10);
  });

  it('falls back to the 90th percentile of the recent hours for a young series', () => {
    const firstSeen = t - 48;
    const values = weeks((i) => (i < firstSeen ? 0 : shape(i)));
    const b = seasonalBaseline(values, t, firstSeen, OPTIONS)!;
    expect(b.method).toBe('recent');
    // 24 recent hours: 10 office hours at 10, 14 others at 1 → p90 is the office level.
    expect(b.expected).toBe(10);
    // Day and night mix: MAD is 0 (the median hour is a night), so 5% of the level rules.
    expect(b.scale).toBe(0.5);
  });

  it('is learning (null) until a series has `recentHours` hours of history', () => {
    const values = weeks((i) => shape(i));
    expect(seasonalBaseline(values, t, t - 23, OPTIONS)).toBeNull();
    expect(seasonalBaseline(values, t, t - 24, OPTIONS)?.method).toBe('recent');
    // A series that existed `weeks` weeks ago is mature.
    expect(seasonalBaseline(values, t, t - 4 * WEEK_HOURS, OPTIONS)?.method).toBe('seasonal');
    expect(seasonalBaseline(values, t, t - 4 * WEEK_HOURS + 1, OPTIONS)?.method).toBe('recent');
  });

  it('gives a flat, empty series the floor as its scale', () => {
    const b = seasonalBaseline(
      weeks(() => 0),
      t,
      0,
      OPTIONS,
    )!;
    expect(b).toEqual({ expected: 0, scale: 1 / 3, method: 'seasonal', excluded: 0 });
  });
});

describe('ratioBaseline', () => {
  // Hourly tokens per request around 1000, from 40 requests an hour.
  const hours = Array.from({ length: 30 }, (_, i) => ({
    numerator: 40_000 * (1 + 0.02 * Math.sin(i)),
    denominator: 40,
  }));
  const options = { minSamples: 24, floor: 0, excludeScore: 2 } as const;

  it('pools the kept hours (Σ numerator ÷ Σ denominator), leaving out excursions in the watched direction', () => {
    const withSpikes = [...hours, { numerator: 120_000, denominator: 40 }, { numerator: 30_000, denominator: 10 }];
    const up = ratioBaseline(withSpikes, { ...options, direction: 'up' })!;
    expect(up.excluded).toBe(2);
    const sum = hours.reduce((a, h) => a + h.numerator, 0);
    expect(up.expected).toBeCloseTo(sum / (40 * 30), 9);
    expect(up.method).toBe('level');
    // Watching drops, the high hours stay in (and lift the pooled level).
    const down = ratioBaseline(withSpikes, { ...options, direction: 'down' })!;
    expect(down.excluded).toBe(0);
    expect(down.expected).toBeCloseTo((sum + 150_000) / (40 * 31 + 10), 9);
  });

  it('weighs hours by their denominator, unlike a median of hourly ratios', () => {
    // Busy hours at 1000 tokens per request, quiet hours at 2000: the level is the traffic's.
    const mixed = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0 ? { numerator: 20_000, denominator: 10 } : { numerator: 100_000, denominator: 100 },
    );
    const b = ratioBaseline(mixed, { ...options, excludeScore: 100, direction: 'up' })!;
    expect(b.expected).toBeCloseTo((10 * 20_000 + 20 * 100_000) / (10 * 10 + 20 * 100), 9);
  });

  it('has no baseline with too few samples', () => {
    expect(ratioBaseline(hours.slice(0, 10), { ...options, direction: 'up' })).toBeNull();
  });
});
