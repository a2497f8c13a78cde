/**
 * Self-hosted GPU economics: the roofline estimator (`pertoken estimate`), the endpoint load
 * generator (`pertoken bench`) and the GPU pools that price self-hosted tokens.
 */
export * from './types.js';
export { GPUS, MODELS, CALIBRATION_POINTS, findGpu, findModel, requireGpu, requireModel } from './catalog/index.js';
export { DEFAULT_EFFICIENCY, DEFAULT_COMPUTE_EFFICIENCY, defaultEfficiency, defaultKvPrecision } from './defaults.js';
export {
  weightBytes,
  kvBytesPerToken,
  kvReplication,
  paramsRead,
  expertsTouched,
  gemmRows,
  forwardPass,
  commSeconds,
  computeTflops,
  gemmUtilisation,
  GEMM_HALF_ROWS,
} from './roofline.js';
export type { Architecture, Hardware, PassCost, PassShape } from './roofline.js';
export { estimate, estimatePoint, deploymentOf, sweepTo } from './estimate.js';
export type { Slo, Deployment } from './estimate.js';
export { calibrate, predict } from './calibration.js';
export type { CalibrationResult, CalibrationSummary } from './calibration.js';
export { resolveEstimate, parseConcurrency, parsePrecision } from './options.js';
export type { EstimateFlags, ResolvedEstimate } from './options.js';
export { renderEstimate, renderCalibration, POINT_FIELDS } from './estimate-output.js';
export { parseLengthSpec, meanLength, sampleLength } from './lengths.js';
export type { LengthSpec } from './lengths.js';
export { usdPerMillionTokens } from './estimate-money.js';
export { matchModel } from './catalog/index.js';
export { runBench, summarize } from './bench/runner.js';
export type { BenchPlan, BenchPoint, BenchReport, BenchRun, LoadMode, Progress } from './bench/runner.js';
export { streamChat, chatUrl } from './bench/client.js';
export type { ChatTarget, RequestResult } from './bench/client.js';
export { percentiles, quantile } from './bench/stats.js';
export type { Percentiles } from './bench/stats.js';
export { renderBench, benchColumns } from './bench/output.js';
export { paretoSvg, niceMax } from './bench/plot.js';
export type { CurvePoint, Series } from './bench/plot.js';
export { resolveBench, parseDuration, estimateCurve, poolFromRun } from './bench/options.js';
export type { BenchFlags } from './bench/options.js';
export { syntheticPrompt, loadPromptFile, workSource } from './bench/workload.js';
export {
  loadPools,
  savePool,
  poolPricePerMTok,
  exactUsdPerMillion,
  resolveDataDir,
  poolsPath,
  POOLS_FILE,
  DEFAULT_INPUT_COST_WEIGHT,
} from './pools.js';
export type { GpuPool, PoolPrice } from './pools.js';
