/**
 * The reconciliation summary (summary.ts) of the previous and the current UTC month, kept for the
 * Prometheus gauges (`pertoken_billing_*{provider,month}`). A scrape must never wait on a
 * reconciliation over two months of ledger: `lines()` answers from the last computed summary at
 * once and starts one background refresh when that summary is older than `maxAgeMs`. A failed
 * refresh is reported to `onError` and the previous lines are kept.
 */
import type { Store } from '../../ledger/index.js';
import type { PriceBook } from '../../pricing/index.js';
import { StaleValue } from '../../stale-value.js';
import { parseThreshold, reconcile } from './engine.js';
import { summarize, type ReconciliationSummaryLine } from './summary.js';

/** Default: recompute at most every five minutes. */
export const DEFAULT_SUMMARY_MAX_AGE_MS = 300_000;

export interface SummaryCacheOptions {
  store: Store;
  priceBook: PriceBook;
  maxAgeMs?: number;
  now?: () => Date;
  onError: (err: unknown) => void;
}

export class ReconciliationSummaryCache {
  readonly #value: StaleValue<readonly ReconciliationSummaryLine[]>;

  constructor(options: SummaryCacheOptions) {
    this.#value = new StaleValue({
      initial: [],
      maxAgeMs: options.maxAgeMs ?? DEFAULT_SUMMARY_MAX_AGE_MS,
      ...(options.now ? { now: options.now } : {}),
      onError: options.onError,
      compute: async (now) => {
        const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
        // Through today: the running day is compared as far as both sides have it.
        const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
        const result = await reconcile(options.store, options.priceBook, {
          from,
          to,
          threshold: parseThreshold(null, 'threshold_pct'),
        });
        return summarize(result).months;
      },
    });
  }

  /** The last computed lines; starts a background refresh when they are stale. */
  lines(): readonly ReconciliationSummaryLine[] {
    return this.#value.get();
  }

  /** Recomputes now (joining a refresh already running); never rejects. */
  refresh(): Promise<void> {
    return this.#value.refresh();
  }

  /** Resolves when no refresh is running (shutdown waits for it before closing the store). */
  idle(): Promise<void> {
    return this.#value.idle();
  }
}

interface GaugeSink {
  gaugesFrom<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Iterable<{ labels: Record<L, string>; value: number }>,
  ): void;
}

/** The summary columns exported, one gauge family each, labelled provider × month. */
const GAUGES: ReadonlyArray<{ name: string; help: string; value: (l: ReconciliationSummaryLine) => number }> = [
  {
    name: 'pertoken_billing_metered_usd',
    help: 'Cost the gateway metered, per provider and UTC month (previous and current), in USD.',
    value: (l) => Number(l.metered_usd),
  },
  {
    name: 'pertoken_billing_billed_usd',
    help: 'Cost the imported provider bills carry, per provider and UTC month, in USD.',
    value: (l) => Number(l.billed_usd),
  },
  {
    name: 'pertoken_billing_gap_usd',
    help: 'Sum of |billed - metered| over the reconciliation rows past the threshold, in USD.',
    value: (l) => Number(l.gap_usd),
  },
  {
    name: 'pertoken_billing_explained_ratio',
    help: 'Share of the gap that reconciliation explains (1 when there is no gap).',
    value: (l) => l.explained_pct / 100,
  },
];

/** Registers the `pertoken_billing_*` gauges, read from the cache at scrape time. */
export function observeReconciliation(metrics: GaugeSink, cache: ReconciliationSummaryCache): void {
  for (const gauge of GAUGES)
    metrics.gaugesFrom(gauge.name, gauge.help, ['provider', 'month'], () =>
      cache.lines().map((l) => ({ labels: { provider: l.provider, month: l.month }, value: gauge.value(l) })),
    );
}
