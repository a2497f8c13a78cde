import type { Config, GpuPoolConfig, PriceOverrideConfig } from '../config/index.js';
import type { Store } from '../ledger/index.js';
import { createPriceBook, type ConfiguredPriceBook } from '../pricing/index.js';
import { loadPools, poolPricePerMTok } from '../selfhosted/index.js';
import { measuredCapacities, poolsFromBench, pricesFromBench } from './bench-pools.js';
import { poolFile, type PoolPersistence } from './pool-file.js';
import type { MeasuredCapacity } from './pools.js';
import { AttributionService } from './service.js';

/** What serve and the CLI read before pricing and attributing: config plus the data dir's pools. */
export interface CostSources {
  /** config `prices:` with the bench measurements' prices before them (config wins, see bench-pools.ts). */
  priceOverrides: PriceOverrideConfig[];
  pools: GpuPoolConfig[];
  measured: MeasuredCapacity[];
  runtimePools: GpuPoolConfig[];
  persistence: PoolPersistence;
}

export async function loadCostSources(config: Config, dataDir: string): Promise<CostSources> {
  const bench = await loadPools(dataDir);
  const persistence = poolFile(dataDir);
  return {
    priceOverrides: [...pricesFromBench(bench, config.prices, poolPricePerMTok), ...config.prices],
    pools: [...config.gpu_pools, ...poolsFromBench(bench, config.gpu_pools)],
    measured: measuredCapacities(bench),
    runtimePools: await persistence.load(),
    persistence,
  };
}

/**
 * The price book and the attribution service as `pertoken serve` builds them (and the CLI and the
 * test harness, the same way): config's prices and pools plus what the data dir holds.
 */
export async function openAttribution(
  config: Config,
  dataDir: string,
  store: Pick<Store, 'queryCosts'>,
): Promise<{ priceBook: ConfiguredPriceBook; attribution: AttributionService }> {
  const sources = await loadCostSources(config, dataDir);
  const priceBook = createPriceBook({ overrides: sources.priceOverrides });
  const attribution = new AttributionService({
    store,
    priceBook,
    pools: sources.pools,
    measured: sources.measured,
    runtimePools: sources.runtimePools,
    persistence: sources.persistence,
    sharedCosts: config.shared_costs,
    plans: config.plans,
  });
  return { priceBook, attribution };
}
