/**
 * Turns `pertoken estimate` flags (strings, as commander hands them over) into a validated
 * EstimateInput. Every bad value becomes one PertokenError naming its flag.
 */
import { invalidInput } from '../errors.js';
import { formatDecimal, parseDecimal } from '../money.js';
import { GPUS, requireGpu, requireModel } from './catalog/index.js';
import { computeTflops } from './roofline.js';
import { DEFAULT_COMPUTE_EFFICIENCY, DEFAULT_EFFICIENCY, defaultKvPrecision } from './defaults.js';
import type { Slo } from './estimate.js';
import { meanLength, parseLengthSpec } from './lengths.js';
import type { Batching, Efficiency, EstimateInput, GpuSpec, ModelSpec, Precision } from './types.js';
import { PRECISIONS } from './types.js';

export interface EstimateFlags {
  model?: string;
  gpu?: string;
  gpus?: string;
  tp?: string;
  precision?: string;
  kvPrecision?: string;
  input?: string;
  output?: string;
  concurrency?: string;
  gpuPrice?: string;
  mix?: string;
  batching?: string;
  sloTtftMs?: string;
  sloTpotMs?: string;
  memEfficiency?: string;
  computeEfficiency?: string;
  commEfficiency?: string;
  memoryUtilization?: string;
  stepOverheadMs?: string;
  requestOverheadUs?: string;
  // explicit model parameters
  paramsB?: string;
  activeParamsB?: string;
  layers?: string;
  hiddenSize?: string;
  heads?: string;
  kvHeads?: string;
  headDim?: string;
  experts?: string;
  expertsPerToken?: string;
  kvBytesPerToken?: string;
  // explicit GPU parameters
  hbmGb?: string;
  bandwidthTbs?: string;
  tflops?: string;
  interconnectGbs?: string;
}

export interface ResolvedEstimate {
  input: EstimateInput;
  concurrency: number[] | 'max';
  slo: Slo;
}

function positiveNumber(text: string, param: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0)
    throw invalidInput(param, `expected a positive number, got "${text}"`);
  return value;
}

function nonNegativeNumber(text: string, param: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0)
    throw invalidInput(param, `expected a number >= 0, got "${text}"`);
  return value;
}

function positiveInt(text: string, param: string, what: string): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || value < 1)
    throw invalidInput(param, `${what} must be a positive whole number, got "${text}"`);
  return value;
}

function fraction(text: string, param: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw invalidInput(param, `expected a fraction in (0, 1], got "${text}"`);
  }
  return value;
}

export function parsePrecision(text: string, param: string): Precision {
  const p = text.trim().toLowerCase();
  if (!(PRECISIONS as readonly string[]).includes(p))
    throw invalidInput(param, `unknown precision "${text}"; known: ${PRECISIONS.join(', ')}`);
  return p as Precision;
}

export function parseConcurrency(text: string, param = '--concurrency'): number[] | 'max' {
  if (text.trim().toLowerCase() === 'max') return 'max';
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) throw invalidInput(param, 'expected a list of positive integers or "max"');
  return parts.map((p) => positiveInt(p, param, 'concurrency'));
}

function parseMix(text: string): [number, number] {
  const m = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  const a = Number(m?.[1]);
  const b = Number(m?.[2]);
  if (!m || !(a >= 0) || !(b > 0))
    throw invalidInput('--mix', `expected INPUT:OUTPUT token ratio like 3:1, got "${text}"`);
  return [a, b];
}

function resolveModel(f: EstimateFlags): ModelSpec {
  const base: ModelSpec | undefined = f.model === undefined ? undefined : requireModel(f.model);
  if (base === undefined) {
    const missing = (['paramsB', 'layers', 'kvHeads', 'headDim'] as const).filter((k) => f[k] === undefined);
    if (missing.length > 0) {
      throw invalidInput(
        '--model',
        'give --model, or the model explicitly with --params-b, --layers, --kv-heads and --head-dim',
      );
    }
  }
  const num = (v: string | undefined, param: string, fallback: number | undefined): number | undefined =>
    v === undefined ? fallback : positiveNumber(v, param);
  const int = (v: string | undefined, param: string, fallback: number | undefined): number | undefined =>
    v === undefined ? fallback : positiveInt(v, param, param.slice(2));
  const params = num(f.paramsB, '--params-b', base?.params_b) ?? 0;
  const active =
    num(
      f.activeParamsB,
      '--active-params-b',
      f.paramsB !== undefined && f.activeParamsB === undefined ? params : base?.active_params_b,
    ) ?? params;
  if (active > params)
    throw invalidInput('--active-params-b', `active parameters (${active}B) exceed total parameters (${params}B)`);
  const headDim = int(f.headDim, '--head-dim', base?.head_dim) ?? 128;
  const kvHeads = int(f.kvHeads, '--kv-heads', base?.kv_heads) ?? 1;
  const heads =
    int(f.heads, '--heads', base?.attention_heads) ??
    (f.hiddenSize ? Math.max(1, Math.round(Number(f.hiddenSize) / headDim)) : kvHeads);
  const hidden = int(f.hiddenSize, '--hidden-size', base?.hidden_size) ?? heads * headDim;
  const experts = int(f.experts, '--experts', base?.experts);
  const perToken = int(f.expertsPerToken, '--experts-per-token', base?.experts_per_token);
  if (experts !== undefined && perToken !== undefined && perToken > experts) {
    throw invalidInput('--experts-per-token', `${perToken} experts per token exceed the ${experts} experts`);
  }
  const spec: ModelSpec = {
    id: base?.id ?? 'custom',
    name: base?.name ?? 'custom model',
    params_b: params,
    active_params_b: active,
    layers: int(f.layers, '--layers', base?.layers) ?? 1,
    hidden_size: hidden,
    attention_heads: heads,
    kv_heads: kvHeads,
    head_dim: headDim,
    context_length: base?.context_length ?? 131072,
    sources: base?.sources ?? [],
  };
  if (experts !== undefined) spec.experts = experts;
  if (perToken !== undefined) spec.experts_per_token = perToken;
  // An explicit KV geometry wins over a catalog latent-cache override.
  const geometryGiven = f.layers !== undefined || f.kvHeads !== undefined || f.headDim !== undefined;
  if (base?.kv_values_per_token !== undefined && !geometryGiven) spec.kv_values_per_token = base.kv_values_per_token;
  if (base?.kv_latent && !geometryGiven) spec.kv_latent = true;
  return spec;
}

function resolveGpu(f: EstimateFlags, precision: Precision): GpuSpec {
  const base: GpuSpec | undefined = f.gpu === undefined ? undefined : requireGpu(f.gpu);
  if (base === undefined && (f.hbmGb === undefined || f.bandwidthTbs === undefined || f.tflops === undefined)) {
    throw invalidInput(
      '--gpu',
      `give --gpu (known: ${GPUS.map((g) => g.id).join(', ')}), or the GPU explicitly with --hbm-gb, --bandwidth-tbs and --tflops`,
    );
  }
  const gpu: GpuSpec = {
    id: base?.id ?? 'custom',
    name: base?.name ?? 'custom GPU',
    hbm_gb: f.hbmGb === undefined ? (base?.hbm_gb ?? 0) : positiveNumber(f.hbmGb, '--hbm-gb'),
    bandwidth_tbs:
      f.bandwidthTbs === undefined ? (base?.bandwidth_tbs ?? 0) : positiveNumber(f.bandwidthTbs, '--bandwidth-tbs'),
    tflops: { ...(base?.tflops ?? {}) },
    interconnect_gbs:
      f.interconnectGbs === undefined
        ? (base?.interconnect_gbs ?? 64)
        : positiveNumber(f.interconnectGbs, '--interconnect-gbs'),
    allreduce_latency_us: base?.allreduce_latency_us ?? 50,
    sources: base?.sources ?? [],
  };
  if (f.tflops !== undefined) {
    // --tflops is the dense figure at --precision; without a catalog GPU it also stands for the
    // 16-bit rate attention runs at.
    const tflops = positiveNumber(f.tflops, '--tflops');
    const key = precision === 'int4' || precision === 'fp32' ? 'fp16' : precision;
    gpu.tflops[key] = tflops;
    if (base === undefined) {
      gpu.tflops.bf16 ??= tflops;
      gpu.tflops.fp16 ??= tflops;
    }
  }
  return gpu;
}

function resolveEfficiency(f: EstimateFlags, precision: Precision): Efficiency {
  return {
    mem: f.memEfficiency === undefined ? DEFAULT_EFFICIENCY.mem : fraction(f.memEfficiency, '--mem-efficiency'),
    compute:
      f.computeEfficiency === undefined
        ? DEFAULT_COMPUTE_EFFICIENCY[precision]
        : fraction(f.computeEfficiency, '--compute-efficiency'),
    comm: f.commEfficiency === undefined ? DEFAULT_EFFICIENCY.comm : fraction(f.commEfficiency, '--comm-efficiency'),
    memory_utilization:
      f.memoryUtilization === undefined
        ? DEFAULT_EFFICIENCY.memory_utilization
        : fraction(f.memoryUtilization, '--memory-utilization'),
    step_overhead_ms:
      f.stepOverheadMs === undefined
        ? DEFAULT_EFFICIENCY.step_overhead_ms
        : nonNegativeNumber(f.stepOverheadMs, '--step-overhead-ms'),
    request_overhead_us:
      f.requestOverheadUs === undefined
        ? DEFAULT_EFFICIENCY.request_overhead_us
        : nonNegativeNumber(f.requestOverheadUs, '--request-overhead-us'),
  };
}

export function resolveEstimate(f: EstimateFlags): ResolvedEstimate {
  const precision = parsePrecision(f.precision ?? 'bf16', '--precision');
  const model = resolveModel(f);
  const gpu = resolveGpu(f, precision);
  if (computeTflops(gpu, precision) <= 0) {
    throw invalidInput('--tflops', `${gpu.id} lists no tensor throughput usable for ${precision}; give --tflops`);
  }
  const gpus = positiveInt(f.gpus ?? '1', '--gpus', 'GPU count');
  const tp = f.tp === undefined ? gpus : positiveInt(f.tp, '--tp', 'tensor-parallel degree');
  if (gpus % tp !== 0) throw invalidInput('--tp', `tensor-parallel degree ${tp} does not divide ${gpus} GPUs`);
  const inputTokens = meanLength(parseLengthSpec(f.input ?? '1000', '--input'), '--input');
  const outputTokens = meanLength(parseLengthSpec(f.output ?? '1000', '--output'), '--output');
  let price: string | null = null;
  if (f.gpuPrice !== undefined) {
    // Canonical text ("1e1" -> "10"): the price is carried on as a string, and a GPU pool saved
    // from it must pass the pool file's plain-decimal schema.
    price = formatDecimal(parseDecimal(f.gpuPrice.trim(), '--gpu-price', { nonNegative: true }));
  }
  const batching = (f.batching ?? 'continuous').trim().toLowerCase();
  if (batching !== 'continuous' && batching !== 'static')
    throw invalidInput('--batching', `expected continuous or static, got "${f.batching}"`);
  const slo: Slo = {};
  if (f.sloTtftMs !== undefined) slo.ttftMs = positiveNumber(f.sloTtftMs, '--slo-ttft-ms');
  if (f.sloTpotMs !== undefined) slo.tpotMs = positiveNumber(f.sloTpotMs, '--slo-tpot-ms');
  const input: EstimateInput = {
    model,
    gpu,
    gpus,
    tp,
    precision,
    kv_precision:
      f.kvPrecision === undefined
        ? defaultKvPrecision(precision, gpu)
        : parsePrecision(f.kvPrecision, '--kv-precision'),
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    batching: batching as Batching,
    efficiency: resolveEfficiency(f, precision),
    gpu_price_usd_per_hour: price,
    mix: f.mix === undefined ? null : parseMix(f.mix),
  };
  if (f.kvBytesPerToken !== undefined)
    input.kv_bytes_per_token = positiveNumber(f.kvBytesPerToken, '--kv-bytes-per-token');
  return { input, concurrency: parseConcurrency(f.concurrency ?? '1,8,64,256'), slo };
}
