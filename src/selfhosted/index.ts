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
export { renderEstimate, parseFormat, POINT_FIELDS } from './estimate-output.js';
export { parseLengthSpec, meanLength, sampleLength, seededRandom } from './lengths.js';
export type { LengthSpec } from './lengths.js';
export { renderTable, renderCsv } from './format.js';
export type { OutputFormat } from './format.js';
export { exactUsdPerMillion, formatNano, parseDecimal, usdPerMillionTokens } from './money.js';
