/**
 * `token_inflation`: a prompt change, a runaway context or a chattier model makes each request
 * carry more tokens, which raises spend without more traffic and hides from request-count alerts.
 *
 * Series: every tenant, tenant × feature and tenant × model. For the last complete hour (with at
 * least `inflation.min_requests` requests) two ratios are compared with their level over the
 * previous 7 days (robust.ts levelBaseline: median of the hourly ratios of hours with at least a
 * quarter of `min_requests`, earlier inflated hours left out):
 * - tokens per request (all token buckets);
 * - input ÷ output tokens — prompts growing while answers do not. Only counted while tokens per
 *   request did not fall: a higher ratio from shorter answers is not inflation.
 * A ratio inflates when it is ≥ `inflation.factor` × its baseline AND its robust score is ≥
 * `anomaly.ticket_score` (so a naturally jumpy ratio needs more than the factor).
 *
 * Severity is ticket — a prompt change is a code review matter, not a 3 a.m. one — unless it is
 * extreme: ≥ factor² × baseline, score ≥ `anomaly.page_score`, and the extra tokens cost at least
 * `anomaly.min_impact_usd` in the hour. One finding per tenant (leading.ts), ranked by the extra
 * tokens each scope carries.
 *
 * Seven days, not the seasonal weeks: ratios have little daily shape, and a deliberate change
 * should become the new normal within days (the alert resolves when the median moves, ~3.5 days)
 * rather than stay open for weeks.
 */
import { INPUT_BUCKETS, OUTPUT_BUCKETS, TOKEN_BUCKETS } from '../../usage/index.js';
import type { Detector } from '../detect.js';
import { levelBaseline, robustScore, type Baseline } from '../robust.js';
import {
  countText,
  describeScope,
  hourlyRatios,
  hourLabel,
  MIN_BASELINE_HOURS,
  RATIO_BANDS,
  readSeries,
  dailyBands,
  sumBuckets,
  usdText,
  type HourlySeries,
  type SeriesDim,
  type SeriesWindow,
} from '../series.js';
import type { Finding, Severity } from '../types.js';
import { leadingByTenant, type Candidate } from './leading.js';

export const INFLATION_DIMS: readonly SeriesDim[] = ['tenant', 'feature', 'model'];

type Metric = 'tokens_per_request' | 'input_output_ratio';

interface Inflated extends Candidate {
  metric: Metric;
  value: number;
  baseline: Baseline;
  score: number;
  requests: number;
  extraUsd: number;
}

interface Settings {
  factor: number;
  minRequests: number;
  ticketScore: number;
  pageScore: number;
  minImpactUsd: number;
}

function inflation(series: HourlySeries, t: number, cfg: Settings): Inflated | null {
  const n = series.requests[t]!;
  if (n < cfg.minRequests) return null;
  const total = sumBuckets(series, TOKEN_BUCKETS);
  const input = sumBuckets(series, INPUT_BUCKETS);
  const output = sumBuckets(series, OUTPUT_BUCKETS);
  const minHour = Math.ceil(cfg.minRequests / 4);
  const level = (samples: number[]): Baseline | null =>
    levelBaseline(samples, {
      minSamples: MIN_BASELINE_HOURS,
      floor: 0,
      excludeScore: cfg.ticketScore,
      direction: 'up',
    });

  const tprBase = level(hourlyRatios(total, series.requests, series.requests, minHour, t));
  if (tprBase === null || tprBase.expected <= 0) return null;
  const tpr = total[t]! / n;
  const inflated = (value: number, base: Baseline): number | null => {
    const score = robustScore(value, base.expected, base.scale);
    return value >= cfg.factor * base.expected && score >= cfg.ticketScore ? score : null;
  };

  let metric: Metric = 'tokens_per_request';
  let value = tpr;
  let base = tprBase;
  let score = inflated(tpr, tprBase);
  if (score === null && output[t]! > 0 && tpr >= tprBase.expected) {
    const ioBase = level(hourlyRatios(input, output, series.requests, minHour, t));
    if (ioBase !== null && ioBase.expected > 0) {
      metric = 'input_output_ratio';
      value = input[t]! / output[t]!;
      base = ioBase;
      score = inflated(value, ioBase);
    }
  }
  if (score === null) return null;
  // The share of this hour's tokens (and, roughly, cost) that the inflation added.
  const extraShare = 1 - base.expected / value;
  const extraTokens = (metric === 'tokens_per_request' ? total[t]! : input[t]!) * extraShare;
  const extraUsd = series.cost[t]! * extraShare;
  const extreme =
    value >= cfg.factor * cfg.factor * base.expected && score >= cfg.pageScore && extraUsd >= cfg.minImpactUsd;
  const severity: Severity = extreme ? 'page' : 'ticket';
  return {
    scope: series.scope,
    excess: extraTokens,
    size: total[t]!,
    severity,
    metric,
    value,
    baseline: base,
    score,
    requests: n,
    extraUsd,
  };
}

function summary(lead: Inflated, window: SeriesWindow): string {
  const what = lead.metric === 'tokens_per_request' ? 'Tokens per request' : 'Input/output token ratio';
  const fmt = (v: number): string => (lead.metric === 'tokens_per_request' ? countText(v) : v.toFixed(2));
  return (
    `${what} of ${describeScope(lead.scope)}: ${fmt(lead.value)} in ${hourLabel(window)} over ` +
    `${countText(lead.requests)} requests vs ${fmt(lead.baseline.expected)} over the last 7 days ` +
    `(×${(lead.value / lead.baseline.expected).toFixed(2)}, score ${lead.score.toFixed(1)}, ` +
    `~${usdText(lead.extraUsd)} extra this hour)`
  );
}

/** token_inflation as of ctx.at (the last complete hour before it). */
export const tokenInflationDetector: Detector = async (ctx) => {
  const window = dailyBands(ctx.at, RATIO_BANDS);
  const t = window.hours - 1;
  const settings: Settings = {
    factor: ctx.config.inflation.factor,
    minRequests: ctx.config.inflation.min_requests,
    ticketScore: ctx.config.anomaly.ticket_score,
    pageScore: ctx.config.anomaly.page_score,
    minImpactUsd: Number(ctx.config.anomaly.min_impact_usd),
  };
  const found: Inflated[] = [];
  for (const dim of INFLATION_DIMS) {
    for (const series of await readSeries(ctx.store, window, dim)) {
      const f = inflation(series, t, settings);
      if (f !== null) found.push(f);
    }
  }
  return leadingByTenant(found).map(({ lead, severity, alsoSeen }): Finding => ({
    kind: 'token_inflation',
    severity,
    scope: lead.scope,
    summary:
      summary(lead, window) +
      (alsoSeen.length > 0 ? `; also seen in ${alsoSeen.map((c) => describeScope(c.scope)).join('; ')}` : ''),
    value: lead.value,
    baseline: lead.baseline.expected,
  }));
};
