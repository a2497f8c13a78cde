/**
 * Spend gauges read from the ledger: each budget's spend in its current period (day, week or
 * month in the budget's time zone) with its limit and period length, and each tenant's UTC
 * month-to-date spend. The same refresh ranks tenants and models for the bounded labels of
 * /metrics (labels.ts).
 *
 * Like the reconciliation gauges (attribution/reconcile/gauges.ts) a scrape never waits on the
 * ledger: it reads the last snapshot at once and starts one background refresh when that snapshot
 * is older than `maxAgeMs`. A failed refresh goes to `onError` and the previous snapshot is kept.
 *
 * Tenants and models are ranked by list cost over the trailing 30 days, not month to date: a
 * month-to-date ranking starts from zero on the 1st and would reshuffle every label at midnight.
 */
// ledgerSpend: the one definition of "what a budget's scope spent" (net of adjustments).
import { ledgerSpend, periodBounds, type Budget } from '../governance/index.js';
import { StaleValue } from '../stale-value.js';
import type { CostRow, LedgerStore } from '../ledger/index.js';
import { OTHER, type RankedValue } from './labels.js';
import { nanoToUsdNumber } from './registry.js';

/** Default: refresh at most once a minute (a budget's gauges lag its spend by up to this). */
export const DEFAULT_LEDGER_GAUGES_MAX_AGE_MS = 60_000;
const RANKING_WINDOW_MS = 30 * 86_400_000;
const HOUR_MS = 3_600_000;

/** What the refresh hands the bounded labels: PertokenMetrics.rerank. */
export interface LabelRanker {
  readonly labels: { readonly tenant: { has(value: string): boolean } };
  rerank(
    ranking: { tenants: Iterable<RankedValue>; models: Iterable<RankedValue> },
    pinnedTenants: ReadonlySet<string>,
  ): Promise<void>;
}

export interface LedgerGaugesOptions {
  store: Pick<LedgerStore, 'queryCosts'>;
  /** Budget definitions (Governance.budgetDefinitions); none without governance. */
  budgets: () => Promise<readonly Budget[]>;
  ranker: LabelRanker;
  maxAgeMs?: number;
  now?: () => Date;
  onError: (err: unknown) => void;
}

export interface BudgetSpend {
  budget: string;
  /** The tenant of a budget scoped to a whole tenant (what the burn-rate rules join on), else null. */
  tenant: string | null;
  spent_nano: bigint;
  limit_nano: bigint;
  /** Length of the current period in hours (23 or 25 on a DST day); null for `total` budgets. */
  period_hours: number | null;
}

export interface LedgerSnapshot {
  /** When the snapshot was computed; null before the first refresh finished. */
  at: Date | null;
  /** Month-to-date (UTC) spend per kept tenant, then `other` for the rest. */
  tenants: ReadonlyArray<{ tenant: string; spent_nano: bigint }>;
  budgets: readonly BudgetSpend[];
}

const EMPTY: LedgerSnapshot = { at: null, tenants: [], budgets: [] };

export class LedgerGauges {
  readonly #value: StaleValue<LedgerSnapshot>;

  constructor(options: LedgerGaugesOptions) {
    this.#value = new StaleValue({
      initial: EMPTY,
      maxAgeMs: options.maxAgeMs ?? DEFAULT_LEDGER_GAUGES_MAX_AGE_MS,
      ...(options.now ? { now: options.now } : {}),
      onError: options.onError,
      compute: async (now): Promise<LedgerSnapshot> => {
        const budgets = await options.budgets();
        const query = options.store.queryCosts.bind(options.store);
        const since = new Date(now.getTime() - RANKING_WINDOW_MS);
        const [byTenant, byModel] = await Promise.all([
          query({ from: since, to: now, groupBy: ['tenant'], filter: {} }),
          query({ from: since, to: now, groupBy: ['model'], filter: {} }),
        ]);
        const pinned = new Set(budgets.map(tenantOf).filter((t): t is string => t !== null));
        await options.ranker.rerank({ tenants: ranked(byTenant, 'tenant'), models: ranked(byModel, 'model') }, pinned);

        const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
        const mtd = await query({ from: monthStart, to: now, groupBy: ['tenant'], filter: {} });
        const spends: BudgetSpend[] = [];
        // One at a time: a thousand budgets must not take a thousand pool connections at once.
        for (const budget of budgets) {
          const bounds = periodBounds(budget.period, budget.tz, now);
          spends.push({
            budget: budget.id,
            tenant: tenantOf(budget),
            spent_nano: await ledgerSpend(query, budget, bounds),
            limit_nano: budget.limit_nano,
            period_hours: bounds.start && bounds.end ? (bounds.end.getTime() - bounds.start.getTime()) / HOUR_MS : null,
          });
        }
        return { at: now, tenants: foldTenants(mtd, options.ranker), budgets: spends };
      },
    });
  }

  /** The last snapshot; starts a background refresh when it is stale. */
  snapshot(): LedgerSnapshot {
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

/** The tenant of a budget whose scope is exactly one tenant; narrower budgets have none. */
function tenantOf(budget: Budget): string | null {
  const keys = Object.entries(budget.scope).filter(([, v]) => v !== undefined);
  return keys.length === 1 && keys[0]?.[0] === 'tenant' ? String(keys[0][1]) : null;
}

function ranked(rows: readonly CostRow[], key: 'tenant' | 'model'): RankedValue[] {
  return rows.flatMap((r) => {
    const value = r.keys[key];
    return value ? [{ value, score: nanoToUsdNumber(r.cost_nano), tiebreak: r.requests }] : [];
  });
}

/** Kept tenants by name, then `other` with the exact sum of every folded tenant (always present). */
function foldTenants(rows: readonly CostRow[], ranker: LabelRanker): LedgerSnapshot['tenants'] {
  const kept: Array<{ tenant: string; spent_nano: bigint }> = [];
  let other = 0n;
  for (const row of rows) {
    const tenant = row.keys.tenant ?? OTHER;
    if (tenant !== OTHER && ranker.labels.tenant.has(tenant)) kept.push({ tenant, spent_nano: row.net_nano });
    else other += row.net_nano;
  }
  kept.sort((a, b) => (a.tenant < b.tenant ? -1 : 1));
  return [...kept, { tenant: OTHER, spent_nano: other }];
}

interface GaugeSink {
  gaugesFrom<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Iterable<{ labels: Record<L, string>; value: number }>,
  ): void;
}

/**
 * Registers the ledger gauges, read from the cache at scrape time. A budget not scoped to one
 * whole tenant carries `tenant=""`, which Prometheus stores as no label at all.
 */
export function observeLedgerGauges(metrics: GaugeSink, gauges: LedgerGauges): void {
  const budgetGauge = (name: string, help: string, value: (b: BudgetSpend) => number | null): void =>
    metrics.gaugesFrom(name, help, ['budget', 'tenant'], () =>
      gauges.snapshot().budgets.flatMap((b) => {
        const v = value(b);
        return v === null ? [] : [{ labels: { budget: b.budget, tenant: b.tenant ?? '' }, value: v }];
      }),
    );
  budgetGauge(
    'pertoken_budget_spend_mtd_usd',
    "Spend of the budget's scope in its current period (day, week or month in its time zone), net of adjustments, in USD.",
    (b) => nanoToUsdNumber(b.spent_nano),
  );
  budgetGauge('pertoken_budget_limit_usd', 'Limit of the budget per period, in USD.', (b) =>
    nanoToUsdNumber(b.limit_nano),
  );
  budgetGauge(
    'pertoken_budget_period_hours',
    "Length of the budget's current period in hours (the even pace is limit / period hours); absent for total budgets.",
    (b) => b.period_hours,
  );
  metrics.gaugesFrom(
    'pertoken_tenant_spend_mtd_usd',
    'Spend per tenant in the current UTC month, net of adjustments, in USD (top tenants, the rest as other).',
    ['tenant'],
    () =>
      gauges.snapshot().tenants.map((t) => ({ labels: { tenant: t.tenant }, value: nanoToUsdNumber(t.spent_nano) })),
  );
}
