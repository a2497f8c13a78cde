import type { BudgetLedger } from '../counters/index.js';
import { formatUsd } from '../pricing/index.js';
import { budgetCounter, ledgerSpend, type CounterSeeder, type LedgerCosts } from './budgets.js';
import type { Snapshot } from './directory.js';
import { presentAlert } from './present.js';
import type { GovernanceRepo } from './store.js';
import type { Budget } from './types.js';

/** The tenant a budget belongs to (for read scoping): its scope's tenant, or that of its project or key. */
export function budgetTenant(budget: Budget, snapshot: Snapshot): string | null {
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
  repo: GovernanceRepo;
}

/**
 * One budget now: spent and reserved from the shared counters (the ledger when they are down),
 * remaining, the period's bounds, the spend projected to the period's end at the average rate of
 * the period so far, and the threshold alerts raised in this period.
 */
export async function budgetStatus(
  deps: StatusDeps,
  budget: Budget,
  snapshot: Snapshot,
  now: Date,
): Promise<Record<string, unknown>> {
  const counter = budgetCounter(budget, now, budget.limit_nano);
  let spent: bigint;
  let reserved: bigint;
  let source: 'counters' | 'ledger' = 'counters';
  try {
    await deps.seeder.ensure([counter]);
    const [state] = await deps.budgets.status([counter.ref]);
    spent = state?.spent ?? 0n;
    reserved = state?.reserved ?? 0n;
  } catch {
    spent = await ledgerSpend(deps.ledgerCosts, budget, counter.bounds);
    reserved = 0n;
    source = 'ledger';
  }
  const left = budget.limit_nano - spent - reserved;
  const { start, end } = counter.bounds;
  let projected: bigint | null = null;
  if (start && end) {
    const elapsed = BigInt(Math.max(1, now.getTime() - start.getTime()));
    projected = (spent * BigInt(end.getTime() - start.getTime())) / elapsed;
  }
  const periodStartMs = start?.getTime() ?? null;
  const alerts = (
    await deps.repo.listAlerts({ budgetIds: [budget.id], limit: 100, ...(start ? { from: start } : {}) })
  ).filter((a) => (a.period_start?.getTime() ?? null) === periodStartMs);
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
    limit_usd: formatUsd(budget.limit_nano),
    spent_usd: formatUsd(spent),
    reserved_usd: formatUsd(reserved),
    remaining_usd: formatUsd(left < 0n ? 0n : left),
    projected_usd: projected === null ? null : formatUsd(projected),
    thresholds: budget.thresholds,
    alerts: alerts.map(presentAlert),
    source,
  };
}
