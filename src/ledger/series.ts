import { PertokenError } from '../errors.js';
import { formatUsd } from '../pricing/index.js';
import { isTimeZone } from '../time-zone.js';
import { OUTPUT_BUCKETS, TOKEN_BUCKETS, bucketsTotal } from '../usage/index.js';
import { parseGroupBy } from './query-params.js';
import { DAY_MS, HOUR_MS, floorTo } from './rollups.js';
import type { CostQuery, CostRow, GroupKey } from './types.js';

/**
 * Bucketed time series for charts (GET /api/v1/timeseries): the cost query grouped by hour or day
 * (and at most one dimension), zero-filled so every series has one point per bucket, the groups
 * beyond `top` folded into one "other" series. Day buckets follow a time zone: whole UTC days read
 * the daily rollup; another zone folds hourly rows into its local days (an hour lands in the day
 * its start falls in, which for zones offset by a half hour shifts that half hour to the day before).
 */

export type SeriesStep = 'hour' | 'day';

export interface SeriesQuery {
  from: Date;
  to: Date;
  step: SeriesStep;
  /** IANA zone of day buckets (hour buckets are the same instants in every zone). */
  tz: string;
  groupBy: GroupKey | null;
  filter: CostQuery['filter'];
  /** Groups kept by total cost; the rest are summed into "other". */
  top: number;
}

/** More points than any chart draws; past it the caller is told to take a coarser step. */
export const MAX_SERIES_POINTS = 10_000;

export interface SeriesLineJson {
  [key: string]: unknown;
  /** True for the series that sums the groups beyond `top`. */
  other: boolean;
  /** How many groups this series sums (1, or more for "other"). */
  groups: number;
  requests: number[];
  tokens: number[];
  output_tokens: number[];
  /** Net cost per bucket (list + adjustments), 9-decimal USD strings like every money field. */
  cost_usd: string[];
  unpriced_requests: number[];
  estimated_requests: number[];
}

export interface SeriesJson {
  from: string;
  to: string;
  step: SeriesStep;
  tz: string;
  group_by: GroupKey | null;
  currency: 'USD';
  /** Start of each bucket, ISO 8601 UTC; every series has one value per timestamp. */
  timestamps: string[];
  series: SeriesLineJson[];
  totals: { requests: number; tokens: number; output_tokens: number; cost_usd: string };
}

/** The cost query a series is answered from. */
export function seriesCostQuery(q: SeriesQuery): CostQuery {
  const time: GroupKey = q.step === 'day' && q.tz === 'UTC' ? 'day' : 'hour';
  return { from: q.from, to: q.to, groupBy: q.groupBy ? [time, q.groupBy] : [time], filter: q.filter };
}

/** Bucket starts (ms) covering [from, to), and a function from an hour or day label to its bucket. */
export function seriesBuckets(q: SeriesQuery): { starts: number[]; bucketOf: (label: string) => number } {
  if (q.step === 'hour' || q.tz === 'UTC') {
    const unit = q.step === 'hour' ? HOUR_MS : DAY_MS;
    const first = floorTo(q.from.getTime(), unit);
    const count = Math.ceil((q.to.getTime() - first) / unit);
    guardPoints(count);
    return {
      starts: Array.from({ length: count }, (_, i) => first + i * unit),
      bucketOf: (label) => floorTo(Date.parse(label.length === 10 ? `${label}T00:00:00Z` : label), unit),
    };
  }
  const localDay = dayFormatter(q.tz);
  const startOfDay = new Map<string, number>();
  const first = floorTo(q.from.getTime(), HOUR_MS);
  guardPoints(Math.ceil((q.to.getTime() - first) / DAY_MS));
  for (let ms = first; ms < q.to.getTime(); ms += HOUR_MS) {
    const day = localDay.format(ms);
    if (!startOfDay.has(day)) startOfDay.set(day, ms);
  }
  return {
    starts: [...startOfDay.values()],
    bucketOf: (label) => startOfDay.get(localDay.format(Date.parse(label))) ?? Number.NaN,
  };
}

function guardPoints(count: number): void {
  if (count > MAX_SERIES_POINTS)
    throw new PertokenError(
      'invalid_request',
      `the range holds ${count} buckets of this step, more than ${MAX_SERIES_POINTS}; use step=day or a shorter range`,
      { param: 'step' },
    );
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function dayFormatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(tz, f);
  }
  return f;
}

interface Line {
  key: string | null;
  cost: bigint;
  requests: number[];
  tokens: number[];
  output: number[];
  cost_nano: bigint[];
  unpriced: number[];
  estimated: number[];
  groups: number;
}

function newLine(key: string | null, points: number): Line {
  return {
    key,
    cost: 0n,
    groups: 1,
    requests: new Array<number>(points).fill(0),
    tokens: new Array<number>(points).fill(0),
    output: new Array<number>(points).fill(0),
    cost_nano: new Array<bigint>(points).fill(0n),
    unpriced: new Array<number>(points).fill(0),
    estimated: new Array<number>(points).fill(0),
  };
}

function addInto(target: Line, source: Line): void {
  for (let i = 0; i < target.requests.length; i++) {
    target.requests[i] = (target.requests[i] ?? 0) + (source.requests[i] ?? 0);
    target.tokens[i] = (target.tokens[i] ?? 0) + (source.tokens[i] ?? 0);
    target.output[i] = (target.output[i] ?? 0) + (source.output[i] ?? 0);
    target.cost_nano[i] = (target.cost_nano[i] ?? 0n) + (source.cost_nano[i] ?? 0n);
    target.unpriced[i] = (target.unpriced[i] ?? 0) + (source.unpriced[i] ?? 0);
    target.estimated[i] = (target.estimated[i] ?? 0) + (source.estimated[i] ?? 0);
  }
  target.cost += source.cost;
}

/** Shapes the cost rows of seriesCostQuery into SeriesJson. */
export function presentSeries(q: SeriesQuery, rows: readonly CostRow[]): SeriesJson {
  const { starts, bucketOf } = seriesBuckets(q);
  const index = new Map(starts.map((ms, i) => [ms, i]));
  const timeKey: GroupKey = q.step === 'day' && q.tz === 'UTC' ? 'day' : 'hour';
  const lines = new Map<string | null, Line>();
  for (const row of rows) {
    const i = index.get(bucketOf(String(row.keys[timeKey] ?? '')));
    if (i === undefined) continue;
    const key = q.groupBy ? (row.keys[q.groupBy] ?? null) : null;
    let line = lines.get(key);
    if (!line) lines.set(key, (line = newLine(key, starts.length)));
    const net = row.net_nano;
    line.requests[i] = (line.requests[i] ?? 0) + row.requests;
    line.tokens[i] = (line.tokens[i] ?? 0) + bucketsTotal(row.tokens, TOKEN_BUCKETS);
    line.output[i] = (line.output[i] ?? 0) + bucketsTotal(row.tokens, OUTPUT_BUCKETS);
    line.cost_nano[i] = (line.cost_nano[i] ?? 0n) + net;
    line.unpriced[i] = (line.unpriced[i] ?? 0) + row.unpriced_requests;
    line.estimated[i] = (line.estimated[i] ?? 0) + row.estimated_requests;
    line.cost += net;
  }

  const ranked = [...lines.values()].sort((a, b) =>
    a.cost === b.cost ? sumOf(b.requests) - sumOf(a.requests) : a.cost > b.cost ? -1 : 1,
  );
  const kept = ranked.slice(0, q.top);
  const rest = ranked.slice(q.top);
  const out: Array<{ line: Line; other: boolean }> = kept.map((line) => ({ line, other: false }));
  if (rest.length > 0) {
    const other = newLine(null, starts.length);
    other.groups = rest.length;
    for (const line of rest) addInto(other, line);
    out.push({ line: other, other: true });
  }

  let totalCost = 0n;
  let totalRequests = 0;
  let totalTokens = 0;
  let totalOutput = 0;
  for (const { line } of out) {
    totalCost += line.cost;
    totalRequests += sumOf(line.requests);
    totalTokens += sumOf(line.tokens);
    totalOutput += sumOf(line.output);
  }
  return {
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    step: q.step,
    tz: q.tz,
    group_by: q.groupBy,
    currency: 'USD',
    timestamps: starts.map((ms) => new Date(ms).toISOString()),
    series: out.map(({ line, other }) => ({
      // The folded series has no value of its own (null, like /api/v1/costs' other row): `other` marks it.
      ...(q.groupBy ? { [q.groupBy]: other ? null : line.key } : {}),
      other,
      groups: line.groups,
      requests: line.requests,
      tokens: line.tokens,
      output_tokens: line.output,
      cost_usd: line.cost_nano.map(formatUsd),
      unpriced_requests: line.unpriced,
      estimated_requests: line.estimated,
    })),
    totals: {
      requests: totalRequests,
      tokens: totalTokens,
      output_tokens: totalOutput,
      cost_usd: formatUsd(totalCost),
    },
  };
}

function sumOf(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

const STEPS: readonly SeriesStep[] = ['hour', 'day'];
export const DEFAULT_SERIES_TOP = 8;
export const MAX_SERIES_TOP = 50;

/**
 * `step=hour|day` (default: hour for ranges up to three days), `tz=` (IANA, default UTC),
 * `group_by=` one key other than hour/day, `top=` 1–50 (default 8). Range and filters are parsed
 * by the caller as for /api/v1/costs.
 */
export function parseSeriesOptions(
  params: URLSearchParams,
  range: { from: Date; to: Date },
): Pick<SeriesQuery, 'step' | 'tz' | 'groupBy' | 'top'> {
  const rawStep = params.get('step');
  let step: SeriesStep;
  if (rawStep === null || rawStep === '')
    step = range.to.getTime() - range.from.getTime() <= 3 * DAY_MS ? 'hour' : 'day';
  else if ((STEPS as readonly string[]).includes(rawStep)) step = rawStep as SeriesStep;
  else throw new PertokenError('invalid_request', `step must be one of ${STEPS.join(', ')}`, { param: 'step' });

  const tz = params.get('tz') || 'UTC';
  if (!isTimeZone(tz))
    throw new PertokenError('invalid_request', `tz "${tz}" is not an IANA time zone such as Europe/Berlin or UTC`, {
      param: 'tz',
    });

  const keys = parseGroupBy(params.get('group_by'));
  if (keys.length > 1 || keys.some((k) => k === 'hour' || k === 'day'))
    throw new PertokenError(
      'invalid_request',
      'group_by takes one dimension for a time series (the time buckets come from step)',
      { param: 'group_by' },
    );

  const rawTop = params.get('top');
  const top = rawTop === null ? DEFAULT_SERIES_TOP : Number(rawTop);
  if (!Number.isInteger(top) || top < 1 || top > MAX_SERIES_TOP)
    throw new PertokenError('invalid_request', `top must be an integer from 1 to ${MAX_SERIES_TOP}`, { param: 'top' });
  return { step, tz, groupBy: keys[0] ?? null, top };
}
