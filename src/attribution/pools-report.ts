import { formatUsd, mulDivHalfEven, parseDecimalScaled } from '../money.js';
import type { PoolAccount } from './accounts.js';
import type { Pool } from './pools.js';

export interface PoolReportJson {
  name: string;
  gpu: string | null;
  /** GPU-hours provisioned in the window, 6 decimals. */
  gpu_hours: string;
  cost_usd: string;
  busy_usd: string;
  idle_usd: string;
  /** busy / cost, 0..1 (4 decimals); null when nothing was provisioned. */
  utilization: number | null;
  tokens: number;
  output_tokens: number;
  /** Full cost (busy + idle) per 1M tokens served; null without tokens. */
  cost_per_mtok_usd: string | null;
  gpu_hours_per_mtok: string | null;
  /** What a 1M output tokens costs at full load (the capacity figure: estimator or bench). */
  capacity_cost_per_mtok_usd: string | null;
  /** The served events' own per-token cost, and the true-up to the pool's busy cost. */
  events_cost_usd: string;
  trueup_usd: string;
  idle_mode: string;
  over_capacity: boolean;
}

export function presentPool(pool: Pool, account: PoolAccount, at: number): PoolReportJson {
  const perMtok = (nano: bigint, tokens: number): string | null =>
    tokens > 0 ? formatUsd(mulDivHalfEven(nano, 1_000_000n, BigInt(tokens))) : null;
  const gpuHours = formatMicro(account.gpuMicroHours);
  return {
    name: pool.name,
    gpu: pool.gpu,
    gpu_hours: gpuHours,
    cost_usd: formatUsd(account.costNano),
    busy_usd: formatUsd(account.busyNano),
    idle_usd: formatUsd(account.idleNano),
    utilization:
      account.costNano > 0n ? Number(mulDivHalfEven(account.busyNano, 10_000n, account.costNano)) / 10_000 : null,
    tokens: account.tokens,
    output_tokens: account.outputTokens,
    cost_per_mtok_usd: perMtok(account.costNano, account.tokens),
    gpu_hours_per_mtok:
      account.tokens > 0
        ? formatMicro(mulDivHalfEven(account.gpuMicroHours, 1_000_000n, BigInt(account.tokens)))
        : null,
    capacity_cost_per_mtok_usd: capacityCost(pool, at),
    events_cost_usd: formatUsd(account.eventsNano),
    trueup_usd: formatUsd(account.busyNano - account.eventsNano),
    idle_mode: pool.idle,
    over_capacity: account.overCapacity,
  };
}

function formatMicro(micro: bigint): string {
  return formatUsd(micro * 1000n).slice(0, -3);
}

/**
 * $ per 1M output tokens at full load: rate × GPUs / 3600 / output tokens per s × 1e6, at the
 * rate in effect at `at` (or the last one). Input tokens ride along at their weight.
 */
function capacityCost(pool: Pool, at: number): string | null {
  const segment = pool.segments.find((s) => s.from <= at && at < s.to) ?? pool.segments[pool.segments.length - 1];
  if (!segment) return null;
  const outputPerS = parseDecimalScaled(pool.outputTokensPerS, 6, 'capacity.output_tokens_per_s');
  if (outputPerS === 0n) return null;
  // nano/h × gpus × 1e6 tokens / (3600 s × tokens/s), with tokens/s scaled by 1e6.
  return formatUsd(
    mulDivHalfEven(segment.nanoPerGpuHour * BigInt(segment.gpus), 1_000_000n * 1_000_000n, 3600n * outputPerS),
  );
}
