import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { AlertService, createSinks, defaultDetectors, openAlertStore } from './alerts/index.js';
import { registerApiRoutes } from './api/index.js';
import { registerDashboardRoutes } from './dashboard/index.js';
import {
  observeReconciliation,
  openAttribution,
  ReconciliationSummaryCache,
  startBillingSchedule,
  type AttributionService,
} from './attribution/index.js';

import { parseConfig, type Config, type Env } from './config/index.js';
import { startDemoUpstream, type DemoUpstream } from './demo/index.js';
import { toPertokenError } from './errors.js';
import { createModelRouter, registerGatewayRoutes, UpstreamPools } from './gateway/index.js';
import { createCounters, type Counters } from './counters/index.js';
import {
  Governance,
  openAccess,
  openGovernanceStore,
  type Authenticator,
  type GovernanceStore,
} from './governance/index.js';
import { ContextVars, Router, sendError } from './http/index.js';
import {
  createReplicatedStore,
  createSqliteStore,
  newEventId,
  SettleRetrier,
  startRetentionJob,
  type InterruptedPricer,
  type LedgerStore,
  type ReplicatedStore,
  type Store,
} from './ledger/index.js';
import { LedgerGauges, observeLedgerGauges, PertokenMetrics } from './metrics/index.js';
import type { ConfiguredPriceBook, PriceBook } from './pricing/index.js';

/** Everything the app needs, constructed by the caller: tests pass fakes or real services. */
export interface AppDeps {
  config: Config;
  store: Store;
  priceBook: PriceBook;
  pools: UpstreamPools;
  metrics: PertokenMetrics;
  log: Logger;
  /** Default: the governance authenticator, or open access without governance. */
  authenticate?: Authenticator;
  adminToken: string | null;
  /** Keys, budgets, rate limits, routing policy and the admin API; absent = bare open mode. */
  governance?: Governance;
  /** Retries commits that fail; built from `store` when not given. */
  settler?: SettleRetrier;
  /** Chargeback statements, pools and FOCUS; absent = those routes answer 404. */
  attribution?: AttributionService;
  /** Alerts, silences and forecasts; absent = those routes answer 404. */
  alerts?: AlertService;
  now?: () => Date;
}

export interface App {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Requests currently being served (SIGTERM waits for them). */
  readonly inflight: number;
  /** Every route the app serves (method and pattern), in registration order. */
  routes(): ReadonlyArray<{ method: string; pattern: string }>;
}

/** Builds the request handler from its dependencies; constructs nothing itself. */
export function createApp(deps: AppDeps): App {
  const router = new Router();
  const now = deps.now ?? (() => new Date());
  const settler = deps.settler ?? new SettleRetrier(deps.store, { onFailure: retryFailureLogger(deps) });
  registerGatewayRoutes(router, {
    router: createModelRouter(deps.config.upstreams, deps.config.routes, deps.config.routing),
    pools: deps.pools,
    authenticate: deps.authenticate ?? deps.governance?.authenticate ?? openAccess(),
    ...(deps.governance ? { governance: deps.governance } : {}),
    fallbackOn: deps.config.routing.fallback_on,
    priceBook: deps.priceBook,
    ledger: { reserve: (r) => deps.store.reserve(r), settle: (e) => settler.settle(e) },
    observer: deps.metrics,
    log: deps.log,
    maxBodyBytes: deps.config.server.max_body_bytes,
    newId: () => newEventId(),
  });
  registerApiRoutes(router, {
    store: deps.store,
    priceBook: deps.priceBook,
    metrics: deps.metrics,
    log: deps.log,
    adminToken: deps.adminToken,
    metricsAuth: deps.config.server.metrics_auth ?? null,
    metricsToken: deps.config.server.metrics_token ?? null,
    maxBodyBytes: deps.config.server.max_body_bytes,
    now,
    ...(deps.governance ? { governance: deps.governance } : {}),
    ...(deps.attribution ? { attribution: deps.attribution } : {}),
    ...(deps.alerts ? { alerts: deps.alerts } : {}),
    billingAccounts: deps.config.billing_accounts,
  });
  registerDashboardRoutes(router);

  let inflight = 0;
  return {
    get inflight() {
      return inflight;
    },
    routes: () => router.routes(),
    handle(req, res) {
      inflight++;
      res.once('close', () => inflight--);
      const url = new URL(req.url ?? '/', 'http://pertoken.local');
      Promise.resolve()
        .then(() => {
          const { handler, params } = router.match(req.method ?? 'GET', url.pathname);
          return handler({ req, res, url, params, vars: new ContextVars() });
        })
        .catch((err: unknown) => {
          const error = sendError(res, err);
          if (error.status >= 500) deps.log.error({ err, path: url.pathname }, error.message);
          // Unread request bytes would otherwise stall a keep-alive connection.
          if (!req.complete) req.resume();
        });
    },
  };
}

export interface StartOptions {
  config: Config;
  env: Env;
  port?: number;
  host?: string;
  dataDir?: string;
  /** Serve the built-in simulated upstream even when upstreams are configured. */
  demo?: boolean;
  log?: Logger;
}

export interface RunningServer {
  url: string;
  port: number;
  app: App;
  store: Store;
  demo: DemoUpstream | null;
  /** Stops accepting, drains in-flight requests (bounded), flushes the ledger, closes pools. */
  shutdown(): Promise<void>;
}

/** The process-level wiring behind `pertoken serve`. */
export async function startPertoken(options: StartOptions): Promise<RunningServer> {
  const log =
    options.log ??
    pino({
      level: options.env.PERTOKEN_LOG_LEVEL ?? 'info',
      redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
    });
  const dataDir = resolve(options.dataDir ?? options.env.PERTOKEN_DATA_DIR ?? '.pertoken');
  mkdirSync(dataDir, { recursive: true });

  let config = options.config;
  let demo: DemoUpstream | null = null;
  if (options.demo || config.upstreams.length === 0) {
    demo = await startDemoUpstream({ ttftMs: config.demo.ttft_ms, itlMs: config.demo.itl_ms });
    config = withDemoUpstreams(config, demo.url);
    log.info({ url: demo.url }, 'demo mode: serving the built-in simulated upstream');
  }

  const { store, admin, replicated } = openLedger(config, options.env, dataDir, log);
  await store.migrate();
  // Retention prunes the shared ledger; with replicas, every one of them may run it (batches are idempotent).
  const stopRetention = config.ledger.retention_days
    ? startRetentionJob(admin, config.ledger.retention_days, 3_600_000, {
        onResult: (result) => log.info({ result }, 'retention: pruned raw events'),
        onError: (err) => log.error({ err }, 'retention: prune failed; retried next hour'),
      })
    : null;
  // Pools measured by `pertoken bench --save-pool` are cost sources and price their tokens (bench-pools.ts).
  const { priceBook, attribution } = await openAttribution(config, dataDir, store);
  await attribution.startTelemetry();
  const recovered = await store.recoverInterrupted(interruptedPricer(priceBook));
  if (recovered > 0) log.warn({ recovered }, 'settled requests interrupted by a previous crash');

  const { governance, counters, governanceStore } = await startGovernance(
    config,
    options.env,
    dataDir,
    store,
    priceBook,
    log,
  );

  const pools = new UpstreamPools(config.upstreams);
  const metrics = new PertokenMetrics({ defaultMetrics: true, limits: config.metrics });
  // Month-to-date spend per budget and tenant, and the ranking that bounds the tenant/model labels.
  const ledgerGauges = new LedgerGauges({
    store: admin,
    budgets: () => governance.ledgerBudgets(),
    ranker: metrics,
    onError: (err) => log.error({ err }, 'ledger gauges: refresh failed; previous values kept'),
  });
  observeLedgerGauges(metrics, ledgerGauges);
  void ledgerGauges.refresh(); // rank the labels before the first scrape
  const settler = new SettleRetrier(store, { onFailure: retryFailureLogger({ metrics, log }) });
  metrics.gaugeFrom(
    'pertoken_ledger_unsettled_events',
    'Events whose commit failed and are held for retry.',
    () => settler.pending,
  );
  observeCounters(metrics, counters);
  if (replicated) observeOutbox(metrics, replicated);
  // Billing gauges from a cached summary, refreshed in the background at most every 5 minutes.
  const summaries = new ReconciliationSummaryCache({
    store,
    priceBook,
    onError: (err) => log.error({ err }, 'reconciliation gauges: refresh failed; previous values kept'),
  });
  observeReconciliation(metrics, summaries);
  // With admin keys, the providers' reports are pulled and reconciled daily (attribution/billing/schedule.ts).
  const billing = startBillingSchedule({
    store,
    priceBook,
    accounts: config.billing_accounts,
    dataDir,
    onRun: (pulled, reconciled) =>
      log.info({ reports: pulled.reports.length, status: reconciled?.status ?? null }, 'billing: daily pull done'),
    onDrift: (reconciled) => {
      log.warn(
        { from: reconciled.from, to: reconciled.to, totals: reconciled.totals },
        'billing: the bill differs from the metered cost by more than the threshold, unexplained',
      );
      // The billing-drift detector raises the data_quality alert; evaluate now, not at the next tick.
      void alerts.evaluate(new Date()).catch((err: unknown) => log.error({ err }, 'alerts: evaluation failed'));
    },
    onError: (err) => log.error({ err }, 'billing: daily pull failed; retried at the next run'),
  });
  // Alerts live beside governance (the shared PostgreSQL, else alerts.sqlite): every replica sees
  // the same alerts, and the notification outbox survives a crash.
  const alertStore = openAlertStore(
    options.env.PERTOKEN_DATABASE_URL
      ? {
          postgresUrl: options.env.PERTOKEN_DATABASE_URL,
          ...(options.env.PERTOKEN_DATABASE_SCHEMA ? { schema: options.env.PERTOKEN_DATABASE_SCHEMA } : {}),
        }
      : { sqlitePath: join(dataDir, 'alerts.sqlite') },
  );
  await alertStore.migrate();
  const alerts = new AlertService({
    ledger: admin,
    store: alertStore,
    config: config.alerts,
    detectors: defaultDetectors(priceBook),
    sinks: createSinks(
      config.alerts,
      config.alerts.runbook_base_url ? { runbookBaseUrl: config.alerts.runbook_base_url } : {},
    ),
    budgets: () => governance.ledgerBudgets(),
    log,
    onFiring: (counts) => metrics.setAlertCounts(counts),
  });
  alerts.start();
  const app = createApp({
    settler,
    config,
    store,
    priceBook,
    pools,
    metrics,
    log,
    governance,
    attribution,
    alerts,
    adminToken: options.env.PERTOKEN_ADMIN_TOKEN || null,
  });

  const { headers_timeout_ms: headersTimeout, request_timeout_ms: requestTimeout } = config.server;
  const server = createServer(
    {
      keepAliveTimeout: 65_000,
      headersTimeout,
      requestTimeout,
      // Node checks both timeouts on this interval (30 s by default): a short timeout needs a finer check.
      connectionsCheckingInterval: Math.min(30_000, Math.ceil(headersTimeout / 4)),
    },
    app.handle,
  );
  const port = options.port ?? config.server.port;
  const host = options.host ?? config.server.host;
  await listen(server, port, host);
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  log.info({ port: boundPort, host, dataDir }, 'pertoken listening');

  let stopping: Promise<void> | null = null;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      server.close();
      server.closeIdleConnections();
      const deadline = Date.now() + config.server.drain_timeout_ms;
      while (app.inflight > 0 && Date.now() < deadline) await sleep(25);
      server.closeAllConnections();
      const spilled = await settler.close(join(dataDir, 'unsettled-events.jsonl'));
      if (spilled > 0)
        log.error(
          { spilled, file: join(dataDir, 'unsettled-events.jsonl') },
          'events the ledger could not take were written to a file; POST it to /v1/usage/events',
        );
      await stopRetention?.();
      if (replicated) {
        const { drained, remaining } = await replicated.drain({ timeoutMs: config.server.drain_timeout_ms });
        if (!drained) log.warn({ remaining }, 'outbox not empty at shutdown; it ships when this replica starts again');
      }
      await billing?.stop();
      await alerts.close();
      await alertStore.close();
      await summaries.idle();
      await ledgerGauges.idle();
      await attribution.close();
      await store.close();
      await governance.close();
      await counters.close();
      await governanceStore.close();
      await pools.close();
      await demo?.close();
      log.info('pertoken stopped');
    })();
    return stopping;
  };
  return { url: `http://${host}:${boundPort}`, port: boundPort, app, store, demo, shutdown };
}

/**
 * Governance state lives in the shared PostgreSQL when there is one (every replica sees the same
 * keys and budgets), else in `governance.sqlite` beside the ledger; counters are Redis-backed with
 * PERTOKEN_REDIS_URL (shared by replicas), in memory otherwise.
 */
async function startGovernance(
  config: Config,
  env: Env,
  dataDir: string,
  store: Store,
  priceBook: ConfiguredPriceBook,
  log: Logger,
): Promise<{ governance: Governance; counters: Counters; governanceStore: GovernanceStore }> {
  const governanceStore = openGovernanceStore(
    env.PERTOKEN_DATABASE_URL
      ? {
          postgresUrl: env.PERTOKEN_DATABASE_URL,
          ...(env.PERTOKEN_DATABASE_SCHEMA ? { schema: env.PERTOKEN_DATABASE_SCHEMA } : {}),
        }
      : { sqlitePath: join(dataDir, 'governance.sqlite') },
  );
  await governanceStore.migrate();
  const counters = createCounters(env.PERTOKEN_REDIS_URL ? { redisUrl: env.PERTOKEN_REDIS_URL } : {});
  const governance = new Governance({
    config,
    store: governanceStore,
    counters,
    priceBook,
    ledgerCosts: (query) => store.queryCosts(query),
    log,
  });
  await governance.start();
  if (env.PERTOKEN_REDIS_URL) log.info('budgets and rate limits are shared through Redis');
  return { governance, counters, governanceStore };
}

/**
 * The embedded SQLite ledger, or with PERTOKEN_DATABASE_URL the shared PostgreSQL ledger behind a
 * local outbox: every replica commits locally first and ships, so an outage means spooling, not
 * loss. `admin` is the ledger that maintenance (retention) works on.
 */
function openLedger(
  config: Config,
  env: Env,
  dataDir: string,
  log: Logger,
): { store: Store; admin: LedgerStore; replicated: ReplicatedStore | null } {
  const databaseUrl = env.PERTOKEN_DATABASE_URL;
  if (!databaseUrl) {
    const embedded = createSqliteStore({
      path: join(dataDir, 'ledger.sqlite'),
      synchronous: config.ledger.synchronous,
      onCheckpointError: (err) =>
        log.error({ err }, 'ledger: WAL checkpoint worker failed; checkpoints run inline from now on'),
    });
    return { store: embedded, admin: embedded, replicated: null };
  }
  const replicated = createReplicatedStore({
    outboxPath: join(dataDir, 'outbox.sqlite'),
    postgresUrl: databaseUrl,
    ...(env.PERTOKEN_DATABASE_SCHEMA ? { schema: env.PERTOKEN_DATABASE_SCHEMA } : {}),
    synchronous: config.ledger.synchronous,
    onError: (err, context) =>
      context === 'checkpoint'
        ? log.error({ err }, 'ledger outbox: WAL checkpoint worker failed; checkpoints run inline from now on')
        : log.warn(
            { err, context },
            'ledger outbox: PostgreSQL write failed; events stay in the outbox and are retried',
          ),
  });
  return { store: replicated, admin: replicated.shared, replicated };
}

function observeOutbox(metrics: PertokenMetrics, outbox: ReplicatedStore): void {
  metrics.gaugeFrom(
    'pertoken_outbox_backlog_events',
    'Events committed locally and not yet shipped to PostgreSQL.',
    () => outbox.stats().backlog,
  );
  metrics.gaugeFrom(
    'pertoken_outbox_oldest_event_age_seconds',
    'Age (by event time) of the oldest unshipped event.',
    () => (outbox.stats().oldestAgeMs ?? 0) / 1000,
  );
  metrics.gaugeFrom('pertoken_outbox_spooling', '1 while PostgreSQL is unreachable and events spool locally.', () =>
    outbox.stats().spooling ? 1 : 0,
  );
  metrics.gaugeFrom(
    'pertoken_outbox_quarantined_events',
    'Events PostgreSQL refused; kept locally for inspection.',
    () => outbox.stats().quarantined,
  );
  metrics.gaugeFrom(
    'pertoken_outbox_shipped_events',
    'Events shipped to PostgreSQL since start.',
    () => outbox.stats().shippedEvents,
  );
  metrics.gaugeFrom(
    'pertoken_outbox_ship_failures',
    'Failed ship attempts since start.',
    () => outbox.stats().shipFailures,
  );
}

function observeCounters(metrics: PertokenMetrics, counters: Counters): void {
  metrics.gaugeFrom(
    'pertoken_counters_connected',
    '1 when the budget/rate counter backend answers (always 1 in memory).',
    () => (counters.stats().connected ? 1 : 0),
  );
  metrics.gaugeFrom(
    'pertoken_counters_failures',
    'Counter calls that failed (backend down) since start.',
    () => counters.stats().failures,
  );
  metrics.gaugeFrom(
    'pertoken_counters_fail_open_admits',
    'Requests admitted without a budget/rate check because the backend was down (fail-open).',
    () => counters.stats().failOpenAdmits,
  );
  metrics.gaugeFrom(
    'pertoken_counters_fail_closed_refusals',
    'Requests refused because the backend was down (fail-closed).',
    () => counters.stats().failClosedRefusals,
  );
}

function retryFailureLogger(deps: Pick<AppDeps, 'metrics' | 'log'>): (err: unknown, event: { id: string }) => void {
  return (err, event) => {
    deps.metrics.ledgerWriteFailed();
    deps.log.error({ err, event_id: event.id }, 'ledger commit failed; the event is kept and retried');
  };
}

/**
 * Demo mode: the simulated upstream stands in for OpenAI, Anthropic and a self-hosted vLLM server
 * (provider `demo-vllm`, serving the open-weight families), so a `gpu_pools` entry serving
 * `demo-vllm` is costed offline; such a pool scrapes the simulator's vLLM-style /metrics.
 */
export const DEMO_SELFHOSTED_PROVIDER = 'demo-vllm';
const DEMO_SELFHOSTED_MODELS = ['llama-*', 'meta-llama/*', 'mistral-*', 'mixtral-*', 'qwen*', 'Qwen/*', 'gemma-*'];

function withDemoUpstreams(config: Config, demoUrl: string): Config {
  return parseConfig({
    ...structuredClone(config),
    upstreams: [
      { name: 'demo-openai', kind: 'openai', provider: 'openai', base_url: `${demoUrl}/v1` },
      { name: 'demo-anthropic', kind: 'anthropic', provider: 'anthropic', base_url: demoUrl },
      { name: 'demo-selfhosted', kind: 'openai', provider: DEMO_SELFHOSTED_PROVIDER, base_url: `${demoUrl}/v1` },
    ],
    routes: [
      ...DEMO_SELFHOSTED_MODELS.map((match) => ({ match, upstream: 'demo-selfhosted' })),
      { match: '*', upstream: 'demo-openai' },
      { match: '*', upstream: 'demo-anthropic' },
    ],
    // Like the upstreams, a demo-vllm pool's engines are the simulator: its /metrics, at the pool's cadence.
    gpu_pools: config.gpu_pools.map((pool) =>
      pool.serves.includes(DEMO_SELFHOSTED_PROVIDER)
        ? {
            ...structuredClone(pool),
            metrics: { interval_ms: 15_000, timeout_ms: 2_000, ...pool.metrics, urls: [`${demoUrl}/metrics`] },
          }
        : structuredClone(pool),
    ),
  });
}

/** After a crash, an open reservation is billed for its prompt: the output is unknowable. */
export function interruptedPricer(book: PriceBook): InterruptedPricer {
  return (reservation) => {
    const buckets = { input: reservation.estimated_input_tokens };
    const priced = book.price({
      provider: reservation.provider,
      model: reservation.requested_model,
      at: reservation.time,
      buckets,
    });
    return { buckets, cost_nano: priced.cost_nano, price_ref: priced.price_ref };
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', (err) => reject(toPertokenError(err)));
    server.listen(port, host, () => resolvePromise());
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
