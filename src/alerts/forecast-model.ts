/**
 * @module
 * The statistics of the month-end forecast (reference §(d)), on a plain hourly series so they can
 * be tested without a ledger. Amounts are floats of nano-USD: a forecast is an estimate, and
 * forecast.ts turns it back into exact money at the edge.
 *
 * - **seasonal** (a series with ≥ 2 weeks of history): each remaining hour expects the median of
 *   the same hour of the week over the last (up to) 4 weeks, × a level factor: the last 14 days'
 *   actual ÷ what those medians predicted for them, clamped 0.5–2×. No trend term: in the
 *   backtest (benchmarks/forecast-backtest.mjs, ablation table) a Theil–Sen slope of weekly
 *   totals and a log-linear fit used only when significant both raised the MAPE — a trend fitted to 4–5 noisy weeks and extrapolated over the rest of a month adds
 *   more error than the lag of a 14-day level removes. 14 days beat 7 and tied 28 (the shorter
 *   follows a launch or a decline sooner).
 * - **run_rate** (younger series): the mean hourly spend since the series began, flat.
 * - **interval** (80%, P10–P90): σ of one day's spend around the model = 1.4826 × MAD of past
 *   daily residuals (24-hour blocks ending at the last complete hour: actual − the model's
 *   in-sample expectation). The remaining n days get ± 1.28 σ √(n (1 + n / k)): √n for days that
 *   err independently, and n/k for the error of the level itself, which every remaining day
 *   shares (k = days behind the level: 7 for seasonal — the 14-day level plus the 4-week medians'
 *   own noise, calibrated on the backtest, where plain √n covered about half the outcomes —, the
 *   history's length for run_rate). It is 0 when nothing remains.
 */
import { mad, MAD_TO_SIGMA, median } from './robust.js';

export const HOUR_MS = 3_600_000;
const DAY_H = 24;
const WEEK_H = 168;
/** Weeks of the same hour-of-week in the seasonal median. */
export const SEASON_WEEKS = 4;
/** Hours of history a series needs for the seasonal method. */
export const YOUNG_HOURS = 2 * WEEK_H;
/** Hours of the level factor's window. */
export const LEVEL_HOURS = 14 * DAY_H;
/** Hours of history the forecast reads: the level's window, each hour with its seasonal weeks behind it. */
export const LOOKBACK_HOURS = LEVEL_HOURS + SEASON_WEEKS * WEEK_H;
const LEVEL_MIN = 0.5;
const LEVEL_MAX = 2;
/** Days of data the seasonal level error behaves as if estimated from (see the module notes). */
const SEASONAL_LEVEL_DAYS = 7;
/** z of a two-sided 80% normal interval (P10–P90). */
export const Z80 = 1.28;

export interface HourlySeries {
  /** Start (ms) of hours[0], a whole hour. */
  startMs: number;
  /** Spend of complete hours: hours[i] covers [startMs + i h, startMs + (i+1) h); the last ends at floorHour(at). */
  hours: readonly number[];
  /** Spend in [floorHour(at), at). */
  partial: number;
  atMs: number;
}

export interface Segment {
  fromMs: number;
  toMs: number;
  nano: number;
}

export type ForecastMethod = 'seasonal' | 'run_rate';

export interface SpendModel {
  method: ForecastMethod;
  /** Expected spend over [at, endMs), hour by hour, in order. */
  segments: Segment[];
  /** σ of one day's spend around the model (nano-USD). */
  sigmaDay: number;
  /** Days of data behind the model's level: its error, shared by every remaining day, shrinks with them. */
  levelDays: number;
}

/** 1.4826 × the median absolute deviation: σ of normal data, robust to a few wild days. */
export function robustSigma(values: readonly number[]): number {
  return MAD_TO_SIGMA * mad(values);
}

/** Index of the first hour with spend (hours.length when only the partial hour has some); null when none. */
export function firstActive(series: HourlySeries): number | null {
  const i = series.hours.findIndex((x) => x !== 0);
  if (i >= 0) return i;
  return series.partial !== 0 ? series.hours.length : null;
}

/**
 * Median of the same hour-of-week in the most recent (up to SEASON_WEEKS) complete past weeks at
 * or after `first`; for a future hour the lags start at the first one in the past. null if none.
 */
export function seasonalMedian(series: HourlySeries, index: number, first: number): number | null {
  const n = series.hours.length;
  const lags: number[] = [];
  for (let k = Math.max(1, Math.ceil((index - (n - 1)) / WEEK_H)); lags.length < SEASON_WEEKS; k++) {
    const lag = index - k * WEEK_H;
    if (lag < first || lag < 0) break;
    lags.push(series.hours[lag]!);
  }
  return lags.length === 0 ? null : median(lags);
}

/** Last 14 days' actual spend ÷ their seasonal expectation, clamped to 0.5–2×. */
export function levelFactor(series: HourlySeries, first: number): number {
  const n = series.hours.length;
  let actual = 0;
  let expected = 0;
  for (let i = Math.max(first, n - LEVEL_HOURS); i < n; i++) {
    const m = seasonalMedian(series, i, first);
    if (m === null) continue;
    actual += series.hours[i]!;
    expected += m;
  }
  if (expected <= 0) return actual > 0 ? LEVEL_MAX : 1;
  return Math.min(LEVEL_MAX, Math.max(LEVEL_MIN, actual / expected));
}

/** Expected spend per remaining hour, as segments clipped to [at, endMs). */
function segments(series: HourlySeries, endMs: number, perHour: (index: number) => number): Segment[] {
  const out: Segment[] = [];
  const n = series.hours.length;
  for (let index = n; ; index++) {
    const hourStart = series.startMs + index * HOUR_MS;
    if (hourStart >= endMs) break;
    const fromMs = Math.max(series.atMs, hourStart);
    const toMs = Math.min(endMs, hourStart + HOUR_MS);
    if (toMs > fromMs) out.push({ fromMs, toMs, nano: (perHour(index) * (toMs - fromMs)) / HOUR_MS });
  }
  return out;
}

/** σ of a day from the residuals of 24-hour blocks ending at the last complete hour. */
function dailySigma(series: HourlySeries, oldest: number, expected: (index: number) => number): number | null {
  const residuals: number[] = [];
  for (let end = series.hours.length; end - DAY_H >= oldest; end -= DAY_H) {
    let r = 0;
    for (let i = end - DAY_H; i < end; i++) r += series.hours[i]! - expected(i);
    residuals.push(r);
  }
  return residuals.length < 2 ? null : robustSigma(residuals);
}

/** The expected spend of [at, endMs) and its daily uncertainty, from the history before `at`. */
export function modelSpend(series: HourlySeries, endMs: number): SpendModel {
  const n = series.hours.length;
  const first = firstActive(series);
  if (first === null)
    return { method: 'run_rate', segments: segments(series, endMs, () => 0), sigmaDay: 0, levelDays: 1 };
  const firstMs = series.startMs + first * HOUR_MS;
  if (series.atMs - firstMs < YOUNG_HOURS * HOUR_MS) {
    // Mean hourly spend since the series began (at most the lookback: older series are seasonal).
    let total = series.partial;
    for (let i = first; i < n; i++) total += series.hours[i]!;
    const historyMs = series.atMs - firstMs;
    const perHour = (total * HOUR_MS) / historyMs;
    // Too few whole days to measure the spread: assume a day may differ by its whole mean.
    const sigmaDay = dailySigma(series, first, () => perHour) ?? perHour * DAY_H;
    const levelDays = historyMs / (DAY_H * HOUR_MS);
    return { method: 'run_rate', segments: segments(series, endMs, () => perHour), sigmaDay, levelDays };
  }
  const level = levelFactor(series, first);
  const perHour = (index: number): number => Math.max(0, (seasonalMedian(series, index, first) ?? 0) * level);
  // In-sample: blocks whose every hour has at least one week of lag.
  const sigmaDay = dailySigma(series, first + WEEK_H, (i) => seasonalMedian(series, i, first) ?? 0) ?? 0;
  return {
    method: 'seasonal',
    segments: segments(series, endMs, perHour),
    sigmaDay,
    levelDays: SEASONAL_LEVEL_DAYS,
  };
}

/**
 * Half-width of the 80% interval for what remains of [at, endMs): independent daily errors (√n)
 * plus the level's error, common to all n days (n/k).
 */
export function halfWidth(model: Pick<SpendModel, 'sigmaDay' | 'levelDays'>, atMs: number, endMs: number): number {
  const days = Math.max(0, endMs - atMs) / (DAY_H * HOUR_MS);
  return Z80 * model.sigmaDay * Math.sqrt(days * (1 + days / Math.max(model.levelDays, 1 / DAY_H)));
}

/**
 * The first instant cumulative spend reaches `limit` walking `segments` from `cumulative`
 * (linear within a segment); null if it never does.
 */
export function crossing(segments: readonly Segment[], cumulative: number, limit: number): number | null {
  let cum = cumulative;
  if (cum >= limit) return segments[0]?.fromMs ?? null;
  for (const s of segments) {
    if (s.nano > 0 && cum + s.nano >= limit) {
      return s.fromMs + Math.round(((limit - cum) / s.nano) * (s.toMs - s.fromMs));
    }
    cum += s.nano;
  }
  return null;
}
