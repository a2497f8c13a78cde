import { describe, expect, it } from 'vitest';
import { thrownBy } from '../testing/errors.js';
import { GPUS } from './catalog/index.js';
import { deploymentOf, estimate, estimatePoint } from './estimate.js';
import type { EstimateFlags } from './options.js';
import { resolveEstimate } from './options.js';

/**
 * A made-up deployment with round numbers: a dense 10B model (10 layers, width 1000, 8 KV heads of
 * 125) at fp8 on one 100 GB, 1 TB/s, 1000 TFLOPS GPU, every efficiency 1 and no overheads.
 * Weights 10e9 B; KV 2 × 10 × 8 × 125 × 1 B = 20,000 B per token.
 */
const ROUND: EstimateFlags = {
  paramsB: '10',
  layers: '10',
  hiddenSize: '1000',
  heads: '8',
  kvHeads: '8',
  headDim: '125',
  hbmGb: '100',
  bandwidthTbs: '1',
  tflops: '1000',
  precision: 'fp8',
  memEfficiency: '1',
  computeEfficiency: '1',
  commEfficiency: '1',
  memoryUtilization: '1',
  stepOverheadMs: '0',
  requestOverheadUs: '0',
  input: '100',
  output: '101',
  gpuPrice: '3.6', // $0.001 per GPU-second
};

function run(flags: EstimateFlags) {
  const { input, concurrency, slo } = resolveEstimate(flags);
  return estimate(input, concurrency, slo);
}

describe('estimate on hand-computed cases', () => {
  it('static batch of 1: prefill, then O − 1 memory-bound decode steps', () => {
    const r = run({ ...ROUND, batching: 'static', concurrency: '1' });
    const p = r.points[0];
    // prefill: 100 tokens. weights 10e9 B / 1e12 B/s = 10 ms; GEMM 2 × 10e9 × 100 = 2e12 FLOPs at
    //   1e15 × 100/164 = 3.28 ms → 10 ms; KV write 100 × 20,000 B = 2 µs → TTFT 10.002 ms
    expect(p?.ttft_ms).toBe(10.002);
    // decode step: 10 ms of weights + KV read 1 × (100 + 101/2) × 20,000 + write 20,000 B = 3.03e6 B
    //   = 3.03 µs → 10.00303 ms → TPOT 10.003 ms
    expect(p?.tpot_ms).toBe(10.003);
    // total 10.002 ms + 100 × 10.00303 ms = 1010.305 ms for 101 tokens → 99.96998 tok/s
    expect(p?.e2e_ms).toBe(1010.305);
    expect(p?.output_tokens_per_s).toBe(99.97);
    expect(p?.output_tokens_per_s_per_gpu).toBe(99.97);
    // every pass is memory-bound at full efficiency: bytes moved / time = 1e12 B/s = the peak
    expect(p?.mbu).toBe(1);
    // FLOPs (2.0002e12 + 100 × 2.0006e10) / 1.010305 s / 1e15 = 0.00396
    expect(p?.mfu).toBe(0.004);
    expect(p?.bound).toBe('memory');
    // input: 1e6 tokens = 1e4 prefills × 10.002 ms × $0.001/s = $0.10002
    expect(p?.usd_per_mtok_input).toBe('0.100020000');
    // output: 101 tokens cost 100 steps × 10.00303 ms × $0.001/s → 1e6 tokens = $9.903990099
    expect(p?.usd_per_mtok_output).toBe('9.903990099');
    // memory: (100e9 − 10e9) B / (201 tokens × 20,000 B) = 22,388 requests
    expect(r.max_concurrency_memory).toBe(22_388);
    expect(r.weights_gb).toBe(10);
    expect(r.kv_bytes_per_token).toBe(20_000);
  });

  it('continuous batching at concurrency 1: each step also carries 1/O of a prompt', () => {
    const p = run({ ...ROUND, concurrency: '1' }).points[0];
    // step: 1 decode token + 100/101 prompt tokens; still 10 ms of weights + 3.05 µs of KV → 10.003 ms
    expect(p?.tpot_ms).toBe(10.003);
    // admitting a request = a pass over its 100-token prompt, nothing to wait for at concurrency 1
    expect(p?.ttft_ms).toBe(10.002);
    // 1 token per 10.00305 ms
    expect(p?.output_tokens_per_s).toBe(99.97);
    expect(p?.e2e_ms).toBeCloseTo(10.002 + 100 * 10.00305, 2);
  });

  it('splits the GPU cost between input and output without losing any', () => {
    const { input } = resolveEstimate({ ...ROUND, concurrency: '64' });
    const p = estimatePoint(input, deploymentOf(input), 64);
    const outTps = p.output_tokens_per_s;
    const inTps = (outTps * 100) / 101;
    // (input $/1M × input tok/s + output $/1M × output tok/s) / 1e6 = $0.001 per second
    const dollarsPerS = (Number(p.usd_per_mtok_input) * inTps + Number(p.usd_per_mtok_output) * outTps) / 1e6;
    expect(dollarsPerS).toBeCloseTo(0.001, 6);
  });

  it('blends input and output prices by the --mix ratio', () => {
    const p = run({ ...ROUND, batching: 'static', concurrency: '1', mix: '3:1' }).points[0];
    // (3 × 0.10002 + 1 × 9.903990099) / 4 = 10.204050099 / 4 = 2.551012525
    expect(p?.usd_per_mtok_blended).toBe('2.551012525');
  });

  it('carries --gpu-price on as canonical exact text', () => {
    const price = (gpuPrice: string) => resolveEstimate({ ...ROUND, gpuPrice }).input.gpu_price_usd_per_hour;
    expect(price(' 3.60 ')).toBe('3.6');
    expect(price('3.6e0')).toBe('3.6');
    expect(price('+2')).toBe('2');
  });

  it('data-parallel replicas multiply throughput', () => {
    const one = run({ ...ROUND, concurrency: '1' }).points[0];
    const two = run({ ...ROUND, gpus: '2', tp: '1', concurrency: '2' }).points[0];
    // 2 replicas × 1 request each: same latency, twice the tokens, same per GPU
    expect(two?.tpot_ms).toBe(one?.tpot_ms);
    expect(two?.output_tokens_per_s).toBeCloseTo(2 * (one?.output_tokens_per_s ?? 0), 1);
    expect(two?.output_tokens_per_s_per_gpu).toBe(one?.output_tokens_per_s_per_gpu);
  });

  it('MoE models compute with active parameters and read the experts their tokens use', () => {
    const base = {
      gpu: 'h100-sxm',
      precision: 'fp8',
      input: '1000',
      output: '1000',
      concurrency: '1',
      batching: 'static',
      stepOverheadMs: '0',
    };
    const moe = run({ ...base, model: 'mixtral-8x7b' }).points[0];
    // a dense model of Mixtral's total size reads all 46.7 GB every decode step (17.4 ms at
    // 3.35 TB/s × 0.8); Mixtral's one token reads its 2 experts + shared weights, 12.9 GB (4.8 ms)
    const dense = run({ ...base, paramsB: '46.7', layers: '32', kvHeads: '8', headDim: '128', hiddenSize: '4096' })
      .points[0];
    expect((moe?.tpot_ms ?? 0) / (dense?.tpot_ms ?? 1)).toBeCloseTo(12.9 / 46.7, 1);
    // same memory footprint: both store 46.7B params
    expect(run({ ...base, model: 'mixtral-8x7b' }).weights_gb).toBe(46.7);
  });

  it("models DeepSeek-V3's small MLA cache, replicated across tensor-parallel ranks", () => {
    const r = run({
      model: 'deepseek-v3',
      gpu: 'h200',
      gpus: '8',
      precision: 'fp8',
      input: '1000',
      output: '1000',
      concurrency: '1',
    });
    // 61 × 576 values × 1 B (fp8) = 35,136 B, stored on each of the 8 ranks
    expect(r.kv_bytes_per_token).toBe(35_136 * 8);
    expect(r.kv_precision).toBe('fp8');
  });
});

describe('monotonicity', () => {
  const configs: EstimateFlags[] = [
    { model: 'llama-3.1-8b', gpu: 'h100-sxm', precision: 'fp8', input: '1000', output: '1000' },
    { model: 'llama-3.1-70b', gpu: 'h200', gpus: '4', precision: 'fp8', input: '2048', output: '512' },
    { model: 'mixtral-8x7b', gpu: 'a100-80gb', gpus: '2', precision: 'bf16', input: '500', output: '2000' },
    { model: 'qwen2.5-7b', gpu: 'l4', precision: 'fp8', input: '128', output: '128', batching: 'static' },
    { model: 'deepseek-v3', gpu: 'mi300x', gpus: '8', precision: 'fp8', input: '4000', output: '400' },
  ];

  it('more bandwidth is never slower', () => {
    for (const config of configs) {
      let previous: ReturnType<typeof run> | null = null;
      for (const bw of ['0.5', '1', '2', '3.35', '5', '8', '16']) {
        const r = run({ ...config, bandwidthTbs: bw, concurrency: '1,16,128' });
        if (previous !== null) {
          r.points.forEach((p, i) => {
            const before = previous?.points[i];
            expect(p.tpot_ms).toBeLessThanOrEqual(before?.tpot_ms ?? Infinity);
            expect(p.ttft_ms).toBeLessThanOrEqual(before?.ttft_ms ?? Infinity);
            expect(p.output_tokens_per_s).toBeGreaterThanOrEqual(before?.output_tokens_per_s ?? 0);
          });
        }
        previous = r;
      }
    }
  });

  it('more concurrency never lowers total throughput up to the memory limit', () => {
    for (const config of configs) {
      const r = run({ ...config, concurrency: 'max' });
      expect(r.points.length).toBeGreaterThan(1);
      for (let i = 1; i < r.points.length; i++) {
        expect(r.points[i]?.fits_memory).toBe(true);
        expect(r.points[i]?.output_tokens_per_s).toBeGreaterThanOrEqual(r.points[i - 1]?.output_tokens_per_s ?? 0);
      }
    }
  });

  it('--concurrency max sweeps to the memory limit and reports the best point', () => {
    const r = run({
      model: 'llama-3.1-8b',
      gpu: 'h100-sxm',
      precision: 'fp8',
      input: '1000',
      output: '1000',
      concurrency: 'max',
    });
    const last = r.points[r.points.length - 1];
    expect(last?.concurrency).toBe(r.max_concurrency_memory);
    expect(r.points.map((p) => p.concurrency).slice(0, 4)).toEqual([1, 2, 4, 8]);
    const best = Math.max(...r.points.map((p) => p.output_tokens_per_s));
    expect(r.max_throughput?.output_tokens_per_s).toBe(best);
    // one more request than fits is flagged, and never chosen as the best point
    const over = run({
      model: 'llama-3.1-8b',
      gpu: 'h100-sxm',
      precision: 'fp8',
      input: '1000',
      output: '1000',
      concurrency: `${r.max_concurrency_memory + 1}`,
    });
    expect(over.points[0]?.fits_memory).toBe(false);
    expect(over.max_throughput).toBeNull();
  });

  it('the SLO bounds the concurrency: the limit meets it, one more does not', () => {
    const flags = {
      model: 'llama-3.1-70b',
      gpu: 'h100-sxm',
      gpus: '2',
      precision: 'fp8',
      input: '1000',
      output: '500',
      sloTpotMs: '30',
    };
    const r = run({ ...flags, concurrency: 'max' });
    const limit = r.max_concurrency_slo ?? 0;
    expect(limit).toBeGreaterThan(1);
    expect(limit).toBeLessThan(r.max_concurrency_memory);
    const around = run({ ...flags, concurrency: `${limit},${limit + 1}` });
    expect(around.points[0]?.tpot_ms).toBeLessThanOrEqual(30);
    expect(around.points[1]?.tpot_ms).toBeGreaterThan(30);
    expect(r.max_throughput?.tpot_ms).toBeLessThanOrEqual(30);
  });
});

describe('memory limit', () => {
  it('refuses a model that does not fit, with the GB needed and available', () => {
    const err = thrownBy(() =>
      run({ model: 'llama-3.1-405b', gpu: 'h100-sxm', precision: 'bf16', input: '1000', output: '1000' }),
    );
    expect(err.param).toBe('--gpus');
    // 405.85e9 × 2 B = 811.7 GB of weights against 80 GB × 0.9 = 72 GB
    expect(err.message).toContain('weights 811.7 GB');
    expect(err.message).toContain('offer 72.0 GB');
    expect(err.toLine()).toMatch(/^error: --gpus: llama-3\.1-405b at bf16 needs 81\d\.\d GB/);
    expect(err.toLine()).not.toContain('\n');
  });

  it('checks each replica: 8 GPUs in tensor-parallel groups of 1 cannot hold a 70B model', () => {
    const err = thrownBy(() => run({ model: 'llama-3.1-70b', gpu: 'h100-sxm', gpus: '8', tp: '1', precision: 'bf16' }));
    expect(err.param).toBe('--gpus');
    expect(() => run({ model: 'llama-3.1-70b', gpu: 'h100-sxm', gpus: '8', tp: '4', precision: 'bf16' })).not.toThrow();
  });
});

describe('bad input gives one line naming the flag', () => {
  const cases: Array<[string, EstimateFlags, string, RegExp]> = [
    [
      'unknown GPU',
      { model: 'llama-3.1-8b', gpu: 'h900' },
      '--gpu',
      /unknown GPU "h900"; known: h100-sxm, h100-pcie, h200, b200/,
    ],
    ['unknown model', { model: 'gpt-9', gpu: 'h100-sxm' }, '--model', /unknown model "gpt-9"; known: llama-3\.1-8b/],
    ['negative input', { model: 'llama-3.1-8b', gpu: 'h100-sxm', input: '-5' }, '--input', /must be positive/],
    [
      'negative output',
      { model: 'llama-3.1-8b', gpu: 'h100-sxm', output: 'uniform:-3-10' },
      '--output',
      /must be positive/,
    ],
    [
      'zero GPUs',
      { model: 'llama-3.1-8b', gpu: 'h100-sxm', gpus: '0' },
      '--gpus',
      /GPU count must be a positive whole number/,
    ],
    [
      'tp not dividing',
      { model: 'llama-3.1-8b', gpu: 'h100-sxm', gpus: '8', tp: '3' },
      '--tp',
      /3 does not divide 8 GPUs/,
    ],
    [
      'precision',
      { model: 'llama-3.1-8b', gpu: 'h100-sxm', precision: 'fp7' },
      '--precision',
      /unknown precision "fp7"/,
    ],
    [
      'concurrency',
      { model: 'llama-3.1-8b', gpu: 'h100-sxm', concurrency: '1,0' },
      '--concurrency',
      /positive whole number/,
    ],
    [
      'efficiency',
      { model: 'llama-3.1-8b', gpu: 'h100-sxm', memEfficiency: '1.5' },
      '--mem-efficiency',
      /fraction in \(0, 1\]/,
    ],
    ['price', { model: 'llama-3.1-8b', gpu: 'h100-sxm', gpuPrice: '-2' }, '--gpu-price', /non-negative decimal/],
    ['mix', { model: 'llama-3.1-8b', gpu: 'h100-sxm', mix: '3-1' }, '--mix', /INPUT:OUTPUT/],
    ['no model', { gpu: 'h100-sxm', paramsB: '7' }, '--model', /--params-b, --layers, --kv-heads and --head-dim/],
    ['no gpu', { model: 'llama-3.1-8b', hbmGb: '80' }, '--gpu', /--hbm-gb, --bandwidth-tbs and --tflops/],
    [
      'file in estimate',
      { model: 'llama-3.1-8b', gpu: 'h100-sxm', input: 'prompts.jsonl' },
      '--input',
      /expected a token count/,
    ],
  ];
  it.each(cases)('%s', (_name, flags, param, message) => {
    const err = thrownBy(() => run(flags));
    expect(err.code).toBe('invalid_request');
    expect(err.param).toBe(param);
    expect(err.message).toMatch(message);
    expect(err.toLine().startsWith(`error: ${param}: `)).toBe(true);
  });

  it('lists every catalog GPU in the unknown-GPU message', () => {
    const err = thrownBy(() => run({ model: 'llama-3.1-8b', gpu: 'nope' }));
    for (const gpu of GPUS) expect(err.message).toContain(gpu.id);
  });
});

describe('explicit parameters', () => {
  it('accepts a model and GPU given entirely by flags', () => {
    const r = run({
      paramsB: '8',
      layers: '32',
      kvHeads: '8',
      headDim: '128',
      hbmGb: '80',
      bandwidthTbs: '3.35',
      tflops: '990',
      input: '512',
      output: '256',
    });
    expect(r.model).toBe('custom');
    expect(r.gpu).toBe('custom');
    // 8e9 params × 2 B (bf16 default) = 16 GB
    expect(r.weights_gb).toBe(16);
    expect(r.kv_bytes_per_token).toBe(131_072);
  });

  it('overrides catalog values with flags', () => {
    const catalog = run({ model: 'llama-3.1-8b', gpu: 'h100-sxm', concurrency: '1' });
    const faster = run({ model: 'llama-3.1-8b', gpu: 'h100-sxm', bandwidthTbs: '6.7', concurrency: '1' });
    expect(faster.points[0]?.tpot_ms ?? 0).toBeLessThan(catalog.points[0]?.tpot_ms ?? 0);
    const kv = run({ model: 'llama-3.1-8b', gpu: 'h100-sxm', kvBytesPerToken: '1000' });
    expect(kv.kv_bytes_per_token).toBe(1000);
  });
});
