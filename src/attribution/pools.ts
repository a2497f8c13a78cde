/**
 * GPU pools as cost sources (OpenCost's model, applied to tokens). Over a slice of time in which a
 * pool neither changes rate nor size:
 *
 *   cost = GPUs × hours × rate                                   (paid busy or idle)
 *   busy = cost × served work / (capacity × seconds), at most cost
 *   idle = cost − busy                                           (never negative)
 *
 * Work is counted in input-token units: an output token is `output_weight` input tokens of GPU
 * time, so a pool's capacity is input_tokens_per_s + output_weight × output_tokens_per_s at full
 * load (the split `pertoken bench --save-pool` measures). Served work beyond capacity makes the
 * whole cost busy and flags the pool `over_capacity`: the capacity figure is then too low.
 */
import type { GpuPoolConfig, IdleMode, PoolPricing } from '../config/index.js';
import { PertokenError } from '../errors.js';
import { divRoundHalfEven, mulDivHalfEven, parseDecimal, parseDecimalScaled, type Decimal } from '../money.js';
import { INPUT_BUCKETS, OUTPUT_BUCKETS, type Bucket, type Buckets } from '../usage/index.js';
import { estimatePoolCapacity } from './estimated-capacity.js';
import { instantMs, overlapMs, type Window } from './window.js';

const MS_PER_HOUR = 3_600_000n;

export interface RateSegment {
  readonly from: number;
  /** Exclusive; the next rate's start, the pool's end, or +Infinity. */
  readonly to: number;
  /** nano-USD per GPU-hour. */
  readonly nanoPerGpuHour: bigint;
  readonly usdPerGpuHour: string;
  readonly gpus: number;
  readonly pricing: PoolPricing;
}

export interface Pool {
  readonly name: string;
  readonly gpu: string | null;
  readonly serves: ReadonlySet<string>;
  readonly segments: readonly RateSegment[];
  /** Work per second at full load of `gpus` GPUs, in input-token units (scales with a resize). */
  readonly capacity: Decimal;
  readonly gpus: number;
  readonly outputTokensPerS: string;
  readonly inputTokensPerS: string;
  readonly outputWeight: Decimal;
  readonly idle: IdleMode;
  readonly telemetryUrls: readonly string[];
}

/** A pool's throughput from `pertoken bench --save-pool` (selfhosted's record, in its units). */
export interface MeasuredCapacity {
  readonly name: string;
  readonly output_tokens_per_s: string;
  readonly input_tokens_per_s: string;
}

/** Compiles config pools, taking a missing capacity from the bench measurement of the same name. */
export function compilePools(configs: readonly GpuPoolConfig[], measured: readonly MeasuredCapacity[]): Pool[] {
  return configs.map((config, i) => {
    const bench = measured.find((m) => m.name === config.name);
    const given = config.capacity;
    const capacity =
      given === undefined
        ? bench
          ? { output_tokens_per_s: bench.output_tokens_per_s, input_tokens_per_s: bench.input_tokens_per_s }
          : null
        : 'estimate' in given
          ? estimatePoolCapacity(config, given.estimate, `gpu_pools.${i}.capacity.estimate`)
          : given;
    if (capacity === null) {
      throw new PertokenError(
        'config_invalid',
        `pool "${config.name}" has no capacity: give capacity: {output_tokens_per_s: ...} or {estimate: {model: ...}}, or run ` +
          `pertoken bench --save-pool ${config.name}`,
        { param: `gpu_pools.${i}.capacity` },
      );
    }
    const weight = parseDecimal(config.output_weight, `gpu_pools.${i}.output_weight`, { nonNegative: true });
    const input = parseDecimal(capacity.input_tokens_per_s, `gpu_pools.${i}.capacity.input_tokens_per_s`);
    const output = parseDecimal(capacity.output_tokens_per_s, `gpu_pools.${i}.capacity.output_tokens_per_s`);
    // input + weight × output as one decimal: scale = input.scale + weight.scale + output.scale.
    const units =
      input.units * 10n ** BigInt(weight.scale + output.scale) +
      weight.units * output.units * 10n ** BigInt(input.scale);
    if (units === 0n) {
      throw new PertokenError('config_invalid', `pool "${config.name}" has zero capacity`, {
        param: `gpu_pools.${i}.capacity`,
      });
    }
    const end = config.to === undefined ? Number.POSITIVE_INFINITY : instantMs(config.to);
    const segments = config.rates.map((rate, r): RateSegment => {
      const next = config.rates[r + 1];
      return {
        from: instantMs(rate.from),
        to: Math.min(next ? instantMs(next.from) : Number.POSITIVE_INFINITY, end),
        nanoPerGpuHour: parseDecimalScaled(rate.usd_per_gpu_hour, 9, `gpu_pools.${i}.rates.${r}.usd_per_gpu_hour`),
        usdPerGpuHour: rate.usd_per_gpu_hour,
        gpus: rate.gpus ?? config.gpus,
        pricing: rate.pricing,
      };
    });
    return {
      name: config.name,
      gpu: config.gpu ?? null,
      serves: new Set(config.serves),
      segments,
      capacity: { units, scale: input.scale + weight.scale + output.scale },
      gpus: config.gpus,
      outputTokensPerS: capacity.output_tokens_per_s,
      inputTokensPerS: capacity.input_tokens_per_s,
      outputWeight: weight,
      idle: config.idle,
      telemetryUrls: config.metrics?.urls ?? [],
    };
  });
}

/** Every instant at which some pool starts, changes rate or size, or ends. */
export function poolBoundaries(pools: readonly Pool[]): number[] {
  return pools.flatMap((p) => p.segments.flatMap((s) => [s.from, s.to])).filter(Number.isFinite);
}

/** The rate segment covering a slice (slices are cut at every boundary), or null when unprovisioned. */
export function segmentOf(pool: Pool, slice: Window): RateSegment | null {
  const from = slice.from.getTime();
  return pool.segments.find((s) => s.from <= from && from < s.to) ?? null;
}

export interface SliceCost {
  readonly segment: RateSegment;
  readonly ms: number;
  readonly costNano: bigint;
}

/** What provisioning the pool cost over a slice: GPUs × hours × rate, rounded half-even once. */
export function sliceCost(pool: Pool, slice: Window): SliceCost | null {
  const segment = segmentOf(pool, slice);
  if (segment === null) return null;
  const ms = overlapMs(slice.from.getTime(), slice.to.getTime(), segment.from, segment.to);
  if (ms <= 0) return null;
  return {
    segment,
    ms,
    costNano: mulDivHalfEven(segment.nanoPerGpuHour * BigInt(segment.gpus), BigInt(ms), MS_PER_HOUR),
  };
}

/**
 * Work of some tokens in input-token units, scaled by 10^outputWeight.scale (an exact integer):
 * input-side tokens count 1, output-side tokens count output_weight; per-call units count 0.
 */
export function workOf(pool: Pool, tokens: Buckets): bigint {
  const w = pool.outputWeight;
  let work = 0n;
  for (const b of INPUT_BUCKETS) work += BigInt(tokens[b] ?? 0) * 10n ** BigInt(w.scale);
  for (const b of OUTPUT_BUCKETS) work += BigInt(tokens[b] ?? 0) * w.units;
  return work;
}

/** The work weight of one bucket's tokens (same scale as workOf). */
export function bucketWork(pool: Pool, bucket: Bucket, tokens: number): bigint {
  if (INPUT_BUCKETS.includes(bucket)) return BigInt(tokens) * 10n ** BigInt(pool.outputWeight.scale);
  if (OUTPUT_BUCKETS.includes(bucket)) return BigInt(tokens) * pool.outputWeight.units;
  return 0n;
}

export interface BusySplit {
  readonly busyNano: bigint;
  readonly idleNano: bigint;
  readonly overCapacity: boolean;
}

/**
 * busy = cost × work / (capacity × seconds): with work = W / 10^ws, capacity = C / 10^cs scaled
 * to the slice's GPUs (g of the pool's G) and seconds = ms / 1000, that is
 * cost × W × 10^cs × 1000 × G / (10^ws × C × g × ms), rounded half-even once.
 */
export function busySplit(pool: Pool, cost: SliceCost, work: bigint): BusySplit {
  const numerator = cost.costNano * work * 10n ** BigInt(pool.capacity.scale) * 1000n * BigInt(pool.gpus);
  const denominator =
    10n ** BigInt(pool.outputWeight.scale) * pool.capacity.units * BigInt(cost.segment.gpus) * BigInt(cost.ms);
  if (numerator >= cost.costNano * denominator && work > 0n) {
    // At or past capacity: everything is busy. Exactly at capacity is not "over".
    return { busyNano: cost.costNano, idleNano: 0n, overCapacity: numerator > cost.costNano * denominator };
  }
  const busyNano = divRoundHalfEven(numerator, denominator);
  return { busyNano, idleNano: cost.costNano - busyNano, overCapacity: false };
}

/** GPU-hours provisioned over a slice, as an exact decimal string with 6 places. */
export function gpuMicroHours(cost: SliceCost): bigint {
  return mulDivHalfEven(BigInt(cost.segment.gpus) * BigInt(cost.ms), 1_000_000n, MS_PER_HOUR);
}
