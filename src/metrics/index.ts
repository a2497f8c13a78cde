export { PertokenMetrics, type AlertCount, type MetricsOptions } from './registry.js';
export { OTHER, TopValues, type RankedValue } from './labels.js';
export {
  DEFAULT_LEDGER_GAUGES_MAX_AGE_MS,
  LedgerGauges,
  observeLedgerGauges,
  type BudgetSpend,
  type LedgerGaugesOptions,
  type LedgerSnapshot,
} from './spend-gauges.js';
