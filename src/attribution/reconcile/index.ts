/**
 * Reconciliation (DESIGN §3): the ledger's metered usage and cost against the imported provider
 * bills, per day × provider × tenant × project × model × bucket, every gap explained.
 */
export {
  checkDayWindow,
  DEFAULT_THRESHOLD_PCT,
  EXPLANATION_CODES,
  hasUnexplainedGap,
  parseThreshold,
  reconcile,
  type ReconcileOptions,
  type ReconciliationJson,
  type ReconciliationRow,
} from './engine.js';
export type { Explanation, ExplanationCode } from './explain.js';
export {
  DEFAULT_SUMMARY_MAX_AGE_MS,
  observeReconciliation,
  ReconciliationSummaryCache,
  type SummaryCacheOptions,
} from './gauges.js';
export {
  applyReconciliation,
  appliedTotals,
  APPLIED_CODES,
  type AdjustmentSink,
  type AppliedAdjustment,
  type AppliedCode,
  type ApplyResult,
} from './apply.js';
export { appliedTable, reconciliationCsv, reconciliationTable } from './render.js';
export { summarize, type ReconciliationSummaryJson, type ReconciliationSummaryLine } from './summary.js';
