import type { Logger } from 'pino';
import type { BudgetCounterRef, BudgetLedger, CounterState } from '../counters/index.js';
import { MAX_COUNTER_NANO } from '../counters/index.js';
import type { Attribution, CostQuery, CostRow } from '../ledger/index.js';
import { periodBounds, type PeriodBounds } from './period.js';
import type { GovernanceRepo } from './store.js';
import type { Budget, BudgetAlert } from './types.js';

/**
 * Budgets on the shared counters: which budgets a request falls under, the counter of each
 * budget's current period, seeding counters from the ledger (the truth after a restart or a Redis
 * flush), and threshold alerts.
 */

/** A counter outlives its period by this much, so last period's status stays readable. */
const COUNTER_GRACE_MS = 35 * 86_400_000;

export interface BudgetCounter {
  budget: Budget;
  bounds: PeriodBounds;
  ref: BudgetCounterRef;
}

/** Budgets whose every scope dimension equals the request's. */
export function applicableBudgets(budgets: readonly Budget[], attribution: Attribution): Budget[] {
  return budgets.filter((b) => {
    const s = b.scope;
    return (
      (s.tenant === undefined || s.tenant === attribution.tenant) &&
      (s.project === undefined || s.project === attribution.project) &&
      (s.key === undefined || s.key === attribution.key_id) &&
      (s.user === undefined || s.user === attribution.user) &&
      (s.feature === undefined || s.feature === attribution.feature)
    );
  });
}

/**
 * The counter of a budget's period at `now`. The key names budget and period, so a new period
 * starts a new counter; `limit` is what the reservation enforces (see admit).
 */
export function budgetCounter(budget: Budget, now: Date, limit: bigint | null): BudgetCounter {
  const bounds = periodBounds(budget.period, budget.tz, now);
  const ref: BudgetCounterRef = {
    key: `budget:${budget.id}:${bounds.label}`,
    limit: limit === null ? null : clampNano(limit),
  };
  if (bounds.end) ref.expireAtMs = bounds.end.getTime() + COUNTER_GRACE_MS;
  return { budget, bounds, ref };
}

export function clampNano(n: bigint): bigint {
  return n < 0n ? 0n : n > MAX_COUNTER_NANO ? MAX_COUNTER_NANO : n;
}

/** fraction × limit, exact to a millionth of the fraction. */
export function fractionOf(limit: bigint, fraction: number): bigint {
  return (limit * BigInt(Math.round(fraction * 1_000_000))) / 1_000_000n;
}

export type LedgerCosts = (query: CostQuery) => Promise<CostRow[]>;

/** The ledger filter of a budget's scope: every dimension it names (what its counter counts). */
export function budgetCostFilter(budget: Budget): CostQuery['filter'] {
  const filter: CostQuery['filter'] = {};
  const s = budget.scope;
  if (s.tenant !== undefined) filter.tenant = s.tenant;
  if (s.project !== undefined) filter.project = s.project;
  if (s.key !== undefined) filter.key = s.key;
  if (s.user !== undefined) filter.user = s.user;
  if (s.feature !== undefined) filter.feature = s.feature;
  return filter;
}

/** What the ledger says a budget's scope spent in a period. */
export async function ledgerSpend(queryCosts: LedgerCosts, budget: Budget, bounds: PeriodBounds): Promise<bigint> {
  const filter = budgetCostFilter(budget);
  const rows = await queryCosts({
    from: bounds.start ?? new Date(0),
    to: bounds.end ?? new Date(8.64e15),
    groupBy: [],
    filter,
  });
  // Net of adjustments (repricing, credits): what the ledger says was spent. A counter sees an
  // adjustment made after it was seeded only at its next seeding (restart, Redis flush, new period).
  return rows.reduce((sum, r) => sum + (r.net_nano ?? r.cost_nano), 0n);
}

/**
 * Seeds each counter once per process from the ledger; the counters keep whichever value exists
 * (a Redis counter another replica keeps is left alone). Failures are logged and retried later.
 */
export class CounterSeeder {
  readonly #done = new Map<string, Promise<void>>();

  readonly #budgets: BudgetLedger;
  readonly #queryCosts: LedgerCosts;
  readonly #log: Logger;

  constructor(budgets: BudgetLedger, queryCosts: LedgerCosts, log: Logger) {
    this.#budgets = budgets;
    this.#queryCosts = queryCosts;
    this.#log = log;
  }

  async ensure(counters: readonly BudgetCounter[]): Promise<void> {
    await Promise.all(counters.map((c) => this.#one(c)));
  }

  #one(counter: BudgetCounter): Promise<void> {
    const key = counter.ref.key;
    let pending = this.#done.get(key);
    if (!pending) {
      pending = (async () => {
        const spent = await ledgerSpend(this.#queryCosts, counter.budget, counter.bounds);
        await this.#budgets.seed([{ counter: counter.ref, spent: clampNano(spent) }]);
      })().catch((err: unknown) => {
        this.#done.delete(key);
        this.#log.warn({ err, counter: key }, 'budget counter not seeded from the ledger; retrying on next use');
      });
      this.#done.set(key, pending);
      if (this.#done.size > 10_000) this.#done.delete(this.#done.keys().next().value as string);
    }
    return pending;
  }
}

/**
 * Records the thresholds a settle has just crossed, once per budget/period/threshold. The unique
 * key in the store makes that hold across replicas; the local set saves the round trips.
 */
export class ThresholdWatcher {
  readonly #seen = new Set<string>();

  readonly #repo: GovernanceRepo;
  readonly #log: Logger;
  readonly #now: () => Date;

  constructor(repo: GovernanceRepo, log: Logger, now: () => Date) {
    this.#repo = repo;
    this.#log = log;
    this.#now = now;
  }

  async check(counters: readonly BudgetCounter[], states: readonly CounterState[]): Promise<BudgetAlert[]> {
    const raised: BudgetAlert[] = [];
    for (const counter of counters) {
      const state = states.find((s) => s.key === counter.ref.key);
      if (!state) continue;
      const { budget } = counter;
      for (const threshold of budget.thresholds) {
        if (state.spent < fractionOf(budget.limit_nano, threshold)) continue;
        const memo = `${counter.ref.key}:${threshold}`;
        if (this.#seen.has(memo)) continue;
        this.#seen.add(memo);
        if (this.#seen.size > 100_000) this.#seen.clear();
        try {
          const alert = await this.#repo.insertAlert({
            time: this.#now(),
            budget_id: budget.id,
            period_start: counter.bounds.start,
            threshold,
            spent_nano: state.spent,
            limit_nano: budget.limit_nano,
          });
          if (alert) {
            raised.push(alert);
            this.#log.warn(
              {
                budget: budget.id,
                threshold,
                spent_nano: state.spent.toString(),
                limit_nano: budget.limit_nano.toString(),
              },
              'budget threshold crossed',
            );
          }
        } catch (err) {
          this.#seen.delete(memo);
          this.#log.error({ err, budget: budget.id, threshold }, 'budget alert could not be stored');
        }
      }
    }
    return raised;
  }
}
