import type { Logger } from 'pino';
import type { BudgetCounterRef, BudgetLedger, CounterState } from '../counters/index.js';
import { MAX_COUNTER_NANO } from '../counters/index.js';
import { modelFamilyMatch } from '../glob.js';
import type { Attribution, CostQuery, CostRow, UsageEvent } from '../ledger/index.js';
import { TOKEN_BUCKETS, type Buckets } from '../usage/index.js';
import { FallbackPrices } from './fallback.js';
import { periodBounds, type PeriodBounds } from './period.js';
import type { GovernanceRepo } from './store.js';
import type { BudgetAlert, BudgetRule } from './types.js';

/**
 * Budgets on the shared counters: which budgets a request falls under, the counters of each
 * budget's current period (USD always, tokens when the budget has a token allowance), seeding
 * counters from the ledger (the truth after a restart or a Redis flush), and threshold alerts.
 */

/** A counter outlives its period by this much, so last period's status stays readable. */
const COUNTER_GRACE_MS = 35 * 86_400_000;

/** What a counter counts: nano-USD (unpriced usage at the fallback price) or tokens. */
export type CounterUnit = 'usd' | 'tokens';

export interface BudgetCounter {
  budget: BudgetRule;
  bounds: PeriodBounds;
  unit: CounterUnit;
  ref: BudgetCounterRef;
}

/** Budgets whose every attribution dimension equals the request's (the model scope is checked per model). */
export function applicableBudgets(budgets: readonly BudgetRule[], attribution: Attribution): BudgetRule[] {
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
 * Whether a budget (or rate limit) with this model scope covers `model`. modelFamilyMatch, not the
 * bare glob: a glob (`gpt-4o*`) matches under the one glob rule of src/glob.ts, and a plain name
 * (`gpt-4o`) also matches its dated snapshots, because admission sees the routed name (`gpt-4o`)
 * while settling and the ledger see the served one (`gpt-4o-2024-08-06`): both must agree, or a
 * budget would reserve a request and then never be charged for it.
 */
export function modelInScope(scope: string | undefined, model: string): boolean {
  return scope === undefined || modelFamilyMatch(scope, model);
}

/** Sum of an event's token buckets; per-call units (requests, web_search, tool_calls) are not tokens. */
export function tokenCount(buckets: Buckets): number {
  let n = 0;
  for (const b of TOKEN_BUCKETS) n += buckets[b] ?? 0;
  return n;
}

/**
 * The counters of a budget's period at `now`: USD, and tokens when the budget has a token
 * allowance. The key names budget and period, so a new period starts new counters; the limits are
 * what a reservation enforces (see admit; null tracks only).
 */
export function budgetCounters(
  budget: BudgetRule,
  now: Date,
  limits: { usd: bigint | null; tokens: bigint | null },
): BudgetCounter[] {
  const bounds = periodBounds(budget.period, budget.tz, now);
  const counter = (unit: CounterUnit, limit: bigint | null): BudgetCounter => {
    const ref: BudgetCounterRef = {
      key: `budget:${budget.id}:${bounds.label}${unit === 'tokens' ? ':tokens' : ''}`,
      limit: limit === null ? null : clampNano(limit),
    };
    if (bounds.end) ref.expireAtMs = bounds.end.getTime() + COUNTER_GRACE_MS;
    return { budget, bounds, unit, ref };
  };
  const counters = [counter('usd', limits.usd)];
  if (budget.limit_tokens !== null) counters.push(counter('tokens', limits.tokens));
  return counters;
}

/** The counters with the budget's own limits (status, ingestion). */
export function fullCounters(budget: BudgetRule, now: Date): BudgetCounter[] {
  return budgetCounters(budget, now, {
    usd: budget.limit_nano,
    tokens: budget.limit_tokens === null ? null : BigInt(budget.limit_tokens),
  });
}

export function clampNano(n: bigint): bigint {
  return n < 0n ? 0n : n > MAX_COUNTER_NANO ? MAX_COUNTER_NANO : n;
}

/** fraction × limit, exact to a millionth of the fraction. */
export function fractionOf(limit: bigint, fraction: number): bigint {
  return (limit * BigInt(Math.round(fraction * 1_000_000))) / 1_000_000n;
}

export type LedgerCosts = (query: CostQuery) => Promise<CostRow[]>;

/**
 * The ledger filter of a budget's attribution scope: every dimension it names. A model scope is a
 * glob, which an equality filter cannot hold: callers that honour it group by model (ledgerUsage).
 */
export function budgetCostFilter(budget: Pick<BudgetRule, 'scope'>): CostQuery['filter'] {
  const filter: CostQuery['filter'] = {};
  const s = budget.scope;
  if (s.tenant !== undefined) filter.tenant = s.tenant;
  if (s.project !== undefined) filter.project = s.project;
  if (s.key !== undefined) filter.key = s.key;
  if (s.user !== undefined) filter.user = s.user;
  if (s.feature !== undefined) filter.feature = s.feature;
  return filter;
}

async function scopedRows(
  queryCosts: LedgerCosts,
  budget: Pick<BudgetRule, 'scope'>,
  bounds: PeriodBounds,
  groupBy: CostQuery['groupBy'],
): Promise<CostRow[]> {
  const model = budget.scope.model;
  const rows = await queryCosts({
    from: bounds.start ?? new Date(0),
    to: bounds.end ?? new Date(8.64e15),
    groupBy: model === undefined ? groupBy : [...new Set([...groupBy, 'model' as const])],
    filter: budgetCostFilter(budget),
  });
  return model === undefined ? rows : rows.filter((r) => modelInScope(model, r.keys.model ?? ''));
}

/** What the ledger says a budget's scope spent in a period (its model scope included). */
export async function ledgerSpend(
  queryCosts: LedgerCosts,
  budget: Pick<BudgetRule, 'scope'>,
  bounds: PeriodBounds,
): Promise<bigint> {
  const rows = await scopedRows(queryCosts, budget, bounds, []);
  // Net of adjustments (repricing, credits): what the ledger says was spent. A counter sees an
  // adjustment made after it was seeded only at its next seeding (restart, Redis flush, new period).
  return rows.reduce((sum, r) => sum + (r.net_nano ?? r.cost_nano), 0n);
}

/**
 * What a budget's counters hold for a period according to the ledger: net spend plus unpriced
 * usage at the fallback price (what settling charged for it), and tokens.
 */
export async function ledgerUsage(
  queryCosts: LedgerCosts,
  fallback: FallbackPrices,
  budget: BudgetRule,
  bounds: PeriodBounds,
): Promise<{ nano: bigint; tokens: bigint }> {
  const rows = await scopedRows(queryCosts, budget, bounds, []);
  let nano = rows.reduce((sum, r) => sum + (r.net_nano ?? r.cost_nano), 0n);
  const tokens = rows.reduce((sum, r) => sum + BigInt(tokenCount(r.tokens)), 0n);
  if (rows.some((r) => r.unpriced_requests > 0)) {
    // Unpriced usage per provider, model and day: its fallback price. A group mixing priced and
    // unpriced events (rare: one bucket without a price) charges the unpriced share of its tokens.
    for (const r of await scopedRows(queryCosts, budget, bounds, ['provider', 'model', 'day'])) {
      if (r.unpriced_requests === 0 || r.requests === 0) continue;
      const at = new Date(`${r.keys.day ?? '1970-01-01'}T12:00:00Z`);
      const cost = FallbackPrices.cost(await fallback.rates(r.keys.provider ?? '', at), r.tokens);
      nano += r.unpriced_requests === r.requests ? cost : (cost * BigInt(r.unpriced_requests)) / BigInt(r.requests);
    }
  }
  return { nano, tokens };
}

/**
 * Seeds each budget's counters once per process from the ledger; the counters keep whichever
 * value exists (a Redis counter another replica keeps is left alone). Failures are logged and
 * retried later.
 */
export class CounterSeeder {
  readonly #done = new Map<string, Promise<void>>();

  readonly #budgets: BudgetLedger;
  readonly #queryCosts: LedgerCosts;
  readonly #fallback: FallbackPrices;
  readonly #log: Logger;

  constructor(budgets: BudgetLedger, queryCosts: LedgerCosts, fallback: FallbackPrices, log: Logger) {
    this.#budgets = budgets;
    this.#queryCosts = queryCosts;
    this.#fallback = fallback;
    this.#log = log;
  }

  async ensure(counters: readonly BudgetCounter[]): Promise<void> {
    const periods = new Map<string, BudgetCounter[]>();
    for (const c of counters) {
      const key = `${c.budget.id}:${c.bounds.label}`;
      periods.set(key, [...(periods.get(key) ?? []), c]);
    }
    await Promise.all([...periods].map(([key, own]) => this.#one(key, own)));
  }

  #one(key: string, counters: readonly BudgetCounter[]): Promise<void> {
    // Seeded per counter key set: a budget that gained a token allowance seeds its new counter.
    const memo = `${key}:${counters.map((c) => c.unit).join(',')}`;
    let pending = this.#done.get(memo);
    if (!pending) {
      const first = counters[0] as BudgetCounter;
      pending = (async () => {
        const usage = await ledgerUsage(this.#queryCosts, this.#fallback, first.budget, first.bounds);
        await this.#budgets.seed(
          counters.map((c) => ({ counter: c.ref, spent: clampNano(c.unit === 'usd' ? usage.nano : usage.tokens) })),
        );
      })().catch((err: unknown) => {
        this.#done.delete(memo);
        this.#log.warn({ err, counter: key }, 'budget counter not seeded from the ledger; retrying on next use');
      });
      this.#done.set(memo, pending);
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
      const { budget } = counter;
      // Thresholds are shares of the USD allowance (alerts carry USD); a token allowance has none.
      if (!state || counter.unit !== 'usd' || budget.limit_nano === null) continue;
      const limit = budget.limit_nano;
      for (const threshold of budget.thresholds) {
        if (state.spent < fractionOf(limit, threshold)) continue;
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
            limit_nano: limit,
          });
          if (alert) {
            raised.push(alert);
            this.#log.warn(
              {
                budget: budget.id,
                threshold,
                spent_nano: state.spent.toString(),
                limit_nano: limit.toString(),
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

/** The slice of an event settling needs. */
export type ChargedEvent = Pick<UsageEvent, 'model' | 'provider' | 'time' | 'buckets' | 'cost_nano'>;

/**
 * What each counter is charged for these events: the events its budget's model scope covers (by
 * the served model, as the ledger records it), in nano-USD — an unpriced event at the fallback
 * price, never $0 — or in tokens. Aligned with `counters`.
 *
 * An unpriced event without token usage (a media call billed per image or second the book does
 * not know) has nothing the fallback price can apply to: given `reserved` (the lease's amounts,
 * aligned with `counters`), it is charged what was reserved for it, so it cannot pass as $0.
 */
export async function counterCharges(
  counters: readonly BudgetCounter[],
  events: readonly ChargedEvent[],
  fallback: FallbackPrices,
  reserved?: readonly bigint[],
): Promise<bigint[]> {
  const usd = await Promise.all(
    events.map(async (e) =>
      e.cost_nano !== null ? e.cost_nano : FallbackPrices.cost(await fallback.rates(e.provider, e.time), e.buckets),
    ),
  );
  return counters.map((c, ci) => {
    let total = 0n;
    events.forEach((e, i) => {
      if (!modelInScope(c.budget.scope.model, e.model)) return;
      if (c.unit !== 'usd') total += BigInt(tokenCount(e.buckets));
      else if (e.cost_nano === null && tokenCount(e.buckets) === 0 && reserved?.[ci] !== undefined)
        total += reserved[ci] as bigint;
      else total += usd[i] as bigint;
    });
    return clampNano(total);
  });
}
