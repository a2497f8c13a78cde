import { describe, expect, it } from 'vitest';
import { estimate } from './estimate.js';
import { renderEstimate } from './estimate-output.js';
import { resolveEstimate } from './options.js';

const report = () => {
  const { input, concurrency, slo } = resolveEstimate({
    model: 'llama-3.1-8b',
    gpu: 'h100-sxm',
    gpus: '1',
    precision: 'fp8',
    input: '1000',
    output: '1000',
    concurrency: '1,8,64,256',
    gpuPrice: '2.99',
  });
  return estimate(input, concurrency, slo);
};

const POINT_KEYS = [
  'concurrency',
  'ttft_ms',
  'tpot_ms',
  'e2e_ms',
  'output_tokens_per_s',
  'output_tokens_per_s_per_gpu',
  'usd_per_mtok_input',
  'usd_per_mtok_output',
  'mbu',
  'mfu',
  'fits_memory',
  'bound',
];

describe('estimate output', () => {
  it('JSON has the DESIGN §3 shape', () => {
    const json = JSON.parse(renderEstimate(report(), 'json')) as Record<string, unknown>;
    expect(json.model).toBe('llama-3.1-8b');
    expect(json.gpu).toBe('h100-sxm');
    expect(json.gpus).toBe(1);
    expect(json.precision).toBe('fp8');
    const points = json.points as Array<Record<string, unknown>>;
    expect(points.map((p) => p.concurrency)).toEqual([1, 8, 64, 256]);
    for (const p of points) {
      expect(Object.keys(p)).toEqual(POINT_KEYS);
      expect(p.usd_per_mtok_output).toMatch(/^\d+\.\d{9}$/);
      expect(p.usd_per_mtok_input).toMatch(/^\d+\.\d{9}$/);
      expect(typeof p.mbu).toBe('number');
      expect(typeof p.fits_memory).toBe('boolean');
    }
    const best = json.max_throughput as Record<string, unknown>;
    expect(Object.keys(best)).toEqual(POINT_KEYS);
    expect(best.output_tokens_per_s).toBe(Math.max(...points.map((p) => p.output_tokens_per_s as number)));
  });

  it('CSV has a header and one row per point, best point marked', () => {
    const lines = renderEstimate(report(), 'csv').trimEnd().split('\n');
    expect(lines[0]).toBe([...POINT_KEYS, 'max_throughput'].join(','));
    expect(lines).toHaveLength(5);
    expect(lines[1]?.startsWith('1,')).toBe(true);
    expect(lines.filter((l) => l.endsWith(',true'))).toHaveLength(1);
    for (const line of lines.slice(1)) expect(line.split(',')).toHaveLength(POINT_KEYS.length + 1);
  });

  it('adds usd_per_mtok_blended with --mix', () => {
    const { input, concurrency } = resolveEstimate({
      model: 'llama-3.1-8b',
      gpu: 'h100-sxm',
      gpuPrice: '2',
      mix: '3:1',
      concurrency: '8',
    });
    const csv = renderEstimate(estimate(input, concurrency), 'csv');
    expect(csv.split('\n')[0]).toContain('usd_per_mtok_blended');
  });

  it('the table names the deployment and the best point', () => {
    const text = renderEstimate(report(), 'table');
    expect(text).toContain('llama-3.1-8b on 1 x h100-sxm (tp 1), fp8 weights, fp8 KV');
    expect(text).toMatch(/max throughput: [\d.]+ output tokens\/s at concurrency 256, \$[\d.]+ per 1M output tokens/);
    expect(text.split('\n')[1]).toMatch(/^concurrency +ttft_ms/);
  });
});
