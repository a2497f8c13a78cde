import type { BudgetLedger } from '../counters/index.js';
import { formatUsd } from '../pricing/index.js';
import { fullCounters, ledgerUsage, type CounterSeeder, type LedgerCosts } from './budgets.js';
import type { Snapshot } from './directory.js';
import type { FallbackPrices } from './fallback.js';
import { periodBounds } from './period.js';
import { presentAlert } from './present.js';
import type { GovernanceRepo } from './store.js';
import type { BudgetRule } from './types.js';

/** The tenant a budget belongs to (for read scoping): its scope's tenant, or that of its project or key. */
export function budgetTenant(budget: BudgetRule, snapshot: Snapshot): string | null {
  const s = budget.scope;
  if (s.tenant !== undefined) return s.tenant;
  if (s.project !== undefined) return snapshot.projects.get(s.project)?.tenant ?? null;
  if (s.key !== undefined) return snapshot.keys.get(s.key)?.tenant ?? null;
  return null;
}

export interface StatusDeps {
  budgets: BudgetLedger;
  seeder: CounterSeeder;
  ledgerCosts: LedgerCosts;
  fallback: FallbackPrices;
  repo: GovernanceRepo;
}

/**
 * One budget now: spent and reserved from the shared counters (the ledger when they are down),
 * remaining, the period's bounds, the spend projected to the period's end at the average rate of
 * the period so far, and the threshold alerts raised in this period. Spent counts unpriced usage
 * at the fallback price, as budgets charge it. A token allowance adds its own `*_tokens` fields.
 */
export async function budgetStatus(
  deps: StatusDeps,
  budget: BudgetRule,
  snapshot: Snapshot,
  now: Date,
): Promise<Record<string, unknown>> {
  const counters = fullCounters(budget, now);
  const bounds = periodBounds(budget.period, budget.tz, now);
  let spent: bigint;
  let reserved: bigint;
  let tokens = { spent: 0n, reserved: 0n };
  let source: 'counters' | 'ledger' = 'counters';
  try {
    await deps.seeder.ensure(counters);
    const [usd, token] = await deps.budgets.status(counters.map((c) => c.ref));
    spent = usd?.spent ?? 0n;
    reserved = usd?.reserved ?? 0n;
    if (token) tokens = { spent: token.spent, reserved: token.reserved };
  } catch {
    const usage = await ledgerUsage(deps.ledgerCosts, deps.fallback, budget, bounds);
    spent = usage.nano;
    reserved = 0n;
    tokens = { spent: usage.tokens, reserved: 0n };
    source = 'ledger';
  }
  const { start, end } = bounds;
  const project = (used: bigint): bigint | null =>
    start && end
      ? (used * BigInt(end.getTime() - start.getTime())) / BigInt(Math.max(1, now.getTime() - start.getTime()))
      : null;
  const left = (limit: bigint, used: bigint, held: bigint): bigint => {
    const n = limit - used - held;
    return n < 0n ? 0n : n;
  };
  const projected = project(spent);
  const periodStartMs = start?.getTime() ?? null;
  const alerts = (
    await deps.repo.listAlerts({ budgetIds: [budget.id], limit: 100, ...(start ? { from: start } : {}) })
  ).filter((a) => (a.period_start?.getTime() ?? null) === periodStartMs);
  const tokenFields: Record<string, unknown> = {};
  if (budget.limit_tokens !== null) {
    const projectedTokens = project(tokens.spent);
    Object.assign(tokenFields, {
      limit_tokens: budget.limit_tokens,
      spent_tokens: Number(tokens.spent),
      reserved_tokens: Number(tokens.reserved),
      remaining_tokens: Number(left(BigInt(budget.limit_tokens), tokens.spent, tokens.reserved)),
      projected_tokens: projectedTokens === null ? null : Number(projectedTokens),
    });
  }
  return {
    id: budget.id,
    scope: budget.scope,
    tenant: budgetTenant(budget, snapshot),
    period: budget.period,
    tz: budget.tz,
    action: budget.action,
    ...(budget.downgrade_to !== null ? { downgrade_to: budget.downgrade_to } : {}),
    period_start: start?.toISOString() ?? null,
    period_end: end?.toISOString() ?? null,
    limit_usd: budget.limit_nano === null ? null : formatUsd(budget.limit_nano),
    spent_usd: formatUsd(spent),
    reserved_usd: formatUsd(reserved),
    remaining_usd: budget.limit_nano === null ? null : formatUsd(left(budget.limit_nano, spent, reserved)),
    projected_usd: projected === null ? null : formatUsd(projected),
    ...tokenFields,
    thresholds: budget.thresholds,
    alerts: alerts.map(presentAlert),
    source,
  };
}
