/**
 * GPU pools: measured throughput of a self-hosted deployment, stored by `pertoken bench
 * --save-pool NAME` in `<data dir>/gpu-pools.json`, so that its tokens can be priced from its GPU
 * $/hour. All amounts are decimal strings; prices come out exact (bigint, rounded half-even once).
 *
 * Splitting the GPU cost between input and output tokens is a convention, so it is explicit:
 * `input_cost_weight` w says an input token costs w times an output token. Over a second of the
 * measured load, input_tps × p_in + output_tps × p_out = $/s with p_in = w × p_out, hence
 *   p_out = $/s / (output_tps + w × input_tps),  p_in = w × p_out.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { PertokenError } from '../errors.js';
import type { Decimal } from '../money.js';
import { formatUsd, mulDivHalfEven, parseDecimal } from '../money.js';

export const POOLS_FILE = 'gpu-pools.json';

/** An input token is charged a quarter of an output token unless told otherwise. */
export const DEFAULT_INPUT_COST_WEIGHT = '0.25';

const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'a non-negative decimal string');

const PoolSchema = z.object({
  name: z.string().min(1),
  model: z.string().min(1),
  gpu: z.string().nullable(),
  gpus: z.number().int().positive(),
  gpu_price_usd_per_hour: decimal,
  output_tokens_per_s: decimal,
  input_tokens_per_s: decimal,
  input_cost_weight: decimal,
  /** What the best point was measured at, e.g. "concurrency 16" or "rate 4/s". */
  measured_at_load: z.string(),
  /** ISO date-time of the measurement. */
  measured_at: z.string(),
  source: z.string(),
});

export type GpuPool = z.infer<typeof PoolSchema>;

const FileSchema = z.object({ version: z.literal(1), pools: z.array(PoolSchema) });

/** `--data-dir`, else PERTOKEN_DATA_DIR, else ./.pertoken */
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.PERTOKEN_DATA_DIR ?? '.pertoken');
}

export function poolsPath(dataDir: string): string {
  return join(dataDir, POOLS_FILE);
}

export async function loadPools(dataDir: string): Promise<GpuPool[]> {
  const path = poolsPath(dataDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw new PertokenError(
      'config_invalid',
      `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`,
      { param: path },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PertokenError('config_invalid', `${path} is not valid JSON`, { param: path });
  }
  const parsed = FileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PertokenError(
      'config_invalid',
      `${path}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`.trim(),
      { param: path },
    );
  }
  return parsed.data.pools;
}

/** Adds the pool, or replaces the one of the same name; written atomically (temp file + rename). */
export async function savePool(dataDir: string, pool: GpuPool): Promise<void> {
  const checked = PoolSchema.safeParse(pool);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new PertokenError(
      'invalid_request',
      `GPU pool ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      { param: '--save-pool' },
    );
  }
  const pools = (await loadPools(dataDir)).filter((p) => p.name !== pool.name);
  pools.push(checked.data);
  pools.sort((a, b) => a.name.localeCompare(b.name));
  await mkdir(dataDir, { recursive: true });
  const path = poolsPath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ version: 1, pools }, null, 2) + '\n');
  await rename(tmp, path);
}

export interface PoolPrice {
  /** USD per 1M input tokens, 9 decimals. */
  input: string;
  /** USD per 1M output tokens, 9 decimals. */
  output: string;
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);
const ONE: Decimal = { units: 1n, scale: 0 };

/**
 * nano-USD per 1M tokens of GPU time, rounded half-even once:
 *   P × G / 3600 / R × 1e6 × W   with P = $/GPU-h, G = GPUs, R = tokens/s, W = cost weight.
 * Every operand is an exact decimal (units × 10^-scale), so this is one fraction:
 *   P.units × G × 1e15 × 10^R.scale × W.units / (10^P.scale × 10^W.scale × 3600 × R.units)
 * (1e15 = 1e6 tokens × 1e9 nano per USD). R must not be zero.
 */
function nanoPerMillion(price: Decimal, gpus: bigint, tokensPerS: Decimal, weight: Decimal): bigint {
  return mulDivHalfEven(
    price.units * gpus * 1_000_000_000_000_000n * pow10(tokensPerS.scale),
    weight.units,
    pow10(price.scale + weight.scale) * 3600n * tokensPerS.units,
  );
}

/**
 * Exact USD per 1M tokens (9 decimals) of a deployment at a measured rate: $/GPU-h × GPUs / 3600
 * / tokens per second × 1e6; null without throughput. What `pertoken bench` reports per point.
 */
export function exactUsdPerMillion(priceUsdPerHour: Decimal, gpus: bigint, tokensPerS: Decimal): string | null {
  if (tokensPerS.units === 0n) return null;
  return formatUsd(nanoPerMillion(priceUsdPerHour, gpus, tokensPerS, ONE));
}

/**
 * Exact USD per 1M input and output tokens of a pool (see the file comment for the split).
 * With P = $/GPU-h, G = GPUs, O = output tokens/s, I = input tokens/s, w = input weight:
 *   p_out = P × G / 3600 / (O + w × I) × 1e6,  p_in = w × p_out
 * computed on the decimal strings as one fraction each, rounded half-even to the nano-USD.
 */
export function poolPricePerMTok(pool: GpuPool): PoolPrice {
  const opts = { nonNegative: true };
  const price = parseDecimal(pool.gpu_price_usd_per_hour, 'gpu_price_usd_per_hour', opts);
  const out = parseDecimal(pool.output_tokens_per_s, 'output_tokens_per_s', opts);
  const inp = parseDecimal(pool.input_tokens_per_s, 'input_tokens_per_s', opts);
  const w = parseDecimal(pool.input_cost_weight, 'input_cost_weight', opts);
  // The weighted rate O + w × I as one exact decimal over the common scale o + i + w:
  const rate: Decimal = {
    units: out.units * pow10(inp.scale + w.scale) + w.units * inp.units * pow10(out.scale),
    scale: out.scale + inp.scale + w.scale,
  };
  if (rate.units === 0n) {
    throw new PertokenError('invalid_request', `GPU pool ${pool.name} has no measured throughput`, {
      param: 'output_tokens_per_s',
    });
  }
  const gpus = BigInt(pool.gpus);
  return {
    input: formatUsd(nanoPerMillion(price, gpus, rate, w)),
    output: formatUsd(nanoPerMillion(price, gpus, rate, ONE)),
  };
}
