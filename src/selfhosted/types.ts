/**
 * Shapes of the self-hosted economics module: catalog entries (GPUs, models, calibration points)
 * and the estimator's inputs and outputs. Units are in the field names so that nobody has to
 * guess whether a bandwidth is in GB/s or TB/s.
 */

/** Numeric formats a weight matrix or a KV cache can be stored in. */
export type Precision = 'fp32' | 'fp16' | 'bf16' | 'fp8' | 'int8' | 'int4' | 'fp4';

export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'bf16', 'fp8', 'int8', 'int4', 'fp4'];

/** Bytes per stored value. Block-scale overhead of 4-bit formats (~3-12%) is ignored on purpose. */
export const PRECISION_BYTES: Record<Precision, number> = {
  fp32: 4,
  fp16: 2,
  bf16: 2,
  fp8: 1,
  int8: 1,
  int4: 0.5,
  fp4: 0.5,
};

/** Dense (non-sparse) tensor-core throughput by precision, in TFLOPS (TOPS for int8). */
export type TflopsByPrecision = Partial<Record<'fp16' | 'bf16' | 'fp8' | 'int8' | 'fp4', number>>;

export interface GpuSpec {
  id: string;
  name: string;
  aliases?: string[];
  /** Memory per GPU in GB (1e9 bytes) as the vendor publishes it. */
  hbm_gb: number;
  /** Peak memory bandwidth per GPU, TB/s (1e12 bytes/s). */
  bandwidth_tbs: number;
  /** Dense tensor throughput per GPU (no 2:4 sparsity), TFLOPS. */
  tflops: TflopsByPrecision;
  /** GPU-to-GPU bandwidth per GPU as published (bidirectional total: NVLink, Infinity Fabric or PCIe), GB/s. */
  interconnect_gbs: number;
  /** Fixed cost of one all-reduce on this interconnect, microseconds (launch + synchronisation). */
  allreduce_latency_us: number;
  sources: string[];
  notes?: string;
}

export interface ModelSpec {
  id: string;
  name: string;
  aliases?: string[];
  /** Total parameters, billions. */
  params_b: number;
  /** Parameters used per token (MoE: shared + routed experts actually used), billions. */
  active_params_b: number;
  layers: number;
  hidden_size: number;
  attention_heads: number;
  kv_heads: number;
  head_dim: number;
  /** MoE only: routed experts per MoE layer and how many a token is sent to. */
  experts?: number;
  experts_per_token?: number;
  /**
   * Cached values per token across all layers when the formula 2 × layers × kv_heads × head_dim does
   * not apply (DeepSeek's MLA caches one 512 + 64 wide latent per layer: 61 × 576 values).
   * Multiplied by the KV precision's bytes.
   */
  kv_values_per_token?: number;
  /** True when the cache is a latent shared by all heads (MLA): tensor parallelism replicates it. */
  kv_latent?: boolean;
  context_length: number;
  sources: string[];
  notes?: string;
}

/** How requests share the GPU: one mixed forward pass per step, or a whole batch at once. */
export type Batching = 'continuous' | 'static';

/** Explicit, overridable efficiency factors (fractions of a peak actually achieved). */
export interface Efficiency {
  /** Share of peak HBM bandwidth a decode step achieves. */
  mem: number;
  /** Share of peak dense tensor FLOPS a forward pass achieves. */
  compute: number;
  /** Share of the interconnect bandwidth an all-reduce achieves. */
  comm: number;
  /** Share of HBM that weights + KV cache may fill (the rest: activations, runtime, fragmentation). */
  memory_utilization: number;
  /** Fixed time every forward pass pays on top of the roofline (scheduling, sampling, launches), ms. */
  step_overhead_ms: number;
  /** Time every forward pass pays per request in it (host-side per-sequence work), microseconds. */
  request_overhead_us: number;
}

export interface EstimateInput {
  model: ModelSpec;
  gpu: GpuSpec;
  gpus: number;
  /** Tensor-parallel degree; gpus / tp replicas serve in parallel (data parallel). */
  tp: number;
  precision: Precision;
  kv_precision: Precision;
  /** Mean input (prompt) tokens per request. */
  input_tokens: number;
  /** Mean output tokens per request. */
  output_tokens: number;
  batching: Batching;
  efficiency: Efficiency;
  /** USD per GPU-hour as a decimal string, or null when no price was given. */
  gpu_price_usd_per_hour: string | null;
  /** Input:output token mix for a blended price, e.g. [3, 1]; null for none. */
  mix: [number, number] | null;
  /** Override of the KV bytes per token (all layers, one replica) — wins over the formula. */
  kv_bytes_per_token?: number;
}

export interface EstimatePoint {
  concurrency: number;
  ttft_ms: number;
  tpot_ms: number;
  e2e_ms: number;
  output_tokens_per_s: number;
  output_tokens_per_s_per_gpu: number;
  usd_per_mtok_input: string | null;
  usd_per_mtok_output: string | null;
  usd_per_mtok_blended?: string | null;
  mbu: number;
  mfu: number;
  fits_memory: boolean;
  bound: 'memory' | 'compute';
}

export interface EstimateReport {
  model: string;
  gpu: string;
  gpus: number;
  tp: number;
  precision: Precision;
  kv_precision: Precision;
  input_tokens: number;
  output_tokens: number;
  weights_gb: number;
  kv_bytes_per_token: number;
  /** Most concurrent requests whose full KV cache (input + output) fits memory, all replicas. */
  max_concurrency_memory: number;
  /** Most concurrent requests that fit memory and meet the SLOs given (null when no SLO given). */
  max_concurrency_slo: number | null;
  efficiency: Efficiency;
  points: EstimatePoint[];
  max_throughput: EstimatePoint | null;
}

/** One published measurement the default efficiencies are checked against. */
export interface CalibrationPoint {
  id: string;
  model: string;
  gpu: string;
  gpus: number;
  tp: number;
  precision: Precision;
  kv_precision?: Precision;
  input_tokens: number;
  output_tokens: number;
  /** A fixed batch/concurrency, or 'max' for "maximum throughput" tables. */
  concurrency: number | 'max';
  batching: Batching;
  engine: string;
  metric: 'output_tokens_per_s' | 'tpot_ms' | 'ttft_ms';
  /** The published value of the metric for the whole deployment (all GPUs). */
  value: number;
  sources: string[];
}
