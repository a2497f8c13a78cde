/**
 * Pools measured by `pertoken bench --save-pool NAME` (selfhosted's `gpu-pools.json`), as `serve`
 * loads them. A measurement names its provider (NAME is the upstream's `provider:`), its GPUs and
 * price, and its throughput, so it becomes:
 *   - the capacity of the pertoken.yaml pool of the same name when that one gives none;
 *   - a pool of its own (serving provider NAME from the day it was measured) when config has none;
 *   - per-token prices for NAME's model from the measurement on, unless `prices:` already prices
 *     provider NAME (config stays the operator's word).
 */
import type { GpuPoolConfig, PriceOverrideConfig } from '../config/index.js';
import { divRoundHalfEven, formatDecimalScaled, parseDecimalScaled } from '../money.js';
import type { GpuPool as BenchPool, PoolPrice } from '../selfhosted/index.js';
import type { MeasuredCapacity } from './pools.js';

export function measuredCapacities(bench: readonly BenchPool[]): MeasuredCapacity[] {
  return bench.map((p) => ({
    name: p.name,
    output_tokens_per_s: p.output_tokens_per_s,
    input_tokens_per_s: p.input_tokens_per_s,
  }));
}

/** Output weight = 1 / input_cost_weight, to 6 decimals (a weight, not an amount). */
function outputWeight(inputCostWeight: string): string {
  const w = parseDecimalScaled(inputCostWeight, 6, 'input_cost_weight');
  if (w === 0n) return '1000000';
  return formatDecimalScaled(divRoundHalfEven(1_000_000n * 1_000_000n, w), 6);
}

/** Measurements no config pool claims, as pools of their own. */
export function poolsFromBench(bench: readonly BenchPool[], configured: readonly GpuPoolConfig[]): GpuPoolConfig[] {
  const taken = new Set(configured.flatMap((p) => [p.name, ...p.serves]));
  return bench
    .filter((p) => !taken.has(p.name))
    .map((p) => ({
      name: p.name,
      ...(p.gpu === null ? {} : { gpu: p.gpu }),
      gpus: p.gpus,
      rates: [{ from: p.measured_at, usd_per_gpu_hour: p.gpu_price_usd_per_hour, pricing: 'on_demand' as const }],
      serves: [p.name],
      capacity: { output_tokens_per_s: p.output_tokens_per_s, input_tokens_per_s: p.input_tokens_per_s },
      output_weight: outputWeight(p.input_cost_weight),
      idle: 'line' as const,
    }));
}

/** Price overrides from the measurements, for providers `prices:` does not price. */
export function pricesFromBench(
  bench: readonly BenchPool[],
  configured: readonly PriceOverrideConfig[],
  priceOf: (pool: BenchPool) => PoolPrice,
): PriceOverrideConfig[] {
  const priced = new Set(configured.map((o) => o.provider));
  return bench
    .filter((p) => !priced.has(p.name))
    .map((p) => {
      const price = priceOf(p);
      return {
        provider: p.name,
        model: p.model,
        from: p.measured_at.slice(0, 10),
        input: price.input,
        output: price.output,
      };
    });
}
