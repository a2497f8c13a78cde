/**
 * `spend_anomaly` and `token_anomaly`: the last complete hour of every tenant, and of every
 * project, model, feature and key within a tenant, against its seasonal baseline (robust.ts).
 *
 * A series alerts on a spike only (one-sided; a drop is a data-quality or ingestion question) when
 * all three hold, the two-threshold rule of AWS's impact subscriptions:
 * - robust score ≥ `ticket_score` (page at `page_score`);
 * - excess (observed − expected) ≥ `min_impact_usd` per hour (tokens: `min_impact_tokens`);
 * - excess ≥ `min_relative` × expected.
 * The score's scale is never below the absolute floor (robust.ts), so on a flat or tiny series
 * the excess must be `ticket_score` × the floor for a ticket and `page_score` × for a page.
 * A young series (fewer than `weeks` weeks old) is compared with its recent hours and opens a
 * ticket at most: its scale is not seasonal, so its score cannot claim a page's certainty (budget
 * burn-rate and key-abuse alerts page on money and loops meanwhile). Younger than `recent_hours`,
 * a series is still learning and is not scored.
 *
 * One finding per tenant and kind (leading.ts). A token anomaly is reported only for tenants with
 * no spend anomaly in the same evaluation: priced tokens already show as spend, so the token alert
 * is for what spend cannot see (unpriced models, self-hosted pools, near-free models), and one
 * incident should not page twice. It is a ticket at most: on the seed ledger below, token-only
 * anomalies were the only pages of a day without incidents, and nobody should be woken for tokens
 * that cost next to nothing.
 *
 * Both kinds come from one detector because they read the same series: per dimension one query
 * for the scored hour, and — only when some series there is above a floor — one per band of the
 * history (series.ts dailyBands). On the 10M-event seed ledger (SQLite, 200 tenants, a shared
 * 2-core VM) an evaluation took 5-11 s; over a day of hourly evaluations with the default
 * settings it raised no spend alert and 14 token anomalies (now all tickets; the seed has no
 * incidents; per-request token counts are log-normal with σ ≈ 1.2). Raising `min_impact_tokens`
 * to 300k would have left 2.
 */
import { TOKEN_BUCKETS } from '../../usage/index.js';
import type { Detector, DetectContext } from '../detect.js';
import { POOL_HOURS, seasonalBaseline, type Baseline } from '../robust.js';
import {
  changeText,
  countText,
  dailyBands,
  describeScope,
  hourLabel,
  readSeries,
  seriesWindow,
  sumBuckets,
  usdText,
  type HourlySeries,
  type SeriesDim,
  type SeriesWindow,
} from '../series.js';
import type { Finding, Severity } from '../types.js';
import { leadingByTenant, type Candidate, type Leading } from './leading.js';

export const ANOMALY_DIMS: readonly SeriesDim[] = ['tenant', 'project', 'model', 'feature', 'key'];

interface Scored extends Candidate {
  value: number;
  baseline: Baseline;
  score: number;
}

interface Measure {
  kind: 'spend_anomaly' | 'token_anomaly';
  minImpact: number;
  values(series: HourlySeries): ArrayLike<number>;
  text(n: number): string;
  unit: string;
}

/** The scored candidate of one series, or null when it is quiet, learning or below a floor. */
function scoreSeries(series: HourlySeries, t: number, measure: Measure, ctx: DetectContext): Scored | null {
  const cfg = ctx.config.anomaly;
  const values = measure.values(series);
  const x = values[t]!;
  // The excess can never exceed x (an expected value is ≥ 0): skip the baseline work.
  if (x < measure.minImpact || x <= 0) return null;
  const baseline = seasonalBaseline(values, t, series.firstSeen, {
    weeks: cfg.weeks,
    recentHours: cfg.recent_hours,
    floor: measure.minImpact,
    excludeScore: cfg.ticket_score,
  });
  if (baseline === null) return null;
  const excess = x - baseline.expected;
  const score = excess / baseline.scale;
  // Written as "all hold" so that a NaN anywhere (no data) never passes.
  if (!(score >= cfg.ticket_score && excess >= measure.minImpact && excess >= cfg.min_relative * baseline.expected)) {
    return null;
  }
  const severity: Severity = score >= cfg.page_score && baseline.method === 'seasonal' ? 'page' : 'ticket';
  return { scope: series.scope, excess, size: x, severity, value: x, baseline, score };
}

function summary(measure: Measure, found: Leading<Scored>, window: SeriesWindow, weeks: number): string {
  const { lead } = found;
  const what = measure.kind === 'spend_anomaly' ? 'Spend' : 'Tokens';
  const how =
    lead.baseline.method === 'seasonal'
      ? `same hour-of-week over ${weeks} weeks`
      : 'young series: its recent hours, ticket at most';
  let text =
    `${what} of ${describeScope(lead.scope)}: ${measure.text(lead.value)}${measure.unit} in ${hourLabel(window)} ` +
    `vs ${measure.text(lead.baseline.expected)}${measure.unit} expected ` +
    `(${changeText(lead.value, lead.baseline.expected)}, score ${lead.score.toFixed(1)}, ${how})`;
  if (found.alsoSeen.length > 0) {
    text += `; also seen in ${found.alsoSeen
      .slice(0, 3)
      .map((c) => describeScope(c.scope))
      .join('; ')}`;
  }
  if (found.parts.length > 0) {
    text += `; parts: ${found.parts
      .slice(0, 3)
      .map((c) => `${describeScope(c.scope)} +${measure.text(c.excess)}${measure.unit}`)
      .join('; ')}`;
  }
  return text;
}

/** spend_anomaly and token_anomaly as of ctx.at (the last complete hour before it). */
export const anomalyDetector: Detector = async (ctx) => {
  const cfg = ctx.config.anomaly;
  // The seasonal buckets' hours, the young series' recent hours, and one extra week of bands: a
  // series with any request in it is old enough for a seasonal baseline.
  const window = dailyBands(ctx.at, {
    days: (cfg.weeks + 1) * 7,
    halfWidth: POOL_HOURS,
    recentHours: cfg.recent_hours,
  });
  const t = window.hours - 1;
  const spend: Measure = {
    kind: 'spend_anomaly',
    minImpact: Number(cfg.min_impact_usd),
    values: (s) => s.cost,
    text: usdText,
    unit: '/h',
  };
  const tokens: Measure = {
    kind: 'token_anomaly',
    minImpact: cfg.min_impact_tokens,
    values: (s) => sumBuckets(s, TOKEN_BUCKETS),
    text: countText,
    unit: ' tokens/h',
  };
  const found = { spend: [] as Scored[], tokens: [] as Scored[] };
  const scoredHour = seriesWindow(ctx.at, 1);
  for (const dim of ANOMALY_DIMS) {
    // A series below both absolute floors in the scored hour cannot alert (its excess is at most
    // its value): when a dimension has none above them, its history is not read at all.
    const now = await readSeries(ctx.store, scoredHour, dim);
    const busy = now.some((s) => spend.values(s)[0]! >= spend.minImpact || tokens.values(s)[0]! >= tokens.minImpact);
    if (!busy) continue;
    for (const series of await readSeries(ctx.store, window, dim)) {
      const s = scoreSeries(series, t, spend, ctx);
      if (s !== null) found.spend.push(s);
      const k = scoreSeries(series, t, tokens, ctx);
      if (k !== null) found.tokens.push(k);
    }
  }
  const findings: Finding[] = [];
  const spendTenants = new Set<string>();
  for (const f of leadingByTenant(found.spend)) {
    spendTenants.add(f.lead.scope.tenant ?? '');
    findings.push(toFinding(spend, f, window, cfg.weeks));
  }
  for (const f of leadingByTenant(found.tokens)) {
    if (!spendTenants.has(f.lead.scope.tenant ?? '')) findings.push(toFinding(tokens, f, window, cfg.weeks));
  }
  return findings;
};

function toFinding(measure: Measure, found: Leading<Scored>, window: SeriesWindow, weeks: number): Finding {
  return {
    kind: measure.kind,
    // Tokens without dollars open a ticket, never a page: money pages through spend_anomaly.
    severity: measure.kind === 'token_anomaly' ? 'ticket' : found.severity,
    scope: found.lead.scope,
    summary: summary(measure, found, window, weeks),
    value: found.lead.value,
    baseline: found.lead.baseline.expected,
  };
}
