/**
 * The daily pull `pertoken serve` runs when some `billing_accounts` entry has an `admin_key`:
 * fetch the providers' completed days (resumable, see pull.ts), then reconcile the days just
 * fetched and report drift — an unexplained gap past the threshold — to `onDrift` (logged today;
 * the alerts pipeline subscribes here once it exists). One run at a time; a failure is reported
 * and retried at the next tick, never thrown into the server.
 */
import type { BillingAccountConfig } from '../../config/index.js';
import type { Store } from '../../ledger/index.js';
import type { PriceBook } from '../../pricing/index.js';
import { DEFAULT_THRESHOLD_PCT, hasUnexplainedGap, parseThreshold, reconcile } from '../reconcile/index.js';
import type { ReconciliationJson } from '../reconcile/index.js';
import { pullBilling, type PullSummary } from './pull.js';

const DAY_MS = 86_400_000;

export interface BillingScheduleOptions {
  store: Store;
  priceBook: PriceBook;
  accounts: readonly BillingAccountConfig[];
  dataDir: string;
  /** Between runs; default one day. */
  intervalMs?: number;
  /** Before the first run, so start-up is not slowed; default 5 minutes. */
  firstRunMs?: number;
  now?: () => Date;
  pull?: typeof pullBilling;
  onRun?: (pulled: PullSummary, reconciled: ReconciliationJson | null) => void;
  onDrift?: (reconciled: ReconciliationJson) => void;
  onError?: (err: unknown) => void;
}

export interface BillingSchedule {
  /** One pull and reconciliation now (what every tick runs); resolves when done. */
  runNow(): Promise<void>;
  /** Clears the timers and waits for a run under way. */
  stop(): Promise<void>;
}

/** null when no account has an admin key: there is nothing to pull. */
export function startBillingSchedule(options: BillingScheduleOptions): BillingSchedule | null {
  if (!options.accounts.some((a) => a.admin_key !== undefined)) return null;
  const now = options.now ?? (() => new Date());
  const pull = options.pull ?? pullBilling;
  let running: Promise<void> | null = null;
  let stopped = false;

  const run = async (): Promise<void> => {
    const pulled = await pull({
      store: options.store,
      accounts: options.accounts,
      dataDir: options.dataDir,
      now: now(),
    });
    const days = pulled.reports.flatMap((r) => (r.from && r.to ? [Date.parse(r.from), Date.parse(r.to)] : []));
    if (days.length === 0) {
      options.onRun?.(pulled, null);
      return;
    }
    const from = new Date(Math.min(...days));
    const to = new Date(Math.max(...days, from.getTime() + DAY_MS));
    const reconciled = await reconcile(options.store, options.priceBook, {
      from,
      to,
      threshold: parseThreshold(DEFAULT_THRESHOLD_PCT, 'threshold_pct'),
    });
    options.onRun?.(pulled, reconciled);
    if (hasUnexplainedGap(reconciled)) options.onDrift?.(reconciled);
  };

  const tick = (): Promise<void> => {
    running ??= run()
      .catch((err: unknown) => options.onError?.(err))
      .finally(() => {
        running = null;
      });
    return running;
  };

  const first = setTimeout(() => void tick(), options.firstRunMs ?? 5 * 60_000);
  first.unref();
  const every = setInterval(() => void tick(), options.intervalMs ?? DAY_MS);
  every.unref();

  return {
    runNow: () => (stopped ? Promise.resolve() : tick()),
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
      await running;
    },
  };
}
