/**
 * @module
 * What the budget alerts (burn rate, thresholds, forecasts) share: a budget's scope as a ledger
 * filter and as an alert scope, the spend of that scope over a time range, and how amounts and
 * instants read in a summary line.
 */
import type { Budget } from '../governance/index.js';
import type { CostQuery, LedgerStore } from '../ledger/index.js';
import { divRoundHalfEven, NANO_PER_CENT } from '../money.js';
import type { AlertScope } from './types.js';

export type CostFilter = CostQuery['filter'];

/** The alert scope of a budget: its id and the dimensions it names (alerts have no `user` key). */
export function budgetAlertScope(budget: Budget): AlertScope {
  const scope: AlertScope = { budget: budget.id };
  const s = budget.scope;
  if (s.tenant !== undefined) scope.tenant = s.tenant;
  if (s.project !== undefined) scope.project = s.project;
  if (s.key !== undefined) scope.key = s.key;
  if (s.feature !== undefined) scope.feature = s.feature;
  return scope;
}

/**
 * Net spend (list cost plus adjustments such as credits, as governance counts it) of a scope in
 * [from, to); 0 for an empty or inverted range.
 */
export async function spendBetween(store: LedgerStore, filter: CostFilter, from: Date, to: Date): Promise<bigint> {
  if (from.getTime() >= to.getTime()) return 0n;
  const rows = await store.queryCosts({ from, to, groupBy: [], filter });
  return rows.reduce((sum, r) => sum + r.net_nano, 0n);
}

/** nano-USD -> "$1,234.57" (half-even to the cent), for summaries only. */
export function dollars(nano: bigint): string {
  const cents = divRoundHalfEven(nano, NANO_PER_CENT);
  const negative = cents < 0n;
  const abs = (negative ? -cents : cents).toString().padStart(3, '0');
  const whole = abs.slice(0, -2).replace(/\B(?=(\d{3})+$)/g, ',');
  return `${negative ? '-' : ''}$${whole}.${abs.slice(-2)}`;
}

/** An instant to the minute, as summaries print it: "2026-12-09T14:00Z" (seconds dropped). */
export function isoMinute(at: Date): string {
  return `${at.toISOString().slice(0, 16)}Z`;
}

/** "the month's", "the week's", "the day's": whose budget a summary speaks of. */
export function periodNoun(period: Budget['period']): string {
  return period === 'total' ? 'the total' : `the ${period}'s`;
}

/** nano-USD as a float number of USD: findings carry statistics, not money. */
export function usdNumber(nano: bigint): number {
  return Number(nano) / 1e9;
}
