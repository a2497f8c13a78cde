/**
 * The estimator: turns a model, a GPU deployment and a workload into latency, throughput and
 * $/1M tokens at each concurrency, using the roofline passes of roofline.ts.
 *
 * Continuous batching (the default, what vLLM / TensorRT-LLM / SGLang do): in steady state with
 * b requests in flight per replica, each step decodes one token for each of the b requests, and
 * since a request lives O steps, b/O new prompts join each step on average. One step is one
 * forward pass over b decode tokens + (b/O) prompts, so
 *   TPOT = step time, output tokens/s = b / step time,
 *   TTFT = half a step of waiting (when others are running) + a pass holding the new prompt(s).
 * Static batching (gptSessionBenchmark-style tables): the batch's prompts in one pass, then O − 1
 * decode steps; throughput = b × O / (prefill + (O − 1) × step).
 */
import { PertokenError } from '../errors.js';
import { architectureOf, forwardPass, hardwareOf, kvBytesPerToken, kvReplication, weightBytes } from './roofline.js';
import type { Architecture, Hardware, PassCost } from './roofline.js';
import type { EstimateInput, EstimatePoint, EstimateReport } from './types.js';
import { formatEstimateUsd, usdPerMillionTokensValue } from './estimate-money.js';

export interface Slo {
  ttftMs?: number;
  tpotMs?: number;
}

/** Per-replica numbers shared by every point of one estimate. */
export interface Deployment {
  arch: Architecture;
  hw: Hardware;
  replicas: number;
  weightBytes: number;
  kvBytesPerToken: number;
  /** KV budget of one replica, bytes. */
  kvBudgetBytes: number;
  /** Requests one replica holds with their full input + output KV. */
  maxConcurrencyPerReplica: number;
}

export function deploymentOf(input: EstimateInput): Deployment {
  const { model, gpu, tp } = input;
  const kvPerToken =
    (input.kv_bytes_per_token ?? kvBytesPerToken(model, input.kv_precision)) * kvReplication(model, tp);
  const weights = weightBytes(model.params_b, input.precision);
  const usable = tp * gpu.hbm_gb * 1e9 * input.efficiency.memory_utilization;
  const perRequest = (input.input_tokens + input.output_tokens) * kvPerToken;
  if (weights + perRequest > usable) {
    const need = (weights + perRequest) / 1e9;
    throw new PertokenError(
      'invalid_request',
      `${model.id} at ${input.precision} needs ${need.toFixed(1)} GB (weights ${(weights / 1e9).toFixed(1)} GB + KV of one ` +
        `request ${(perRequest / 1e9).toFixed(2)} GB) per replica, but ${tp} x ${gpu.id} offer ${(usable / 1e9).toFixed(1)} GB ` +
        `(${gpu.hbm_gb} GB x ${input.efficiency.memory_utilization} each); raise --tp/--gpus or lower --precision`,
      { param: '--gpus' },
    );
  }
  const kvBudget = usable - weights;
  return {
    arch: architectureOf(model, input.precision, kvPerToken),
    hw: hardwareOf(gpu, tp, input.precision, input.efficiency),
    replicas: input.gpus / tp,
    weightBytes: weights,
    kvBytesPerToken: kvPerToken,
    kvBudgetBytes: kvBudget,
    maxConcurrencyPerReplica: Math.floor(kvBudget / perRequest),
  };
}

interface Timing {
  ttftS: number;
  tpotS: number;
  /** Output tokens per second of one replica. */
  outputPerS: number;
  /** Share of GPU time that input (prefill) work accounts for, in [0, 1]. */
  prefillShare: number;
  bytesPerS: number;
  flopsPerS: number;
  bound: 'memory' | 'compute';
}

function continuousTiming(d: Deployment, input: EstimateInput, b: number): Timing {
  const I = input.input_tokens;
  const O = input.output_tokens;
  const context = I + O / 2;
  const step = forwardPass(d.arch, d.hw, {
    decodeTokens: b,
    decodeContext: context,
    prefillRequests: b / O,
    prefillLength: I,
  });
  const admitting = forwardPass(d.arch, d.hw, {
    decodeTokens: Math.max(b - 1, 0),
    decodeContext: context,
    prefillRequests: Math.max(1, b / O),
    prefillLength: I,
  });
  const waiting = b > 1 ? step.timeS / 2 : 0;
  // Input tokens pay for the share of the step their prompts would take on their own.
  const decodeAlone = forwardPass(d.arch, d.hw, {
    decodeTokens: b,
    decodeContext: context,
    prefillRequests: 0,
    prefillLength: 0,
  });
  const promptAlone = forwardPass(d.arch, d.hw, {
    decodeTokens: 0,
    decodeContext: 0,
    prefillRequests: 1,
    prefillLength: I,
  });
  const prefillWork = (b / O) * promptAlone.timeS;
  return {
    ttftS: waiting + admitting.timeS,
    tpotS: step.timeS,
    outputPerS: b / step.timeS,
    prefillShare: prefillWork / (prefillWork + decodeAlone.timeS),
    bytesPerS: step.bytes / step.timeS,
    flopsPerS: step.flops / step.timeS,
    bound: boundOf(step),
  };
}

function staticTiming(d: Deployment, input: EstimateInput, b: number): Timing {
  const I = input.input_tokens;
  const O = input.output_tokens;
  const prefill = forwardPass(d.arch, d.hw, {
    decodeTokens: 0,
    decodeContext: 0,
    prefillRequests: b,
    prefillLength: I,
  });
  const step = forwardPass(d.arch, d.hw, {
    decodeTokens: b,
    decodeContext: I + O / 2,
    prefillRequests: 0,
    prefillLength: 0,
  });
  const decodeS = (O - 1) * step.timeS;
  const total = prefill.timeS + decodeS;
  return {
    ttftS: prefill.timeS,
    tpotS: step.timeS,
    outputPerS: (b * O) / total,
    prefillShare: prefill.timeS / total,
    bytesPerS: (prefill.bytes + (O - 1) * step.bytes) / total,
    flopsPerS: (prefill.flops + (O - 1) * step.flops) / total,
    bound: boundOf(step),
  };
}

function boundOf(pass: PassCost): 'memory' | 'compute' {
  return pass.memoryS >= pass.computeS ? 'memory' : 'compute';
}

function timingAt(d: Deployment, input: EstimateInput, concurrency: number): Timing {
  const perReplica = concurrency / d.replicas;
  return input.batching === 'static' ? staticTiming(d, input, perReplica) : continuousTiming(d, input, perReplica);
}

const round = (value: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** One point of the report at a total concurrency (requests in flight across all replicas). */
export function estimatePoint(input: EstimateInput, d: Deployment, concurrency: number): EstimatePoint {
  const t = timingAt(d, input, concurrency);
  const total = t.outputPerS * d.replicas;
  const inputPerS = (total * input.input_tokens) / input.output_tokens;
  const price = input.gpu_price_usd_per_hour;
  const usdIn = price === null ? null : usdPerMillionTokensValue(price, input.gpus, inputPerS, t.prefillShare);
  const usdOut = price === null ? null : usdPerMillionTokensValue(price, input.gpus, total, 1 - t.prefillShare);
  const point: EstimatePoint = {
    concurrency,
    ttft_ms: round(t.ttftS * 1000, 3),
    tpot_ms: round(t.tpotS * 1000, 3),
    e2e_ms: round((t.ttftS + (input.output_tokens - 1) * t.tpotS) * 1000, 3),
    output_tokens_per_s: round(total, 2),
    output_tokens_per_s_per_gpu: round(total / input.gpus, 2),
    usd_per_mtok_input: usdIn === null ? null : formatEstimateUsd(usdIn),
    usd_per_mtok_output: usdOut === null ? null : formatEstimateUsd(usdOut),
    mbu: round(t.bytesPerS / (d.hw.tp * d.hw.bandwidthBytesPerS), 4),
    mfu: round(t.flopsPerS / (d.hw.tp * d.hw.flops), 4),
    fits_memory: concurrency / d.replicas <= d.maxConcurrencyPerReplica,
    bound: t.bound,
  };
  if (input.mix !== null) {
    // Blended $/1M tokens of a traffic mix (e.g. 3:1 input:output): the mix-weighted mean price.
    const [inShare, outShare] = input.mix;
    point.usd_per_mtok_blended =
      usdIn === null || usdOut === null
        ? null
        : formatEstimateUsd((inShare * usdIn + outShare * usdOut) / (inShare + outShare));
  }
  return point;
}

function meetsSlo(p: EstimatePoint, slo: Slo): boolean {
  return (slo.ttftMs === undefined || p.ttft_ms <= slo.ttftMs) && (slo.tpotMs === undefined || p.tpot_ms <= slo.tpotMs);
}

/** Largest concurrency whose point meets the SLO (latency grows with concurrency: bisection). */
function maxConcurrencyUnderSlo(input: EstimateInput, d: Deployment, limit: number, slo: Slo): number {
  let lo = 0;
  let hi = limit;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (meetsSlo(estimatePoint(input, d, mid), slo)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Powers of two up to the limit, and the limit itself. */
export function sweepTo(limit: number): number[] {
  const out: number[] = [];
  for (let c = 1; c < limit; c *= 2) out.push(c);
  if (limit >= 1) out.push(limit);
  return out;
}

export function estimate(input: EstimateInput, concurrency: number[] | 'max', slo: Slo = {}): EstimateReport {
  const d = deploymentOf(input);
  const maxMemory = d.maxConcurrencyPerReplica * d.replicas;
  const levels = concurrency === 'max' ? sweepTo(maxMemory) : concurrency;
  const points = levels.map((c) => estimatePoint(input, d, c));
  const hasSlo = slo.ttftMs !== undefined || slo.tpotMs !== undefined;
  const candidates = points.filter((p) => p.fits_memory && (!hasSlo || meetsSlo(p, slo)));
  const best = candidates.reduce<EstimatePoint | null>(
    (acc, p) => (acc === null || p.output_tokens_per_s > acc.output_tokens_per_s ? p : acc),
    null,
  );
  return {
    model: input.model.id,
    gpu: input.gpu.id,
    gpus: input.gpus,
    tp: input.tp,
    precision: input.precision,
    kv_precision: input.kv_precision,
    input_tokens: input.input_tokens,
    output_tokens: input.output_tokens,
    weights_gb: round(d.weightBytes / 1e9, 2),
    kv_bytes_per_token: Math.round(d.kvBytesPerToken),
    max_concurrency_memory: maxMemory,
    max_concurrency_slo: hasSlo ? maxConcurrencyUnderSlo(input, d, maxMemory, slo) : null,
    efficiency: input.efficiency,
    points,
    max_throughput: best,
  };
}
