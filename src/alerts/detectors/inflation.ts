/**
 * `token_inflation`: a prompt change, a runaway context or a chattier model makes each request
 * carry more tokens, which raises spend without more traffic and hides from request-count alerts.
 *
 * Series: every tenant, tenant × feature and tenant × model. Two ratios are compared with their
 * usual level at this time of day (series.ts RATIO_BANDS; robust.ts ratioBaseline: the pooled
 * ratio of the hours within ±1 h of day over the last 7 days, earlier inflated hours left out):
 * - tokens per request (all token buckets);
 * - input ÷ output tokens — prompts growing while answers do not, which tokens per request
 *   hardly shows on answer-heavy calls. Only counted when input tokens per request grew by the
 *   same factor: a higher ratio from shorter answers is not inflation.
 * A ratio inflates when, in EACH of the last two complete hours, it is ≥ `inflation.factor` ×
 * its level with a robust score ≥ `anomaly.ticket_score`, over ≥ `inflation.min_requests`
 * requests. Two hours because request sizes are heavy-tailed: in an hour of 20 requests one
 * long-context call can triple the mean, and on the 10M-event seed ledger (200 tenants, no
 * incidents) the one-hour rule opened ~180 false tokens-per-request tickets a day, the two-hour
 * rule 8. A prompt change persists, so it still shows — two hours after it ships.
 *
 * Severity is ticket — a prompt change is a code review matter, not a 3 a.m. one — unless it is
 * extreme: ≥ factor² × the level, both hours scoring ≥ `anomaly.page_score`, and the extra
 * tokens cost at least `anomaly.min_impact_usd` an hour. One finding per tenant (leading.ts),
 * ranked by the extra tokens each scope carries. `value` and `baseline` are the ratio over the
 * two hours and its usual level; the summary names which ratio.
 */
import { INPUT_BUCKETS, OUTPUT_BUCKETS, TOKEN_BUCKETS } from '../../usage/index.js';
import type { Detector } from '../detect.js';
import { ratioBaseline, robustScore, type Baseline } from '../robust.js';
import {
  countText,
  dailyBands,
  describeScope,
  hourLabel,
  MIN_BASELINE_HOURS,
  RATIO_BANDS,
  ratioSamples,
  readSeries,
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
  /** The lower of the two hours' scores. */
  score: number;
  requests: number;
  extraUsdPerHour: number;
}

interface Settings {
  factor: number;
  minRequests: number;
  ticketScore: number;
  pageScore: number;
  minImpactUsd: number;
}

interface Ratio {
  metric: Metric;
  numerator: Float64Array;
  denominator: Float64Array;
}

function inflation(series: HourlySeries, t: number, cfg: Settings): Inflated | null {
  const hours = [t - 1, t];
  if (hours.some((i) => !(series.requests[i]! >= cfg.minRequests))) return null;
  const total = sumBuckets(series, TOKEN_BUCKETS);
  const input = sumBuckets(series, INPUT_BUCKETS);
  const output = sumBuckets(series, OUTPUT_BUCKETS);
  const baselineOf = (r: Ratio): Baseline | null => {
    const b = ratioBaseline(
      ratioSamples(r.numerator, r.denominator, series.requests, Math.ceil(cfg.minRequests / 4), t - 1),
      { minSamples: MIN_BASELINE_HOURS, floor: 0, excludeScore: cfg.ticketScore, direction: 'up' },
    );
    return b !== null && b.expected > 0 ? b : null;
  };
  /** The lower score of the two hours when both inflated, else null. */
  const inflatedScore = (r: Ratio, base: Baseline): number | null => {
    let lowest = Number.POSITIVE_INFINITY;
    for (const i of hours) {
      if (!(r.denominator[i]! > 0)) return null;
      const value = r.numerator[i]! / r.denominator[i]!;
      const score = robustScore(value, base.expected, base.scale);
      if (value < cfg.factor * base.expected || score < cfg.ticketScore) return null;
      lowest = Math.min(lowest, score);
    }
    return lowest;
  };
  const pooled = (a: Float64Array, b: Float64Array): number => (a[t - 1]! + a[t]!) / (b[t - 1]! + b[t]!);

  const tpr: Ratio = { metric: 'tokens_per_request', numerator: total, denominator: series.requests };
  const tprBase = baselineOf(tpr);
  if (tprBase === null) return null;
  let ratio = tpr;
  let base = tprBase;
  let score = inflatedScore(tpr, tprBase);
  if (score === null) {
    // The input/output ratio also rises when answers get shorter, or when a few long prompts land
    // among output-heavy calls; it counts only when input per request grew by the factor too
    // (on the seed ledger this rule cut false input/output tickets from 36 to 7 a day).
    const io: Ratio = { metric: 'input_output_ratio', numerator: input, denominator: output };
    const inputPerRequest: Ratio = { metric: 'input_output_ratio', numerator: input, denominator: series.requests };
    const ioBase = baselineOf(io);
    const inputBase = baselineOf(inputPerRequest);
    if (ioBase !== null && inputBase !== null && inflatedScore(inputPerRequest, inputBase) !== null) {
      ratio = io;
      base = ioBase;
      score = inflatedScore(io, ioBase);
    }
  }
  if (score === null) return null;
  const value = pooled(ratio.numerator, ratio.denominator);
  // The share of these hours' tokens (and, roughly, cost) that the inflation added.
  const extraShare = 1 - base.expected / value;
  const carried = ratio.metric === 'tokens_per_request' ? total : input;
  const tokens = carried[t - 1]! + carried[t]!;
  const extraUsdPerHour = ((series.cost[t - 1]! + series.cost[t]!) * extraShare) / 2;
  const extreme =
    value >= cfg.factor * cfg.factor * base.expected && score >= cfg.pageScore && extraUsdPerHour >= cfg.minImpactUsd;
  const severity: Severity = extreme ? 'page' : 'ticket';
  return {
    scope: series.scope,
    excess: tokens * extraShare,
    size: total[t - 1]! + total[t]!,
    severity,
    metric: ratio.metric,
    value,
    baseline: base,
    score,
    requests: series.requests[t - 1]! + series.requests[t]!,
    extraUsdPerHour,
  };
}

function summary(lead: Inflated, window: SeriesWindow): string {
  const what = lead.metric === 'tokens_per_request' ? 'Tokens per request' : 'Input/output token ratio';
  const fmt = (v: number): string => (lead.metric === 'tokens_per_request' ? countText(v) : v.toFixed(2));
  return (
    `${what} of ${describeScope(lead.scope)}: ${fmt(lead.value)} in ${hourLabel(window, 2)} over ` +
    `${countText(lead.requests)} requests vs ${fmt(lead.baseline.expected)} usual at this time of day ` +
    `(×${(lead.value / lead.baseline.expected).toFixed(2)}, score ≥ ${lead.score.toFixed(1)} in both hours, ` +
    `~${usdText(lead.extraUsdPerHour)}/h extra)`
  );
}

/** token_inflation as of ctx.at (the last two complete hours before it). */
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
