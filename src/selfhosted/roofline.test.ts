import { describe, expect, it } from 'vitest';
import { requireGpu, requireModel } from './catalog/index.js';
import type { Architecture, Hardware } from './roofline.js';
import {
  commSeconds,
  computeTflops,
  expertsTouched,
  forwardPass,
  gemmRows,
  gemmUtilisation,
  kvBytesPerToken,
  kvReplication,
  paramsRead,
  weightBytes,
} from './roofline.js';

describe('weight and KV bytes', () => {
  it('weight bytes = params × bytes per param', () => {
    // 8.03e9 params × 1 byte (fp8) = 8.03e9 B
    expect(weightBytes(8.03, 'fp8')).toBeCloseTo(8.03e9, 0);
    // 70.55e9 × 2 bytes (bf16) = 141.1e9 B
    expect(weightBytes(70.55, 'bf16')).toBeCloseTo(141.1e9, 0);
    // 405.85e9 × 0.5 byte (fp4) = 202.925e9 B
    expect(weightBytes(405.85, 'fp4')).toBeCloseTo(202.925e9, 0);
  });

  it('KV bytes/token = 2 × layers × KV heads × head dim × bytes', () => {
    // Llama 3.1 8B fp16: 2 × 32 × 8 × 128 × 2 = 131,072 B
    expect(kvBytesPerToken(requireModel('llama-3.1-8b'), 'fp16')).toBe(131_072);
    // same at fp8: 65,536 B
    expect(kvBytesPerToken(requireModel('llama-3.1-8b'), 'fp8')).toBe(65_536);
    // Llama 2 7B has no GQA (32 KV heads): 2 × 32 × 32 × 128 × 2 = 524,288 B
    expect(kvBytesPerToken(requireModel('llama-2-7b'), 'fp16')).toBe(524_288);
    // Llama 3.1 70B bf16: 2 × 80 × 8 × 128 × 2 = 327,680 B
    expect(kvBytesPerToken(requireModel('llama-3.1-70b'), 'bf16')).toBe(327_680);
  });

  it('uses the latent-cache override for DeepSeek-V3 (MLA)', () => {
    // 61 layers × (512 latent + 64 rope) values × 2 bytes = 70,272 B, not 2 × 61 × 128 × 128 × 2
    expect(kvBytesPerToken(requireModel('deepseek-v3'), 'bf16')).toBe(70_272);
    expect(kvBytesPerToken(requireModel('deepseek-v3'), 'fp8')).toBe(35_136);
  });

  it('replicates KV when tensor parallelism exceeds the KV heads, and always for a latent cache', () => {
    const llama = requireModel('llama-3.1-70b'); // 8 KV heads
    expect(kvReplication(llama, 1)).toBe(1);
    expect(kvReplication(llama, 8)).toBe(1);
    expect(kvReplication(llama, 16)).toBe(2); // 16 ranks / 8 heads: each head on 2 ranks
    expect(kvReplication(requireModel('deepseek-v3'), 8)).toBe(8);
  });
});

const arch = (over: Partial<Architecture> = {}): Architecture => ({
  params: 1e9,
  activeParams: 1e9,
  layers: 10,
  hiddenSize: 1000,
  queryWidth: 1000,
  experts: 0,
  expertsPerToken: 0,
  weightBytesPerParam: 1,
  kvBytesPerToken: 1000,
  ...over,
});

const hw = (over: Partial<Hardware> = {}): Hardware => ({
  tp: 1,
  bandwidthBytesPerS: 1e12,
  flops: 1e15,
  attentionFlops: 5e14,
  linkBytesPerS: 450e9,
  allreduceLatencyS: 16e-6,
  efficiency: {
    mem: 0.5,
    compute: 0.5,
    comm: 0.5,
    memory_utilization: 0.9,
    step_overhead_ms: 1,
    request_overhead_us: 10,
  },
  ...over,
});

describe('MoE weights read', () => {
  it('reads the shared part plus every expert some token was routed to', () => {
    const mixtral = arch({ params: 46.7e9, activeParams: 12.9e9, experts: 8, expertsPerToken: 2 });
    // per expert = (46.7 − 12.9) / (8 − 2) = 5.6333e9; shared = 46.7 − 8 × 5.6333 = 1.6333e9
    // 1 token touches exactly its 2 experts: 1.6333 + 2 × 5.6333 = 12.9e9 (= active)
    expect(paramsRead(mixtral, 1)).toBeCloseTo(12.9e9, -3);
    // 2 tokens: P(expert missed) = (1 − 2/8)^2 = 0.5625 → 8 × 0.4375 = 3.5 experts → 1.6333 + 19.7167 = 21.35e9
    expect(paramsRead(mixtral, 2)).toBeCloseTo(21.35e9, -3);
    // many tokens: every expert → all 46.7e9
    expect(paramsRead(mixtral, 10_000)).toBeCloseTo(46.7e9, -3);
    // dense models read everything
    expect(paramsRead(arch(), 1)).toBe(1e9);
  });

  it('sizes expert GEMMs by the tokens each touched expert receives', () => {
    const deepseek = arch({ params: 671e9, activeParams: 37e9, experts: 256, expertsPerToken: 8 });
    // 1 token: 8 experts touched (256 × (1 − (1 − 8/256)^1) = 8), one row each
    expect(expertsTouched(deepseek, 1)).toBeCloseTo(8, 9);
    expect(gemmRows(deepseek, 1)).toBeCloseTo(1, 9);
    // 4096 tokens: all 256 experts touched, 4096 × 8 / 256 = 128 rows each
    expect(gemmRows(deepseek, 4096)).toBeCloseTo(128, 6);
    // dense: every matrix sees every token
    expect(gemmRows(arch(), 300)).toBe(300);
  });
});

describe('tensor-parallel communication', () => {
  it('is zero without tensor parallelism', () => {
    expect(commSeconds(arch(), hw(), 100)).toBe(0);
  });

  it('is 2 all-reduces per layer of latency + ring traffic', () => {
    const a = arch({ layers: 80, hiddenSize: 8192 });
    // ring bytes = 2 × (2 − 1)/2 × 100 tokens × 8192 × 2 B = 1,638,400 B
    // at 450e9 B/s × 0.5 = 225e9 B/s → 7.28178e-6 s; + 16e-6 latency = 23.28178e-6 s
    // × 2 × 80 = 160 all-reduces = 3.725084e-3 s
    expect(commSeconds(a, hw({ tp: 2 }), 100)).toBeCloseTo(3.725084e-3, 8);
  });
});

describe('forward pass', () => {
  it('GEMM utilisation is half at 64 rows', () => {
    expect(gemmUtilisation(64)).toBe(0.5);
    expect(gemmUtilisation(192)).toBe(0.75);
  });

  it('a small decode batch is memory-bound: (weights + batch × context × KV) / bandwidth + overheads', () => {
    const pass = forwardPass(arch(), hw(), {
      decodeTokens: 10,
      decodeContext: 1000,
      prefillRequests: 0,
      prefillLength: 0,
    });
    // linear: memory 1e9 B / (1e12 × 0.5) = 2e-3 s; compute 2 × 1e9 × 10 / (1e15 × 0.5 × 10/74) = 2.96e-4 s → 2e-3
    // attention: KV read 10 × 1000 × 1000 + written 10 × 1000 = 1.001e7 B / 5e11 = 2.002e-5 s
    //            FLOPs 4 × 10 × 1000 × 1000 × 10 = 4e8 / (5e14 × 0.5) = 1.6e-6 s → 2.002e-5
    // overhead: 1 ms + 10 µs × 10 requests = 1.1e-3 s
    // total 2e-3 + 2.002e-5 + 1.1e-3 = 3.12002e-3 s
    expect(pass.timeS).toBeCloseTo(3.12002e-3, 9);
    expect(pass.memoryS).toBeCloseTo(2.02002e-3, 9);
    expect(pass.commS).toBe(0);
    expect(pass.bytes).toBe(1e9 + 1.001e7);
  });

  it('a long prompt is compute-bound: 2 × active params × tokens FLOPs + causal attention', () => {
    const pass = forwardPass(arch(), hw(), {
      decodeTokens: 0,
      decodeContext: 0,
      prefillRequests: 1,
      prefillLength: 1000,
    });
    // linear: 2 × 1e9 × 1000 = 2e12 FLOPs / (1e15 × 0.5 × 1000/1064) = 4.256e-3 s (memory only 2e-3 s)
    // attention: 2 × 10 layers × 1000 × 1000² = 2e10 FLOPs / (5e14 × 0.5) = 8e-5 s (KV write 1e6 B: 2e-6 s)
    // overhead: 1 ms + 10 µs × 1 request = 1.01e-3 s
    // total 4.256e-3 + 8e-5 + 1.01e-3 = 5.346e-3 s
    expect(pass.timeS).toBeCloseTo(5.346e-3, 9);
    expect(pass.flops).toBe(2e12 + 2e10);
    expect(pass.computeS).toBeCloseTo(4.336e-3, 9);
  });
});

describe('tensor throughput by precision', () => {
  it("uses the precision's dense FLOPS, falling back where the GPU lacks the format", () => {
    expect(computeTflops(requireGpu('h100-sxm'), 'fp8')).toBe(1979);
    expect(computeTflops(requireGpu('h100-sxm'), 'bf16')).toBe(989.5);
    expect(computeTflops(requireGpu('b200'), 'fp4')).toBe(9000);
    // no FP4 tensor cores on Hopper: FP8 rate; no FP8 on Ampere: 16-bit rate (weight-only quantisation)
    expect(computeTflops(requireGpu('h100-sxm'), 'fp4')).toBe(1979);
    expect(computeTflops(requireGpu('a100-80gb'), 'fp8')).toBe(312);
    // W4A16 runs its matmuls at 16 bits
    expect(computeTflops(requireGpu('h100-sxm'), 'int4')).toBe(989.5);
  });
});
