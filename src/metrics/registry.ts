import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ALERT_KINDS, type AlertKind, type Severity } from '../alerts/types.js';
import { metricsSchema, type MetricsConfig } from '../config/index.js';
import { REFUSAL_CODES, type PertokenError } from '../errors.js';
import type { UsageEvent } from '../ledger/index.js';
import { NANO_PER_USD } from '../money.js';
import { BUCKETS } from '../usage/index.js';
import { OTHER, TopValues, type RankedValue } from './labels.js';

const SEVERITIES: readonly Severity[] = ['page', 'ticket'];

/** Firing alerts of one kind and severity, as the alert store counts them. */
export interface AlertCount {
  kind: AlertKind;
  severity: Severity;
  firing: number;
}

export interface MetricsOptions {
  defaultMetrics?: boolean;
  /** `metrics:` of pertoken.yaml: how many tenants and models keep their own label values. */
  limits?: MetricsConfig;
}

/**
 * Prometheus metrics of one app instance. Each app owns its registry (no global default
 * registry), so tests can build several apps in one process.
 *
 * Cardinality is bounded: every `tenant` and `model` label goes through a TopValues (labels.ts),
 * so at most `top_tenants` tenants and `top_models` models have their own series and the rest are
 * counted under `other`; `rerank` (called by the ledger gauges, spend-gauges.ts) moves the cut.
 */
export class PertokenMetrics {
  readonly registry = new Registry();
  readonly labels: { readonly tenant: TopValues; readonly model: TopValues };
  readonly #requests: Counter<'route' | 'provider' | 'model' | 'status'>;
  readonly #tokens: Counter<'tenant' | 'provider' | 'model' | 'bucket'>;
  readonly #cost: Counter<'tenant' | 'provider' | 'model'>;
  readonly #unpriced: Counter<'provider' | 'model'>;
  readonly #estimated: Counter<'provider' | 'model' | 'status'>;
  readonly #inconsistent: Counter<'provider'>;
  readonly #latency: Histogram<'route' | 'streamed'>;
  readonly #ttft: Histogram<'route'>;
  readonly #inflight: Gauge<'route'>;
  readonly #ledgerErrors: Counter;
  readonly #ingested: Counter<'result'>;
  readonly #refused: Counter<'reason' | 'status'>;
  readonly #alerts: Gauge<'kind' | 'severity'>;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    const limits = options.limits ?? metricsSchema.parse({});
    this.labels = { tenant: new TopValues(limits.top_tenants), model: new TopValues(limits.top_models) };
    this.#requests = new Counter({
      name: 'pertoken_requests_total',
      help: 'Metered model calls by outcome.',
      labelNames: ['route', 'provider', 'model', 'status'],
      registers,
    });
    this.#tokens = new Counter({
      name: 'pertoken_tokens_total',
      help: 'Tokens (or units) by exclusive usage bucket.',
      labelNames: ['tenant', 'provider', 'model', 'bucket'],
      registers,
    });
    this.#cost = new Counter({
      name: 'pertoken_cost_usd_total',
      help: 'Priced cost in USD (the ledger holds the exact nano-USD amounts).',
      labelNames: ['tenant', 'provider', 'model'],
      registers,
    });
    this.#unpriced = new Counter({
      name: 'pertoken_unpriced_requests_total',
      help: 'Calls recorded without a price (unknown model or bucket).',
      labelNames: ['provider', 'model'],
      registers,
    });
    this.#estimated = new Counter({
      name: 'pertoken_estimated_requests_total',
      help: 'Calls whose usage was estimated with a tokenizer.',
      labelNames: ['provider', 'model', 'status'],
      registers,
    });
    this.#inconsistent = new Counter({
      name: 'pertoken_usage_inconsistent_total',
      help: 'Provider usage objects that failed the consistency check.',
      labelNames: ['provider'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'pertoken_request_duration_seconds',
      help: 'Whole-call latency as seen by the gateway.',
      labelNames: ['route', 'streamed'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.#ttft = new Histogram({
      name: 'pertoken_ttft_seconds',
      help: 'Time to first upstream byte of streamed calls.',
      labelNames: ['route'],
      buckets: [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
      registers,
    });
    this.#inflight = new Gauge({
      name: 'pertoken_inflight_requests',
      help: 'Model calls in flight.',
      labelNames: ['route'],
      registers,
    });
    this.#ledgerErrors = new Counter({
      name: 'pertoken_ledger_write_errors_total',
      help: 'Ledger commits that failed (events spooled for retry).',
      registers,
    });
    this.#ingested = new Counter({
      name: 'pertoken_ingested_events_total',
      help: 'Events received on the usage event API.',
      labelNames: ['result'],
      registers,
    });
    this.#refused = new Counter({
      name: 'pertoken_requests_refused_total',
      help: 'Model calls pertoken refused itself, by reason (the error code) and HTTP status.',
      labelNames: ['reason', 'status'],
      registers,
    });
    this.#alerts = new Gauge({
      name: 'pertoken_alerts_firing',
      help: 'Alerts firing now, by kind and severity (from the alert store).',
      labelNames: ['kind', 'severity'],
      registers,
    });
    // Every kind and severity from the start: a dashboard shows 0, not "no data".
    this.setAlertCounts([]);
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'pertoken_process_' });
  }

  requestStarted(route: string): void {
    this.#inflight.inc({ route });
  }

  requestFinished(route: string): void {
    this.#inflight.dec({ route });
  }

  eventRecorded(event: UsageEvent): void {
    const { provider } = event;
    const tenant = this.labels.tenant.fold(event.tenant);
    const model = this.labels.model.fold(event.model);
    this.#requests.inc({ route: event.route, provider, model, status: event.status });
    for (const bucket of BUCKETS) {
      const n = event.buckets[bucket];
      if (n) this.#tokens.inc({ tenant, provider, model, bucket }, n);
    }
    if (event.cost_nano === null) this.#unpriced.inc({ provider, model });
    else if (event.cost_nano > 0n) this.#cost.inc({ tenant, provider, model }, nanoToUsdNumber(event.cost_nano));
    if (event.usage_source === 'estimated') this.#estimated.inc({ provider, model, status: event.status });
    if (event.usage_source === 'provider' && event.usage_issues.length > 0) this.#inconsistent.inc({ provider });
    if (event.latency_ms !== null)
      this.#latency.observe({ route: event.route, streamed: String(event.streamed) }, event.latency_ms / 1000);
    if (event.ttft_ms !== null) this.#ttft.observe({ route: event.route }, event.ttft_ms / 1000);
  }

  ledgerWriteFailed(): void {
    this.#ledgerErrors.inc();
  }

  eventsIngested(result: 'accepted' | 'duplicate' | 'rejected', count: number): void {
    if (count > 0) this.#ingested.inc({ result }, count);
  }

  /** A model call the gateway answered with its own error; the refusals among them are counted. */
  callRejected(error: PertokenError): void {
    if (REFUSAL_CODES.has(error.code)) this.#refused.inc({ reason: error.code, status: String(error.status) });
  }

  /** Replaces the firing-alert counts (the alert store calls this after each evaluation). */
  setAlertCounts(counts: Iterable<AlertCount>): void {
    for (const kind of ALERT_KINDS) for (const severity of SEVERITIES) this.#alerts.set({ kind, severity }, 0);
    for (const c of counts) this.#alerts.inc({ kind: c.kind, severity: c.severity }, c.firing);
  }

  /**
   * Moves the cut of the bounded labels (see TopValues.rank) and drops the series of values that
   * lost their place: they go stale in Prometheus, and from now on those values count as `other`.
   * Nothing is carried into `other`, whose rate would otherwise jump.
   */
  async rerank(
    ranking: { tenants: Iterable<RankedValue>; models: Iterable<RankedValue> },
    pinnedTenants: ReadonlySet<string> = new Set(),
  ): Promise<void> {
    this.labels.tenant.rank(ranking.tenants, pinnedTenants);
    this.labels.model.rank(ranking.models);
    const dropped = (label: 'tenant' | 'model', value: string | number | undefined): boolean =>
      value !== undefined && value !== OTHER && !this.labels[label].has(String(value));
    const counters: Array<Counter<string>> = [
      this.#requests,
      this.#tokens,
      this.#cost,
      this.#unpriced,
      this.#estimated,
    ];
    for (const counter of counters) {
      for (const { labels } of (await counter.get()).values)
        if (dropped('tenant', labels.tenant) || dropped('model', labels.model)) counter.remove(labels);
    }
  }

  /**
   * A gauge read at scrape time from a component's own stats (outbox backlog, counter backend
   * health), so the component needs no dependency on prom-client.
   */
  gaugeFrom(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /**
   * A labelled gauge family read at scrape time: every sample `read` returns, and only those (a
   * label set it no longer returns disappears). `read` must answer at once from what the
   * component already holds; a scrape never waits on a computation.
   */
  gaugesFrom<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Iterable<{ labels: Record<L, string>; value: number }>,
  ): void {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const sample of read()) this.set(sample.labels, sample.value);
      },
    });
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** Prometheus samples are floats by definition; the split keeps the integer part exact. */
export function nanoToUsdNumber(nano: bigint): number {
  return Number(nano / NANO_PER_USD) + Number(nano % NANO_PER_USD) / 1e9;
}
