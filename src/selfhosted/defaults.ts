import type { Efficiency, GpuSpec, Precision } from './types.js';

/**
 * Default efficiency factors, calibrated against the published measurements in
 * catalog/calibration.ts (see docs/selfhosted.md for the achieved error). Each one is a flag:
 * --mem-efficiency, --compute-efficiency, --comm-efficiency, --memory-utilization.
 */
export const DEFAULT_EFFICIENCY: Readonly<Efficiency> = Object.freeze({
  mem: 0.8,
  compute: 0.6,
  comm: 0.5,
  memory_utilization: 0.9,
  step_overhead_ms: 4,
  request_overhead_us: 10,
});

/**
 * Default compute efficiency by weight precision: narrower formats have a higher peak but GEMMs
 * reach a smaller share of it (quantisation scales, smaller tiles, dequantisation for W4A16).
 */
export const DEFAULT_COMPUTE_EFFICIENCY: Readonly<Record<Precision, number>> = Object.freeze({
  fp32: 0.75,
  fp16: 0.75,
  bf16: 0.75,
  fp8: 0.6,
  int8: 0.6,
  int4: 0.6,
  fp4: 0.35,
});

/** Default efficiency factors for a weight precision. */
export function defaultEfficiency(precision: Precision): Efficiency {
  return { ...DEFAULT_EFFICIENCY, compute: DEFAULT_COMPUTE_EFFICIENCY[precision] };
}

/**
 * KV cache precision when none is given: 8-bit when the weights are 8-bit or narrower float and the
 * GPU has FP8 tensor cores (what FP8/NVFP4 checkpoints ship with), 16-bit otherwise.
 */
export function defaultKvPrecision(precision: Precision, gpu: GpuSpec): Precision {
  const narrowFloat = precision === 'fp8' || precision === 'fp4';
  return narrowFloat && gpu.tflops.fp8 !== undefined ? 'fp8' : precision === 'bf16' ? 'bf16' : 'fp16';
}
