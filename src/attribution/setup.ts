import type { Config, GpuPoolConfig, PriceOverrideConfig } from '../config/index.js';
import { loadPools, poolPricePerMTok } from '../selfhosted/index.js';
import { measuredCapacities, poolsFromBench, pricesFromBench } from './bench-pools.js';
import { poolFile, type PoolPersistence } from './pool-file.js';
import type { MeasuredCapacity } from './pools.js';

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
