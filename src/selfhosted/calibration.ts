/**
 * Checks the estimator against published measurements: for each calibration point, the predicted
 * value of its metric and the relative error (predicted / published − 1).
 */
import { requireGpu, requireModel } from './catalog/index.js';
import { defaultEfficiency, defaultKvPrecision } from './defaults.js';
import { deploymentOf, estimate, estimatePoint } from './estimate.js';
import type { CalibrationPoint, Efficiency, EstimateInput, EstimatePoint } from './types.js';

export interface CalibrationResult {
  point: CalibrationPoint;
  predicted: number;
  /** predicted / published − 1 */
  error: number;
}

export interface CalibrationSummary {
  count: number;
  within: number;
  /** Share of points whose |error| ≤ tolerance. */
  share: number;
  medianAbsError: number;
  tolerance: number;
  results: CalibrationResult[];
}

export function inputOf(point: CalibrationPoint, efficiency: Efficiency): EstimateInput {
  const gpu = requireGpu(point.gpu);
  return {
    model: requireModel(point.model),
    gpu,
    gpus: point.gpus,
    tp: point.tp,
    precision: point.precision,
    kv_precision: point.kv_precision ?? defaultKvPrecision(point.precision, gpu),
    input_tokens: point.input_tokens,
    output_tokens: point.output_tokens,
    batching: point.batching,
    efficiency,
    gpu_price_usd_per_hour: null,
    mix: null,
  };
}

function metricOf(p: EstimatePoint, metric: CalibrationPoint['metric']): number {
  if (metric === 'tpot_ms') return p.tpot_ms;
  if (metric === 'ttft_ms') return p.ttft_ms;
  return p.output_tokens_per_s;
}

/** Efficiency factors to use for a point: the defaults for its precision unless told otherwise. */
export type EfficiencyFor = (point: CalibrationPoint) => Efficiency;

export const defaultEfficiencyFor: EfficiencyFor = (point) => defaultEfficiency(point.precision);

export function predict(point: CalibrationPoint, efficiency: Efficiency = defaultEfficiency(point.precision)): number {
  const input = inputOf(point, efficiency);
  if (point.concurrency === 'max') {
    const best = estimate(input, 'max').max_throughput;
    return best === null ? 0 : metricOf(best, point.metric);
  }
  return metricOf(estimatePoint(input, deploymentOf(input), point.concurrency), point.metric);
}

export function calibrate(
  points: readonly CalibrationPoint[],
  efficiencyFor: EfficiencyFor = defaultEfficiencyFor,
  tolerance = 0.25,
): CalibrationSummary {
  const results = points.map((point) => {
    const predicted = predict(point, efficiencyFor(point));
    return { point, predicted, error: predicted / point.value - 1 };
  });
  const abs = results.map((r) => Math.abs(r.error)).sort((a, b) => a - b);
  const within = abs.filter((e) => e <= tolerance).length;
  const mid = Math.floor(abs.length / 2);
  const median =
    abs.length === 0 ? 0 : abs.length % 2 === 1 ? (abs[mid] ?? 0) : ((abs[mid - 1] ?? 0) + (abs[mid] ?? 0)) / 2;
  return {
    count: results.length,
    within,
    share: results.length === 0 ? 0 : within / results.length,
    medianAbsError: median,
    tolerance,
    results,
  };
}
