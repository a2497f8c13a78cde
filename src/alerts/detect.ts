import type { AlertsConfig } from '../config/index.js';
import type { Budget } from '../governance/index.js';
import type { LedgerStore } from '../ledger/index.js';
import type { AlertKind, Finding } from './types.js';

/**
 * A detector looks at the ledger as of `at` — only events before `at` count, so an evaluation
 * at a past instant (backfill, tests) sees exactly what a live one saw then — and returns what
 * it finds now. It keeps no state between calls: the lifecycle decides what is new, still firing
 * or resolved by comparing findings with the open alerts.
 */
export interface DetectContext {
  at: Date;
  store: LedgerStore;
  config: AlertsConfig;
  /** Budget definitions (governance); empty without governance. */
  budgets: readonly Budget[];
}

export type Detector = (ctx: DetectContext) => Promise<Finding[]>;

/** A detector with the kinds it can raise: when it fails, only alerts of other kinds may resolve. */
export interface NamedDetector {
  name: string;
  kinds: readonly AlertKind[];
  detect: Detector;
}
