/**
 * Hourly series for the statistical detectors: per scope (a tenant, or a tenant × one project,
 * model, feature or key), dense arrays of the cost, requests and tokens of each hour in a window
 * that ends at the top of the hour before `at`.
 *
 * Why whole hours only: the detectors score the last *complete* hour. A partial hour scored pro
 * rata extrapolates its first minutes (×12 at 5 past), so one large request or a bursty minute
 * would page; within-hour traffic is not uniform either (batch jobs start on the hour). Waiting
 * for the hour to close costs at most an hour of detection delay, which the hourly seasonal
 * baseline has anyway, and keeps every read on rollup_hourly (no raw-event edges).
 *
 * Why bands: a seasonal baseline needs five weeks of history but only the hours near the scored
 * hour of day. On the 10M-event seed ledger (SQLite, 1.65M rollup_hourly rows in five weeks),
 * `queryCosts` grouped by hour × tenant over all 840 hours took 5.6 s and by hour × tenant × key
 * ~25 s — the cost is per rollup row read, not per query. A window of `dailyBands` reads the
 * scored hour ±1 on each past day plus the recent hours: ~15% of the rows, in one `queryCosts`
 * per band and dimension (never per series). Hours outside the bands are NaN in every array, so
 * an unread hour cannot pass for a quiet one.
 */
import type { GroupKey, Store } from '../ledger/index.js';
import { NANO_PER_USD } from '../money.js';
import type { Bucket } from '../usage/index.js';
import type { RatioSample } from './robust.js';
import type { AlertScope } from './types.js';

export const HOUR_MS = 3_600_000;

/** What a series is cut by: the tenant alone, or the tenant and one other dimension. */
export type SeriesDim = 'tenant' | 'project' | 'model' | 'feature' | 'key';

/** A range of hour indexes [from, to) of a window. */
export type HourRange = readonly [from: number, to: number];

/**
 * [startMs, endMs) in whole hours; the last hour, index `hours - 1`, is the one scored. Only the
 * hours in `ranges` (sorted, disjoint) are read.
 */
export interface SeriesWindow {
  startMs: number;
  endMs: number;
  hours: number;
  ranges: readonly HourRange[];
}

export interface HourlySeries {
  /** `{tenant}` or `{tenant, <dim>}`. */
  scope: AlertScope;
  /**
   * USD of the events' own (list) cost per hour. Adjustments are left out on purpose: a credit or
   * a repricing run dated into one hour is accounting, not a change in usage.
   */
  cost: Float64Array;
  requests: Float64Array;
  /** Tokens per bucket; only buckets the series ever used are present. */
  tokens: Partial<Record<Bucket, Float64Array>>;
  /** Index of the first hour with a request in the window (`hours` when none). */
  firstSeen: number;
}

/** Start (ms) of the last complete hour before `at`: the hour the detectors score. */
export function scoredHourStart(at: Date): number {
  return Math.floor(at.getTime() / HOUR_MS) * HOUR_MS - HOUR_MS;
}

/** The `hours` whole hours ending where the scored hour ends, all read. */
export function seriesWindow(at: Date, hours: number): SeriesWindow {
  const endMs = scoredHourStart(at) + HOUR_MS;
  return { startMs: endMs - hours * HOUR_MS, endMs, hours, ranges: [[0, hours]] };
}

export interface BandOptions {
  /** Past days whose band is read (day d: the scored hour − 24·d). */
  days: number;
  /** Hours either side of the scored hour of day in each band. */
  halfWidth: number;
  /** Contiguous hours before the scored hour that are read as well (0: none). */
  recentHours: number;
}

/**
 * The scored hour, the `recentHours` before it, and the hours within `halfWidth` of the scored
 * hour of day on each of the last `days` days.
 */
export function dailyBands(at: Date, options: BandOptions): SeriesWindow {
  const { days, halfWidth, recentHours } = options;
  const hours = Math.max(days * 24 + halfWidth + 1, recentHours + 1);
  const base = seriesWindow(at, hours);
  const t = hours - 1;
  const raw: Array<[number, number]> = [[t - recentHours, t + 1]];
  for (let d = 1; d <= days; d++) raw.push([t - 24 * d - halfWidth, t - 24 * d + halfWidth + 1]);
  raw.sort((a, b) => a[0] - b[0]);
  const ranges: Array<[number, number]> = [];
  for (const [from, to] of raw) {
    const last = ranges[ranges.length - 1];
    const a = Math.max(0, from);
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], to);
    else ranges.push([a, to]);
  }
  return { ...base, ranges };
}

/** `YYYY-MM-DD HH:00–HH:00 UTC` of the last `hours` hours of a window (the scored hour by default). */
export function hourLabel(window: Pick<SeriesWindow, 'endMs'>, hours = 1): string {
  const start = new Date(window.endMs - hours * HOUR_MS).toISOString();
  return `${start.slice(0, 10)} ${start.slice(11, 13)}:00–${new Date(window.endMs).toISOString().slice(11, 13)}:00 UTC`;
}

const NANO_PER_USD_NUMBER = Number(NANO_PER_USD);

/** NaN outside the window's ranges, 0 inside: every array of a series starts as a copy. */
function blank(window: SeriesWindow): Float64Array {
  const out = new Float64Array(window.hours).fill(Number.NaN);
  for (const [from, to] of window.ranges) out.fill(0, from, to);
  return out;
}

/**
 * Every series of one dimension over `window`, each a dense array per measure (read hours without
 * requests are 0, unread hours NaN). Series whose dimension value is null (no project, no feature,
 * no key) are left out: the tenant series already holds them, and a scope cannot name "no feature".
 */
export async function readSeries(
  store: Store,
  window: SeriesWindow,
  dim: SeriesDim,
  filter: Partial<Record<GroupKey, string>> = {},
): Promise<HourlySeries[]> {
  const groupBy: GroupKey[] = dim === 'tenant' ? ['hour', 'tenant'] : ['hour', 'tenant', dim];
  const template = blank(window);
  const series = new Map<string, HourlySeries>();
  // Hour labels repeat across every series: parse each once.
  const hourIndex = new Map<string, number>();
  for (const [from, to] of window.ranges) {
    const rows = await store.queryCosts({
      from: new Date(window.startMs + from * HOUR_MS),
      to: new Date(window.startMs + to * HOUR_MS),
      groupBy,
      filter,
    });
    for (const row of rows) {
      const tenant = row.keys.tenant;
      const value = dim === 'tenant' ? tenant : row.keys[dim];
      const hour = row.keys.hour;
      if (tenant == null || value == null || hour == null) continue;
      let index = hourIndex.get(hour);
      if (index === undefined) {
        index = Math.round((Date.parse(hour) - window.startMs) / HOUR_MS);
        hourIndex.set(hour, index);
      }
      if (index < from || index >= to) continue;
      const id = dim === 'tenant' ? tenant : `${tenant}\u0000${value}`;
      let s = series.get(id);
      if (s === undefined) {
        s = {
          scope: dim === 'tenant' ? { tenant } : { tenant, [dim]: value },
          cost: template.slice(),
          requests: template.slice(),
          tokens: {},
          firstSeen: window.hours,
        };
        series.set(id, s);
      }
      // Hourly cost of one scope stays far below 2^53 nano-USD ($9M), so Number is exact here.
      s.cost[index]! += Number(row.cost_nano) / NANO_PER_USD_NUMBER;
      s.requests[index]! += row.requests;
      for (const [bucket, n] of Object.entries(row.tokens) as Array<[Bucket, number]>) {
        (s.tokens[bucket] ??= template.slice())[index]! += n;
      }
      if (row.requests > 0 && index < s.firstSeen) s.firstSeen = index;
    }
  }
  return [...series.values()];
}

/** Element-wise sum of some token buckets of a series (absent buckets are 0, unread hours NaN). */
export function sumBuckets(series: HourlySeries, buckets: readonly Bucket[]): Float64Array {
  const out = series.requests.map((v) => (Number.isNaN(v) ? Number.NaN : 0));
  for (const bucket of buckets) {
    const values = series.tokens[bucket];
    if (values === undefined) continue;
    for (let i = 0; i < out.length; i++) out[i]! += values[i]!;
  }
  return out;
}

/** `tenant acme, feature search` — how summaries name a scope. */
export function describeScope(scope: AlertScope): string {
  return Object.entries(scope)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
}

/** `$12.34` (cents; sub-cent amounts keep 4 decimals so a tiny series still reads). */
export function usdText(usd: number): string {
  return `$${Math.abs(usd) >= 1 || usd === 0 ? usd.toFixed(2) : usd.toFixed(4)}`;
}

/** `1,234,567` tokens (rounded). */
export function countText(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `+412%` / `-38%` of a baseline; `new` when the baseline is 0. */
export function changeText(value: number, baseline: number): string {
  if (baseline === 0) return value === 0 ? '+0%' : 'new';
  const pct = ((value - baseline) / baseline) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(0)}%`;
}

/**
 * Ratio baselines (tokens per request, cache-hit share) are the hours within ±1 of the scored
 * hour of day on each of the last 7 days: the same time of day, because a tenant's mix of
 * features (and so its ratios) changes between day and night; 7 days, because a deliberate
 * change should become the new normal within days rather than stay open for weeks. The hour
 * before the scored one is read too: the ratio detectors want two hours in a row.
 */
export const RATIO_BANDS: BandOptions = { days: 7, halfWidth: 1, recentHours: 1 };
/** Fewer qualifying history hours than this (of 21): a ratio has no baseline yet (learning). */
export const MIN_BASELINE_HOURS = 10;

/**
 * numerator and denominator of each hour before `end` that had at least `minRequests` requests
 * and a positive denominator: the samples a ratio's baseline is made of. Hours with a handful of
 * requests are left out, their ratios are noise; unread hours (NaN) never qualify.
 */
export function ratioSamples(
  numerator: ArrayLike<number>,
  denominator: ArrayLike<number>,
  requests: ArrayLike<number>,
  minRequests: number,
  end: number,
): RatioSample[] {
  const out: RatioSample[] = [];
  for (let i = 0; i < end; i++) {
    if (requests[i]! >= minRequests && denominator[i]! > 0) {
      out.push({ numerator: numerator[i]!, denominator: denominator[i]! });
    }
  }
  return out;
}
