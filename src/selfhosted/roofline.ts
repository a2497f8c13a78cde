/**
 * Roofline formulas of LLM inference, each small enough to check by hand (the tests do).
 *
 * A forward pass over a set of tokens costs
 *   memory time  = bytes read (weights + KV cache of the decoding requests) / (tp × bandwidth × mem_eff)
 *   compute time = FLOPs (2 × active params per token + attention) / (tp × FLOPS × compute_eff)
 *   comm time    = tensor-parallel all-reduces: 2 per layer, each latency + ring traffic
 * and takes max(memory, compute) + comm: weights stream while tensor cores work, but the
 * all-reduce sits between layers and overlaps with neither.
 */
import type { Efficiency, GpuSpec, ModelSpec, Precision } from './types.js';
import { PRECISION_BYTES } from './types.js';

/** Bytes of one activation value exchanged by tensor-parallel all-reduces (bf16). */
export const ACTIVATION_BYTES = 2;

/** Everything a forward pass needs, resolved to plain numbers in SI units. */
export interface Hardware {
  tp: number;
  bandwidthBytesPerS: number;
  /** Dense FLOPS of the linear layers at the weight precision. */
  flops: number;
  /** Dense 16-bit FLOPS: attention math runs on 16-bit operands whatever the weight format. */
  attentionFlops: number;
  /** Per-direction link bandwidth, bytes/s (half the published bidirectional figure). */
  linkBytesPerS: number;
  allreduceLatencyS: number;
  efficiency: Efficiency;
}

export interface Architecture {
  params: number;
  activeParams: number;
  layers: number;
  hiddenSize: number;
  /** attention heads × head dim: width of Q, which sets attention FLOPs. */
  queryWidth: number;
  experts: number;
  expertsPerToken: number;
  weightBytesPerParam: number;
  /** KV bytes one token occupies in one replica, replication across TP ranks included. */
  kvBytesPerToken: number;
}

export interface PassCost {
  tokens: number;
  bytes: number;
  flops: number;
  /** Time of the operators limited by memory bandwidth. */
  memoryS: number;
  /** Time of the operators limited by tensor throughput. */
  computeS: number;
  commS: number;
  timeS: number;
}

/** Weight bytes = total params × bytes per param. 8.03e9 params at fp8 (1 B) = 8.03 GB. */
export function weightBytes(paramsB: number, precision: Precision): number {
  return paramsB * 1e9 * PRECISION_BYTES[precision];
}

/**
 * KV bytes per token = 2 (K and V) × layers × KV heads × head dim × bytes, or the model's own
 * count of cached values (MLA) × bytes. Llama 3.1 8B at fp16: 2 × 32 × 8 × 128 × 2 = 131,072 B.
 */
export function kvBytesPerToken(model: ModelSpec, kvPrecision: Precision): number {
  const values = model.kv_values_per_token ?? 2 * model.layers * model.kv_heads * model.head_dim;
  return values * PRECISION_BYTES[kvPrecision];
}

/**
 * How many copies of each token's KV exist across a tensor-parallel group: heads are split across
 * ranks, so with more ranks than KV heads (or a head-less latent, MLA) ranks hold copies.
 */
export function kvReplication(model: ModelSpec, tp: number): number {
  if (model.kv_latent) return tp;
  return tp > model.kv_heads ? tp / model.kv_heads : 1;
}

/** Routed experts (per MoE layer) at least one of `tokens` tokens goes to, with uniform routing. */
export function expertsTouched(arch: Architecture, tokens: number): number {
  const missed = Math.pow(1 - arch.expertsPerToken / arch.experts, Math.max(tokens, 1));
  return arch.experts * (1 - missed);
}

const isMoe = (arch: Architecture): boolean =>
  arch.experts > 0 && arch.expertsPerToken > 0 && arch.experts > arch.expertsPerToken;

/**
 * Parameters a pass over `tokens` tokens must read. Dense: all of them. MoE: the shared part plus
 * each routed expert touched by at least one token; with uniform routing a given expert is missed
 * by all tokens with probability (1 − k/E)^tokens.
 */
export function paramsRead(arch: Architecture, tokens: number): number {
  if (!isMoe(arch)) return arch.params;
  const perExpert = (arch.params - arch.activeParams) / (arch.experts - arch.expertsPerToken);
  const shared = arch.params - arch.experts * perExpert;
  return shared + expertsTouched(arch, tokens) * perExpert;
}

/** Time of the tensor-parallel all-reduces of one pass: 2 per layer (after attention, after MLP). */
export function commSeconds(arch: Architecture, hw: Hardware, tokens: number): number {
  if (hw.tp <= 1) return 0;
  const ringBytes = ((2 * (hw.tp - 1)) / hw.tp) * tokens * arch.hiddenSize * ACTIVATION_BYTES;
  const perAllReduce = hw.allreduceLatencyS + ringBytes / (hw.linkBytesPerS * hw.efficiency.comm);
  return 2 * arch.layers * perAllReduce;
}

export interface PassShape {
  /** Requests generating one token each in this pass. */
  decodeTokens: number;
  /** Mean context (tokens already cached) of those requests. */
  decodeContext: number;
  /** Requests whose whole prompt is processed in this pass (may be fractional: an average). */
  prefillRequests: number;
  prefillLength: number;
}

/**
 * Cost of one forward pass of one replica (a tensor-parallel group).
 *
 * The roofline is applied per operator class, because the linear layers (GEMMs over the weights)
 * and attention (over the KV cache) are separate kernels that run one after the other:
 *   linear    = max(weight bytes / bandwidth, 2 × active params × tokens / FLOPS at the weight precision)
 *   attention = max(KV bytes / bandwidth,     attention FLOPs / 16-bit FLOPS)
 *   pass      = linear + attention + all-reduces + fixed step overhead
 * In the memory-bound regime this is exactly (weights + batch × context × KV bytes) / bandwidth;
 * a single max() over the sum would let KV reads hide behind compute-bound GEMMs, which the
 * published measurements show does not happen.
 */
export function forwardPass(arch: Architecture, hw: Hardware, shape: PassShape): PassCost {
  const prefillTokens = shape.prefillRequests * shape.prefillLength;
  const tokens = shape.decodeTokens + prefillTokens;
  const eff = hw.efficiency;
  const bandwidth = hw.tp * hw.bandwidthBytesPerS * eff.mem;

  const weightBytesRead = paramsRead(arch, tokens) * arch.weightBytesPerParam;
  // Linear layers: 2 FLOPs per active parameter per token.
  const linearFlops = 2 * arch.activeParams * tokens;
  const linearMemoryS = weightBytesRead / bandwidth;
  const linearComputeS = linearFlops / (hw.tp * hw.flops * eff.compute * gemmUtilisation(gemmRows(arch, tokens)));

  const kvBytes = shape.decodeTokens * shape.decodeContext * arch.kvBytesPerToken + tokens * arch.kvBytesPerToken;
  // Attention: a decoding token scores and mixes its whole context (QK^T and AV: 4 × width ×
  // context per layer); a prompt of n tokens does the causal half of n² of that (2 × width × n²).
  const decodeAttention = 4 * arch.layers * arch.queryWidth * shape.decodeContext * shape.decodeTokens;
  const prefillAttention = 2 * arch.layers * arch.queryWidth * shape.prefillLength ** 2 * shape.prefillRequests;
  const attentionFlops = decodeAttention + prefillAttention;
  const attentionMemoryS = kvBytes / bandwidth;
  const attentionComputeS = attentionFlops / (hw.tp * hw.attentionFlops * eff.compute);

  const commS = commSeconds(arch, hw, tokens);
  const linearS = Math.max(linearMemoryS, linearComputeS);
  const attentionS = Math.max(attentionMemoryS, attentionComputeS);
  const memoryS =
    (linearMemoryS >= linearComputeS ? linearS : 0) + (attentionMemoryS >= attentionComputeS ? attentionS : 0);
  const computeS = linearS + attentionS - memoryS;
  return {
    tokens,
    bytes: weightBytesRead + kvBytes,
    flops: linearFlops + attentionFlops,
    memoryS,
    computeS,
    commS,
    timeS: linearS + attentionS + commS + overheadSeconds(hw, shape),
  };
}

/**
 * Rows (tokens) each weight matrix multiplies: all the tokens, or for MoE the tokens each touched
 * expert receives (tokens × k / experts touched: 1 at batch 1, tokens × k / E at large batches).
 */
export function gemmRows(arch: Architecture, tokens: number): number {
  if (!isMoe(arch)) return tokens;
  return (Math.max(tokens, 1) * arch.expertsPerToken) / expertsTouched(arch, tokens);
}

/** GEMM rows at which half the tensor-core peak is reachable (calibrated; see docs/selfhosted.md). */
export const GEMM_HALF_ROWS = 64;

/**
 * Share of the tensor-core peak a GEMM with this many rows can reach: tiles are 64-256 rows tall,
 * so thin GEMMs leave most of each tile idle (fine-grained MoE experts see few tokens each).
 */
export function gemmUtilisation(rows: number): number {
  return rows / (rows + GEMM_HALF_ROWS);
}

/**
 * Work outside the roofline: a fixed cost per pass (scheduling, sampling, kernel launches) and a
 * cost per request in the pass (per-sequence bookkeeping on the host, which grows with the batch).
 */
export function overheadSeconds(hw: Hardware, shape: PassShape): number {
  const requests = shape.decodeTokens + shape.prefillRequests;
  return hw.efficiency.step_overhead_ms / 1e3 + (hw.efficiency.request_overhead_us / 1e6) * requests;
}

/** Dense FLOPS used for a weight precision, falling back when the GPU has no such tensor cores. */
export function computeTflops(gpu: GpuSpec, precision: Precision): number {
  const order: Record<Precision, Array<keyof GpuSpec['tflops']>> = {
    fp4: ['fp4', 'fp8', 'fp16'],
    fp8: ['fp8', 'fp16'],
    int8: ['int8', 'fp16'],
    // 4-bit integer weights are dequantised to 16-bit for the matmul (W4A16, e.g. AWQ/GPTQ).
    int4: ['fp16'],
    fp16: ['fp16', 'bf16'],
    bf16: ['bf16', 'fp16'],
    fp32: ['fp16', 'bf16'],
  };
  for (const key of order[precision]) {
    const value = gpu.tflops[key];
    if (value !== undefined && value > 0) return value;
  }
  return 0;
}

export function architectureOf(model: ModelSpec, precision: Precision, kvBytes: number): Architecture {
  return {
    params: model.params_b * 1e9,
    activeParams: model.active_params_b * 1e9,
    layers: model.layers,
    hiddenSize: model.hidden_size,
    queryWidth: model.attention_heads * model.head_dim,
    experts: model.experts ?? 0,
    expertsPerToken: model.experts_per_token ?? 0,
    weightBytesPerParam: PRECISION_BYTES[precision],
    kvBytesPerToken: kvBytes,
  };
}

export function hardwareOf(gpu: GpuSpec, tp: number, precision: Precision, efficiency: Efficiency): Hardware {
  return {
    tp,
    bandwidthBytesPerS: gpu.bandwidth_tbs * 1e12,
    flops: computeTflops(gpu, precision) * 1e12,
    attentionFlops: computeTflops(gpu, 'bf16') * 1e12,
    linkBytesPerS: (gpu.interconnect_gbs * 1e9) / 2,
    allreduceLatencyS: gpu.allreduce_latency_us * 1e-6,
    efficiency,
  };
}
