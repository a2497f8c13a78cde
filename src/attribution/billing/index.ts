/**
 * Billing imports (DESIGN §3 "Billing imports and reconciliation"): the providers' own bills —
 * OpenAI Costs and Usage pages, Anthropic cost and usage reports, FOCUS 1.2 CSV — parsed exactly
 * (nano-USD from the files' digits), mapped to tenants through billing_accounts and stored in the
 * ledger's billing_rows, where reconciliation reads them.
 */
export {
  importBilling,
  parseBillingFormat,
  parseSource,
  type BillingImportOptions,
  type BillingImportSummary,
} from './import.js';
export { fileSources, textSource, type BillingSource } from './sources.js';
export { BILLING_FORMATS, type BillingFormat, type BillingLine, type ParsedFile, type Rejection } from './rows.js';
export { pullBilling, type PullOptions, type PulledReport, type PullSummary } from './pull.js';
export { PULL_STATE_FILE } from './pull-state.js';
export type { RetryPolicy, Sleep } from './pull-http.js';
