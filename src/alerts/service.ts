import type { Logger } from 'pino';
import type { AlertsConfig } from '../config/index.js';
import type { Budget } from '../governance/index.js';
import type { LedgerStore } from '../ledger/index.js';
import type { NamedDetector } from './detect.js';
import { forecastSpend, type ForecastJson, type ForecastPeriod, type ForecastScope } from './forecast.js';
import { applyFindings } from './lifecycle.js';
import { startAlertDelivery, type AlertDelivery } from './outbox.js';
import { presentAlert, type AlertJson } from './present.js';
import type { AlertSink } from './sinks/index.js';
import type { AlertQuery, AlertStore } from './store/index.js';
import type { AlertKind, Finding, Severity, Silence } from './types.js';
import type { SilenceInput } from './silences.js';

export interface AlertServiceOptions {
  /** The shared ledger the detectors read (a replica reads PostgreSQL, not its outbox). */
  ledger: LedgerStore;
  store: AlertStore;
  config: AlertsConfig;
  detectors: readonly NamedDetector[];
  sinks: readonly AlertSink[];
  /** Budget definitions (governance); none without governance. */
  budgets: () => Promise<Budget[]>;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  now?: () => Date;
  /** After each evaluation: the alerts firing per kind and severity (the Prometheus gauge). */
  onFiring?: (counts: Array<{ kind: AlertKind; severity: Severity; firing: number }>) => void;
}

/** The reply of `POST /api/v1/admin/alerts/evaluate`. */
export interface EvaluationJson {
  at: string;
  findings: number;
  opened: AlertJson[];
  escalated: AlertJson[];
  resolved: AlertJson[];
  renotified: number;
  /** Detectors that failed (their kinds' alerts were left as they were). */
  failed: Array<{ detector: string; error: string }>;
}

/**
 * The alerts pipeline as `serve` runs it: every detector as of an instant, the findings through
 * the lifecycle (which queues notifications in the durable outbox), and the delivery loop that
 * empties the outbox into the sinks. Evaluations never overlap: a second call waits for the first,
 * so the interval timer and the evaluate endpoint cannot apply findings out of order.
 */
export class AlertService {
  readonly #o: AlertServiceOptions;
  readonly #now: () => Date;
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #delivery: AlertDelivery | null = null;
  #running: Promise<unknown> | null = null;

  constructor(options: AlertServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** Evaluates every `interval_s` and delivers notifications in the background. */
  start(): void {
    if (!this.#o.config.enabled || this.#timer !== null) return;
    this.#delivery = startAlertDelivery({ store: this.#o.store, sinks: this.#o.sinks, log: this.#o.log });
    this.#timer = setInterval(() => {
      this.#running ??= this.evaluate(this.#now())
        .catch((err: unknown) => this.#o.log.error({ err }, 'alerts: evaluation failed; retried next interval'))
        .finally(() => {
          this.#running = null;
        });
    }, this.#o.config.interval_s * 1000);
    this.#timer.unref();
  }

  /** Runs every detector as of `at` (only events before it count) and applies what they found. */
  evaluate(at: Date): Promise<EvaluationJson> {
    const run = this.#chain.then(() => this.#evaluate(at));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #evaluate(at: Date): Promise<EvaluationJson> {
    const budgets = await this.#o.budgets();
    const ctx = { at, store: this.#o.ledger, config: this.#o.config, budgets };
    const findings: Finding[] = [];
    const kinds = new Set<AlertKind>();
    const failedKinds = new Set<AlertKind>();
    const failed: EvaluationJson['failed'] = [];
    const results = await Promise.allSettled(this.#o.detectors.map((d) => d.detect(ctx)));
    results.forEach((result, i) => {
      const detector = this.#o.detectors[i] as NamedDetector;
      if (result.status === 'fulfilled') {
        findings.push(...result.value);
        for (const kind of detector.kinds) kinds.add(kind);
        return;
      }
      for (const kind of detector.kinds) failedKinds.add(kind);
      const error = result.reason instanceof Error ? result.reason.message : String(result.reason);
      failed.push({ detector: detector.name, error });
      this.#o.log.error({ err: result.reason, detector: detector.name }, 'alerts: a detector failed');
    });
    // A kind two detectors share (data_quality) resolves only when both ran.
    const ran = [...kinds].filter((k) => !failedKinds.has(k));
    const applied = await applyFindings(this.#o.store, findings, at, { config: this.#o.config, kinds: ran });
    await this.#reportFiring();
    return {
      at: at.toISOString(),
      findings: findings.length,
      opened: applied.opened.map(presentAlert),
      escalated: applied.escalated.map(presentAlert),
      resolved: applied.resolved.map(presentAlert),
      renotified: applied.renotified.length,
      failed,
    };
  }

  async #reportFiring(): Promise<void> {
    if (!this.#o.onFiring) return;
    const counts = await this.#o.store.firingCounts();
    this.#o.onFiring(counts.map((c) => ({ kind: c.kind, severity: c.severity, firing: c.count })));
  }

  /** `GET /api/v1/alerts`. */
  async list(query: AlertQuery): Promise<{ alerts: AlertJson[] }> {
    return { alerts: (await this.#o.store.listAlerts(query)).map(presentAlert) };
  }

  /** `POST /api/v1/admin/silences`. */
  silence(input: SilenceInput): Promise<Silence> {
    return this.#o.store.createSilence(input, this.#now());
  }

  /** `GET /api/v1/forecast`. */
  async forecast(scope: ForecastScope, period: ForecastPeriod, at: Date): Promise<ForecastJson> {
    return forecastSpend({ store: this.#o.ledger, scope, period, at, budgets: await this.#o.budgets() });
  }

  /** Stops the timer and the delivery loop, waiting for an evaluation under way. */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
    await this.#chain;
    await this.#delivery?.stop();
  }
}
