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
export { reconciliationCsv, reconciliationTable } from './render.js';
export { summarize, type ReconciliationSummaryJson, type ReconciliationSummaryLine } from './summary.js';
