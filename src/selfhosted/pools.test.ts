import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { decimalOfNumber, divideHalfEven, exactUsdPerMillion, formatNano, parseDecimal } from './money.js';
import type { GpuPool } from './pools.js';
import { loadPools, poolPricePerMTok, poolsPath, resolveDataDir, savePool } from './pools.js';

const pool = (over: Partial<GpuPool> = {}): GpuPool => ({
  name: 'h100-llama8b',
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  gpu: 'h100-sxm',
  gpus: 1,
  gpu_price_usd_per_hour: '2.99',
  output_tokens_per_s: '155.220',
  input_tokens_per_s: '620.900',
  input_cost_weight: '0.25',
  measured_at_load: 'concurrency 16',
  measured_at: '2026-11-01T10:00:00.000Z',
  source: 'pertoken bench http://gpu-box:8000/v1',
  ...over,
});

describe('exact decimal money', () => {
  it('rounds half to even once', () => {
    expect(divideHalfEven(5n, 2n)).toBe(2n); // 2.5 -> 2
    expect(divideHalfEven(7n, 2n)).toBe(4n); // 3.5 -> 4
    expect(divideHalfEven(11n, 4n)).toBe(3n); // 2.75 -> 3
    expect(formatNano(1_234_567n)).toBe('0.001234567');
    expect(formatNano(12_345_678_901n)).toBe('12.345678901');
  });

  it('USD per 1M tokens = $/GPU-h × GPUs / 3600 / tokens per second × 1e6', () => {
    // $3.6/h = $0.001/s; 1000 tok/s -> $1 per 1M tokens
    expect(exactUsdPerMillion(parseDecimal('3.6', 'p'), 1n, parseDecimal('1000', 't'))).toBe('1.000000000');
    // 2.99 × 8 / 3600 / 1234.567 × 1e6 = 5.382003928...(9th decimal rounds up)
    expect(exactUsdPerMillion(parseDecimal('2.99', 'p'), 8n, parseDecimal('1234.567', 't'))).toBe('5.382003929');
    expect(exactUsdPerMillion(parseDecimal('2.99', 'p'), 1n, parseDecimal('0', 't'))).toBeNull();
  });

  it('parses decimals strictly and converts numbers without float noise', () => {
    expect(parseDecimal('2.990', 'x')).toEqual({ units: 2990n, scale: 3 });
    expect(decimalOfNumber(0.1, 'x')).toEqual({ units: 1n, scale: 1 });
    expect(() => parseDecimal('-1', '--gpu-price')).toThrow(PertokenError);
    expect(() => parseDecimal('1e3', '--gpu-price')).toThrow(/non-negative decimal/);
  });
});

describe('pool prices', () => {
  it('splits the GPU cost by the input weight, exactly', () => {
    // output + 0.25 × input = 155.22 + 155.225 = 310.445 weighted tokens/s
    // p_out = 2.99 / 3600 / 310.445 × 1e6 = 2.675371017589... -> 2.675371018
    // p_in  = 0.25 × p_out = 0.668842754397... -> 0.668842754
    expect(poolPricePerMTok(pool())).toEqual({ input: '0.668842754', output: '2.675371018' });
  });

  it('charges everything to output tokens with weight 0', () => {
    // 2.99 / 3600 / 155.22 × 1e6 = 5.3508282151... -> 5.350828215
    expect(poolPricePerMTok(pool({ input_cost_weight: '0' }))).toEqual({ input: '0.000000000', output: '5.350828215' });
  });

  it('scales with the GPU count', () => {
    const one = poolPricePerMTok(
      pool({ input_cost_weight: '0', gpu_price_usd_per_hour: '3.6', output_tokens_per_s: '1000' }),
    );
    const eight = poolPricePerMTok(
      pool({ input_cost_weight: '0', gpu_price_usd_per_hour: '3.6', output_tokens_per_s: '1000', gpus: 8 }),
    );
    expect(one.output).toBe('1.000000000');
    expect(eight.output).toBe('8.000000000');
  });

  it('refuses a pool without throughput', () => {
    expect(() => poolPricePerMTok(pool({ output_tokens_per_s: '0', input_tokens_per_s: '0' }))).toThrow(
      /no measured throughput/,
    );
  });
});

describe('pool storage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pertoken-pools-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns no pools before the file exists', async () => {
    expect(await loadPools(join(dir, 'missing'))).toEqual([]);
  });

  it('saves, reloads and replaces a pool by name', async () => {
    const data = join(dir, 'data');
    await savePool(data, pool());
    await savePool(data, pool({ name: 'a100-pool', gpu: 'a100-80gb', gpus: 2 }));
    await savePool(data, pool({ output_tokens_per_s: '200.000' }));
    const pools = await loadPools(data);
    expect(pools.map((p) => p.name)).toEqual(['a100-pool', 'h100-llama8b']);
    expect(pools[1]?.output_tokens_per_s).toBe('200.000');
    const raw = JSON.parse(await readFile(poolsPath(data), 'utf8')) as { version: number };
    expect(raw.version).toBe(1);
  });

  it('rejects a corrupt file naming it', async () => {
    await writeFile(poolsPath(dir), '{"version":1,"pools":[{"name":""}]}');
    await expect(loadPools(dir)).rejects.toThrow(PertokenError);
    await writeFile(poolsPath(dir), 'not json');
    await expect(loadPools(dir)).rejects.toThrow(/is not valid JSON/);
  });

  it('rejects an invalid pool', async () => {
    await expect(savePool(dir, pool({ gpu_price_usd_per_hour: 'free' }))).rejects.toThrow(/gpu_price_usd_per_hour/);
  });

  it('takes the data dir from the flag, then PERTOKEN_DATA_DIR, then ./.pertoken', () => {
    expect(resolveDataDir('/x/flag', { PERTOKEN_DATA_DIR: '/x/env' })).toBe('/x/flag');
    expect(resolveDataDir(undefined, { PERTOKEN_DATA_DIR: '/x/env' })).toBe('/x/env');
    expect(resolveDataDir(undefined, {})).toBe(join(process.cwd(), '.pertoken'));
  });
});
