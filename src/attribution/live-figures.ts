/**
 * The figures of pool telemetry, from engine readings: rates from counter increases, and the
 * pool's live cost per token in exact nano-USD (src/money.ts).
 */
import { formatUsd, mulDivHalfEven } from '../money.js';
import type { Pool } from './pools.js';
import type { EngineReading } from './serving-engines.js';

const MS_PER_HOUR = 3_600_000n;

/** A reading and when its answer arrived (epoch ms). */
export interface TimedReading extends EngineReading {
  readonly at: number;
}

/** Tokens an engine counted between two scrapes, over how long. */
export interface Rate {
  readonly ms: number;
  readonly prompt: number | null;
  readonly generation: number | null;
}

/** What an engine counted between two of its scrapes; null unless the later one is later. */
export function rateBetween(previous: TimedReading | null, latest: TimedReading | null): Rate | null {
  if (previous === null || latest === null || latest.at <= previous.at) return null;
  const ms = Math.max(1, Math.round(latest.at - previous.at));
  const fromGauge = latest.generationTokensPerS === null ? null : (latest.generationTokensPerS * ms) / 1000;
  return {
    ms,
    prompt: increase(previous.promptTokens, latest.promptTokens),
    generation: increase(previous.generationTokens, latest.generationTokens) ?? fromGauge,
  };
}

/** A counter's increase; one that went down was reset, and all it holds now is new. */
function increase(before: number | null, after: number | null): number | null {
  if (before === null || after === null) return null;
  return after >= before ? after - before : after;
}

export function perSecond(tokens: number | null, ms: number): number | null {
  return tokens === null ? null : (tokens * 1000) / ms;
}

export function sumOrNull(values: ReadonlyArray<number | null>): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0);
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** nano-USD per hour of the pool at `at`: rate × GPUs of the segment in effect; null outside them. */
export function hourlyNano(pool: Pool, at: number): bigint | null {
  const segment = pool.segments.find((s) => s.from <= at && at < s.to);
  return segment === undefined ? null : segment.nanoPerGpuHour * BigInt(segment.gpus);
}

export function utilization(pool: Pool, promptPerS: number | null, generationPerS: number | null): number | null {
  if (promptPerS === null && generationPerS === null) return null;
  const weight = Number(pool.outputWeight.units) / 10 ** pool.outputWeight.scale;
  const capacity = Number(pool.capacity.units) / 10 ** pool.capacity.scale;
  const work = (promptPerS ?? 0) + weight * (generationPerS ?? 0);
  return capacity > 0 ? round(work / capacity, 4) : null;
}

/**
 * hourly × 1e6 / tokens per hour, exactly. Engine i counted t_i whole tokens in e_i ms, so the
 * pool serves Σ t_i × 3.6e6 / e_i tokens an hour = N / D with D = lcm(e_i) and
 * N = Σ t_i × 3.6e6 × (D / e_i); the cost is hourly × 1e6 × D / N, rounded half-even once.
 */
export function costPerMtok(hourlyNanoUsd: bigint, rates: readonly Rate[]): string | null {
  const counted = rates.flatMap((r) =>
    r.prompt === null && r.generation === null
      ? []
      : [{ tokens: BigInt(Math.round((r.prompt ?? 0) + (r.generation ?? 0))), ms: BigInt(r.ms) }],
  );
  if (counted.length === 0) return null;
  const d = counted.reduce((acc, c) => lcm(acc, c.ms), 1n);
  const n = counted.reduce((acc, c) => acc + c.tokens * MS_PER_HOUR * (d / c.ms), 0n);
  return n === 0n ? null : formatUsd(mulDivHalfEven(hourlyNanoUsd * 1_000_000n, d, n));
}

function lcm(a: bigint, b: bigint): bigint {
  let x = a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return (a / x) * b;
}
