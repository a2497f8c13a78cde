/**
 * The attribution service server.ts builds: statements, the pools report and the FOCUS export
 * over the ledger, with the pools, shared costs and plans of pertoken.yaml (and pools added
 * through the admin API).
 */
import { poolsSchema, type GpuPoolConfig, type PlanConfig, type SharedCostConfig } from '../config/index.js';
import { PertokenError } from '../errors.js';
import type { PriceBook } from '../pricing/index.js';
import type { Store } from '../ledger/index.js';
import { attribute, type Attribution, type UsageSource } from './attribute.js';
import { focusCsv, focusRecords } from './focus.js';
import type { FocusRecord } from './focus-columns.js';
import { PoolTelemetry, telemetryTargets, type PoolTelemetryJson, type PoolTelemetryOptions } from './telemetry.js';
import { ledgerUsage } from './usage.js';
import type { PoolPersistence } from './pool-file.js';
import { compilePools, type MeasuredCapacity, type Pool } from './pools.js';
import { presentPool, type PoolReportJson } from './pools-report.js';
import { buildStatement, type ChargebackJson } from './statement.js';
import { monthWindow, type Window } from './window.js';

export interface AttributionDeps {
  /** The ledger: usage for statements and pools, hourly rows for FOCUS. */
  store: Pick<Store, 'queryCosts'>;
  /** Where statements read usage; default: the ledger's rollups (ledgerUsage). */
  usage?: UsageSource;
  priceBook: PriceBook;
  pools: readonly GpuPoolConfig[];
  sharedCosts: readonly SharedCostConfig[];
  plans: readonly PlanConfig[];
  /** Throughput measured by `pertoken bench --save-pool`, for pools that give no capacity. */
  measured?: readonly MeasuredCapacity[];
  /** The clock: a window is attributed up to now, never into hours not yet provisioned. Default: Date. */
  now?: () => Date;
  /** Who runs the pools and pays the shared costs, in the FOCUS export (default "pertoken"). */
  organization?: string;
  /** Pools added at run time (admin API), and where they are kept; none: not kept over a restart. */
  runtimePools?: readonly GpuPoolConfig[];
  persistence?: PoolPersistence;
}

export class AttributionService {
  readonly #deps: AttributionDeps;
  readonly #configPools: readonly GpuPoolConfig[];
  #extraPools: GpuPoolConfig[] = [];
  #pools: Pool[];
  #telemetry: PoolTelemetry | null = null;
  #telemetryOptions: PoolTelemetryOptions | null = null;

  constructor(deps: AttributionDeps) {
    this.#deps = deps;
    this.#configPools = deps.pools;
    this.#extraPools = (deps.runtimePools ?? []).filter((p) => !deps.pools.some((c) => c.name === p.name));
    this.#pools = compilePools([...deps.pools, ...this.#extraPools], deps.measured ?? []);
  }

  get pools(): readonly Pool[] {
    return this.#pools;
  }

  /** Pool definitions: config's first, then the ones added at run time. */
  poolConfigs(): readonly GpuPoolConfig[] {
    return [...this.#configPools, ...this.#extraPools];
  }

  /**
   * Adds or replaces a run-time pool. A pool declared in pertoken.yaml cannot be replaced here
   * (config is the source of truth every replica shares); the whole set is checked as config is,
   * kept, and only then served.
   */
  async putPool(pool: GpuPoolConfig): Promise<{ created: boolean }> {
    if (this.#configPools.some((p) => p.name === pool.name)) {
      throw new PertokenError('conflict', `pool "${pool.name}" is declared in pertoken.yaml; change it there`, {
        param: 'name',
      });
    }
    const created = !this.#extraPools.some((p) => p.name === pool.name);
    const extra = [...this.#extraPools.filter((p) => p.name !== pool.name), pool];
    const all = [...this.#configPools, ...extra];
    const checked = poolsSchema.safeParse(all);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new PertokenError('conflict', issue?.message ?? 'invalid pool', {
        param: issue?.path.slice(1).join('.') || null,
      });
    }
    let compiled: Pool[];
    try {
      compiled = compilePools(all, this.#deps.measured ?? []);
    } catch (err) {
      if (err instanceof PertokenError) throw new PertokenError('invalid_request', err.message, { param: 'capacity' });
      throw err;
    }
    await this.#deps.persistence?.save(extra);
    this.#extraPools = extra;
    this.#pools = compiled;
    if (this.#telemetryOptions !== null) await this.startTelemetry(this.#telemetryOptions);
    return { created };
  }

  /**
   * Scrapes the serving engines of every pool that names them (`metrics.urls`) in the background;
   * the pools report then carries their live figures. Restarted when a run-time pool changes.
   */
  async startTelemetry(options: PoolTelemetryOptions = {}): Promise<void> {
    await this.#telemetry?.stop();
    this.#telemetryOptions = options;
    this.#telemetry = new PoolTelemetry(telemetryTargets(this.#pools, this.poolConfigs()), options);
    this.#telemetry.start();
  }

  /** The live figures of a pool's engines, or null (no endpoints, or not scraped twice yet). */
  live(pool: string): PoolTelemetryJson | null {
    return this.#telemetry?.snapshot(pool) ?? null;
  }

  /** Stops the telemetry timers and aborts scrapes under way. */
  async close(): Promise<void> {
    this.#telemetryOptions = null;
    await this.#telemetry?.stop();
    this.#telemetry = null;
  }

  /** The window up to now: the current month's statement is month to date, GPU hours included. */
  toDate(window: Window): Window {
    const now = (this.#deps.now ?? (() => new Date()))();
    if (window.to <= now) return window;
    return { from: window.from, to: new Date(Math.max(window.from.getTime(), now.getTime())) };
  }

  attribute(window: Window): Promise<Attribution> {
    return attribute(this.toDate(window), {
      pools: this.#pools,
      sharedCosts: this.#deps.sharedCosts,
      priceBook: this.#deps.priceBook,
      usage: this.#deps.usage ?? ledgerUsage(this.#deps.store),
    });
  }

  async chargeback(period: string, tenant: string | null = null): Promise<ChargebackJson> {
    const window = monthWindow(period);
    return buildStatement(await this.attribute(window), this.#deps.plans, { period, tenant });
  }

  /**
   * The FOCUS 1.2 export of a window as CSV chunks, read from the ledger one day at a time. Narrowed
   * to a tenant (a `read` key), it holds that tenant's rows only, never the unallocated ones.
   */
  async focus(window: Window, tenant: string | null = null): Promise<AsyncIterable<string>> {
    const upToNow = this.toDate(window);
    const records = focusRecords(upToNow, {
      store: this.#deps.store,
      priceBook: this.#deps.priceBook,
      attribution: await this.attribute(upToNow),
      pools: this.#pools,
      sharedCosts: this.#deps.sharedCosts,
      ...(this.#deps.organization ? { organization: this.#deps.organization } : {}),
    });
    return focusCsv(tenant === null ? records : onlyTenant(records, tenant));
  }

  async poolsReport(
    window: Window,
  ): Promise<{ from: string; to: string; pools: Array<PoolReportJson & { live: PoolTelemetryJson | null }> }> {
    const attribution = await this.attribute(window);
    const { from, to } = attribution.window;
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      pools: this.#pools.map((pool, i) => ({
        ...presentPool(pool, attribution.pools[i]!, Math.max(from.getTime(), to.getTime() - 1)),
        live: this.live(pool.name),
      })),
    };
  }
}

async function* onlyTenant(records: AsyncIterable<FocusRecord>, tenant: string): AsyncGenerator<FocusRecord> {
  for await (const record of records) if (record.SubAccountId === tenant) yield record;
}
