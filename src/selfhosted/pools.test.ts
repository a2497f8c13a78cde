import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { parseDecimal } from '../money.js';
import type { GpuPool } from './pools.js';
import { exactUsdPerMillion, loadPools, poolPricePerMTok, poolsPath, resolveDataDir, savePool } from './pools.js';

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

describe('exactUsdPerMillion', () => {
  const d = (text: string | number) => parseDecimal(text, 'x');

  it('USD per 1M tokens = $/GPU-h × GPUs / 3600 / tokens per second × 1e6', () => {
    // $3.6/h = $0.001/s; 1000 tok/s -> $1 per 1M tokens
    expect(exactUsdPerMillion(d('3.6'), 1n, d('1000'))).toBe('1.000000000');
    // 2.99 × 8 / 3600 / 1234.567 × 1e6 = 5.382003928...(9th decimal rounds up)
    expect(exactUsdPerMillion(d('2.99'), 8n, d('1234.567'))).toBe('5.382003929');
    expect(exactUsdPerMillion(d('2.99'), 1n, d('0'))).toBeNull();
  });

  it('rounds the one division half-even', () => {
    // $1.8/h = $0.0005/s; at 1e12 tokens/s, 1M tokens cost 5e-10 USD = 0.5 nano: a tie
    expect(exactUsdPerMillion(d('1.8'), 1n, d('1e12'))).toBe('0.000000000'); // 0.5 nano -> 0
    expect(exactUsdPerMillion(d('5.4'), 1n, d('1e12'))).toBe('0.000000002'); // 1.5 nano -> 2
  });

  it('takes a measured rate given as a number without float noise', () => {
    // 155.22 read as a float would be 155.219999...; through its shortest text it is exact
    expect(exactUsdPerMillion(d('2.99'), 1n, d(155.22))).toBe('5.350828215');
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
