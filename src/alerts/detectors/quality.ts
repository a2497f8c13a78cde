/**
 * What makes the ledger's numbers less true, and what makes them silently larger:
 *
 * `data_quality` — per tenant, in the last complete hour with at least `data_quality.min_requests`
 * requests, the share of requests that are
 * - unpriced (no price for the model: their spend is invisible to budgets), variant `unpriced`;
 * - estimated (tokenizer counts instead of the provider's), variant `estimated`;
 * - interrupted (stream cut, upstream gone, crash recovery), variant `interrupted`;
 * above `max_unpriced_share`, `max_estimated_share`, `max_interrupted_share`. Each variant is its
 * own alert. Always a ticket: the data is degraded, nothing is on fire yet.
 *
 * The cost rows carry unpriced and estimated counts but no status, so the interrupted share comes
 * from the events themselves (`listEvents`, the tenant-time index, newest first, at most
 * STATUS_SAMPLE events of the hour: a sample beyond that). The events are read only for tenants
 * whose estimated share already exceeds `max_interrupted_share`: every interrupted event the
 * gateway or crash recovery writes carries estimated usage, so the estimated count bounds the
 * interrupted one and a healthy tenant costs no event read. Blind spot, accepted: an event
 * ingested through the API with status `interrupted` and reported usage is not counted unless the
 * tenant's estimated share already passes the gate.
 *
 * `cache_drop` — per tenant, tenant × model and tenant × feature: the provider cache-hit share,
 * cache_read ÷ (input + cache_read + cache writes), against its usual level at this time of day
 * (series.ts RATIO_BANDS, robust.ts ratioBaseline; earlier drops left out). It fires when the
 * usual share is meaningful (≥ MIN_BASELINE_SHARE) and in EACH of the last two complete hours,
 * with ≥ `min_requests` requests, the share fell below `cache_drop_factor` × the usual one. Two
 * hours because caches go cold on their own (a quiet spell longer than the TTL): on the 10M-event
 * seed ledger the one-hour rule opened 18 false tickets a day, the two-hour rule 2-3; a broken
 * prompt prefix persists and still shows. A ticket: the money it costs is the spend anomaly's
 * business, which pages when the lost discount is large; this alert says why. One finding per
 * tenant (leading.ts), ranked by the cached tokens lost; `value` is the share over the two hours.
 */
import type { CostRow, Store } from '../../ledger/index.js';
import type { Bucket } from '../../usage/index.js';
import type { Detector } from '../detect.js';
import { ratioBaseline, type Baseline } from '../robust.js';
import {
  HOUR_MS,
  countText,
  dailyBands,
  describeScope,
  hourLabel,
  MIN_BASELINE_HOURS,
  RATIO_BANDS,
  ratioSamples,
  readSeries,
  scoredHourStart,
  sumBuckets,
  type HourlySeries,
  type SeriesDim,
  type SeriesWindow,
} from '../series.js';
import type { Finding } from '../types.js';
import { leadingByTenant, type Candidate } from './leading.js';

/** Events read per tenant to measure the interrupted share. */
export const STATUS_SAMPLE = 2000;
const PAGE = 1000;
/** Below this usual cache-hit share a drop means little (a few cached calls more or less). */
export const MIN_BASELINE_SHARE = 0.2;
export const CACHE_DIMS: readonly SeriesDim[] = ['tenant', 'model', 'feature'];
const PROMPT_BUCKETS: readonly Bucket[] = ['input', 'cache_read', 'cache_write_5m', 'cache_write_1h'];

interface TenantHour {
  requests: number;
  unpriced: number;
  estimated: number;
  /** Unpriced requests per model, to name the models without a price. */
  unpricedModels: Map<string, number>;
}

function byTenant(rows: readonly CostRow[]): Map<string, TenantHour> {
  const tenants = new Map<string, TenantHour>();
  for (const row of rows) {
    const tenant = row.keys.tenant;
    if (tenant == null) continue;
    let t = tenants.get(tenant);
    if (t === undefined) {
      t = { requests: 0, unpriced: 0, estimated: 0, unpricedModels: new Map() };
      tenants.set(tenant, t);
    }
    t.requests += row.requests;
    t.unpriced += row.unpriced_requests;
    t.estimated += row.estimated_requests;
    const model = row.keys.model ?? '(unknown)';
    if (row.unpriced_requests > 0)
      t.unpricedModels.set(model, (t.unpricedModels.get(model) ?? 0) + row.unpriced_requests);
  }
  return tenants;
}

/** Interrupted events and events read, newest first within [fromMs, toMs), at most STATUS_SAMPLE. */
async function interruptedSample(
  store: Store,
  tenant: string,
  fromMs: number,
  toMs: number,
): Promise<{ interrupted: number; sampled: number }> {
  let interrupted = 0;
  let sampled = 0;
  let cursor: string | undefined;
  while (sampled < STATUS_SAMPLE) {
    const page = await store.listEvents({
      from: new Date(fromMs),
      to: new Date(toMs),
      filter: { tenant },
      limit: Math.min(PAGE, STATUS_SAMPLE - sampled),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    for (const event of page.events) if (event.status === 'interrupted') interrupted++;
    sampled += page.events.length;
    if (page.next_cursor === null) break;
    cursor = page.next_cursor;
  }
  return { interrupted, sampled };
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** data_quality as of ctx.at (the last complete hour before it). */
export const dataQualityDetector: Detector = async (ctx) => {
  const cfg = ctx.config.data_quality;
  const fromMs = scoredHourStart(ctx.at);
  const toMs = fromMs + HOUR_MS;
  const when = hourLabel({ endMs: toMs });
  const rows = await ctx.store.queryCosts({
    from: new Date(fromMs),
    to: new Date(toMs),
    groupBy: ['tenant', 'model'],
    filter: {},
  });
  const findings: Finding[] = [];
  const tenants = [...byTenant(rows)].sort(([a], [b]) => a.localeCompare(b));
  for (const [tenant, h] of tenants) {
    if (h.requests < cfg.min_requests) continue;
    const of = `of ${countText(h.requests)} requests of tenant ${tenant} in ${when}`;
    const unpriced = h.unpriced / h.requests;
    if (unpriced > cfg.max_unpriced_share) {
      const models = [...h.unpricedModels]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 3)
        .map(([model, n]) => `${model} (${countText(n)})`)
        .join(', ');
      findings.push({
        kind: 'data_quality',
        variant: 'unpriced',
        severity: 'ticket',
        scope: { tenant },
        summary: `${pct(unpriced)} ${of} have no price (max ${pct(cfg.max_unpriced_share)}); models: ${models}`,
        value: unpriced,
        baseline: null,
      });
    }
    const estimated = h.estimated / h.requests;
    if (estimated > cfg.max_estimated_share) {
      findings.push({
        kind: 'data_quality',
        variant: 'estimated',
        severity: 'ticket',
        scope: { tenant },
        summary: `${pct(estimated)} ${of} carry estimated usage (max ${pct(cfg.max_estimated_share)})`,
        value: estimated,
        baseline: null,
      });
    }
    if (estimated > cfg.max_interrupted_share) {
      const sample = await interruptedSample(ctx.store, tenant, fromMs, toMs);
      const interrupted = sample.sampled === 0 ? 0 : sample.interrupted / sample.sampled;
      if (interrupted > cfg.max_interrupted_share) {
        const basis = sample.sampled < h.requests ? ` (the last ${countText(sample.sampled)} sampled)` : '';
        findings.push({
          kind: 'data_quality',
          variant: 'interrupted',
          severity: 'ticket',
          scope: { tenant },
          summary: `${pct(interrupted)} ${of} were interrupted${basis} (max ${pct(cfg.max_interrupted_share)})`,
          value: interrupted,
          baseline: null,
        });
      }
    }
  }
  return findings;
};

interface Drop extends Candidate {
  share: number;
  baseline: Baseline;
  promptTokens: number;
  requests: number;
}

function cacheDrop(
  series: HourlySeries,
  t: number,
  factor: number,
  minRequests: number,
  excludeScore: number,
): Drop | null {
  const hours = [t - 1, t];
  const prompt = sumBuckets(series, PROMPT_BUCKETS);
  if (hours.some((i) => !(series.requests[i]! >= minRequests) || !(prompt[i]! > 0))) return null;
  const read = series.tokens.cache_read ?? series.requests.map(() => 0);
  const baseline = ratioBaseline(ratioSamples(read, prompt, series.requests, Math.ceil(minRequests / 4), t - 1), {
    minSamples: MIN_BASELINE_HOURS,
    floor: 0,
    // Earlier drops are what this detector looks for, so they leave the baseline.
    excludeScore,
    direction: 'down',
  });
  if (baseline === null || baseline.expected < MIN_BASELINE_SHARE) return null;
  if (hours.some((i) => read[i]! / prompt[i]! >= factor * baseline.expected)) return null;
  const promptTokens = prompt[t - 1]! + prompt[t]!;
  const share = (read[t - 1]! + read[t]!) / promptTokens;
  return {
    scope: series.scope,
    excess: (baseline.expected - share) * promptTokens,
    size: promptTokens,
    severity: 'ticket',
    share,
    baseline,
    promptTokens,
    requests: series.requests[t - 1]! + series.requests[t]!,
  };
}

function dropSummary(d: Drop, window: SeriesWindow): string {
  return (
    `Provider cache hits of ${describeScope(d.scope)}: ${pct(d.share)} of ${countText(d.promptTokens)} prompt tokens ` +
    `in ${hourLabel(window, 2)} (${countText(d.requests)} requests) vs ${pct(d.baseline.expected)} usual at this ` +
    `time of day; ~${countText(d.excess)} tokens billed at the full input price instead of the cache price`
  );
}

/** cache_drop as of ctx.at (the last two complete hours before it). */
export const cacheDropDetector: Detector = async (ctx) => {
  const cfg = ctx.config.data_quality;
  const window = dailyBands(ctx.at, RATIO_BANDS);
  const t = window.hours - 1;
  const found: Drop[] = [];
  for (const dim of CACHE_DIMS) {
    for (const series of await readSeries(ctx.store, window, dim)) {
      const d = cacheDrop(series, t, cfg.cache_drop_factor, cfg.min_requests, ctx.config.anomaly.ticket_score);
      if (d !== null) found.push(d);
    }
  }
  return leadingByTenant(found).map(({ lead, alsoSeen }): Finding => ({
    kind: 'cache_drop',
    severity: 'ticket',
    scope: lead.scope,
    summary:
      dropSummary(lead, window) +
      (alsoSeen.length > 0 ? `; also seen in ${alsoSeen.map((c) => describeScope(c.scope)).join('; ')}` : ''),
    value: lead.share,
    baseline: lead.baseline.expected,
  }));
};
