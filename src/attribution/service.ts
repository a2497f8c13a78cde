/**
 * The attribution service server.ts builds: statements, the pools report and the FOCUS export
 * over the ledger, with the pools, shared costs and plans of pertoken.yaml (and pools added
 * through the admin API).
 */
import { poolsSchema, type GpuPoolConfig, type PlanConfig, type SharedCostConfig } from '../config/index.js';
import { PertokenError } from '../errors.js';
import type { PriceBook } from '../pricing/index.js';
import { attribute, type Attribution, type UsageSource } from './attribute.js';
import type { PoolPersistence } from './pool-file.js';
import { compilePools, type MeasuredCapacity, type Pool } from './pools.js';
import { presentPool, type PoolReportJson } from './pools-report.js';
import { buildStatement, type ChargebackJson } from './statement.js';
import { monthWindow, type Window } from './window.js';

export interface AttributionDeps {
  usage: UsageSource;
  priceBook: PriceBook;
  pools: readonly GpuPoolConfig[];
  sharedCosts: readonly SharedCostConfig[];
  plans: readonly PlanConfig[];
  /** Throughput measured by `pertoken bench --save-pool`, for pools that give no capacity. */
  measured?: readonly MeasuredCapacity[];
  /** Pools added at run time (admin API), and where they are kept; none: not kept over a restart. */
  runtimePools?: readonly GpuPoolConfig[];
  persistence?: PoolPersistence;
}

export class AttributionService {
  readonly #deps: AttributionDeps;
  readonly #configPools: readonly GpuPoolConfig[];
  #extraPools: GpuPoolConfig[] = [];
  #pools: Pool[];

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
    return { created };
  }

  attribute(window: Window): Promise<Attribution> {
    return attribute(window, {
      pools: this.#pools,
      sharedCosts: this.#deps.sharedCosts,
      priceBook: this.#deps.priceBook,
      usage: this.#deps.usage,
    });
  }

  async chargeback(period: string, tenant: string | null = null): Promise<ChargebackJson> {
    const window = monthWindow(period);
    return buildStatement(await this.attribute(window), this.#deps.plans, { period, tenant });
  }

  async poolsReport(window: Window): Promise<{ from: string; to: string; pools: PoolReportJson[] }> {
    const attribution = await this.attribute(window);
    return {
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      pools: this.#pools.map((pool, i) => presentPool(pool, attribution.pools[i]!, window.to.getTime() - 1)),
    };
  }
}
