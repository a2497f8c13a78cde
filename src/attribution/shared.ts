/**
 * Shared and fixed costs (observability, vector DB, on-call, gateway hosting...): what falls in a
 * window, and who carries it. A monthly amount is prorated by time within each calendar month
 * (October's $1,200 is $1,200 over October, $600 over its first 15.5 days); a one-off amount falls
 * whole in the window holding its date. Shares always sum to the amount to the nano-USD
 * (largest-remainder allocation, ties to the tenant first in id order).
 */
import type { SharedCostConfig } from '../config/index.js';
import { allocate, mulDivHalfEven, parseDecimalScaled, parseUsd } from '../money.js';
import { instantMs, monthsBetween, overlapMs, type Window } from './window.js';

/** The part of a shared cost that falls in the window, in nano-USD. */
export function sharedAmountIn(cost: SharedCostConfig, window: Window): bigint {
  const amount = parseUsd(cost.usd, `shared_costs.${cost.name}.usd`);
  const from = instantMs(cost.from);
  const to = cost.to === undefined ? Number.POSITIVE_INFINITY : instantMs(cost.to);
  const winFrom = window.from.getTime();
  const winTo = window.to.getTime();
  if (cost.per === 'one_off') return from >= winFrom && from < winTo ? amount : 0n;
  let total = 0n;
  for (const month of monthsBetween(Math.max(winFrom, from), Math.min(winTo, to))) {
    const covered = overlapMs(month.from, month.to, Math.max(winFrom, from), Math.min(winTo, to));
    if (covered === month.to - month.from) total += amount;
    else if (covered > 0) total += mulDivHalfEven(amount, BigInt(covered), BigInt(month.to - month.from));
  }
  return total;
}

/** What each tenant is measured by, for the rules that weigh: its direct cost and its tokens. */
export interface TenantMeasure {
  readonly tenant: string;
  readonly costNano: bigint;
  readonly tokens: number;
}

/** Shares of one shared cost by its rule, tenant -> nano-USD; empty when nobody can carry it. */
export function allocateShared(
  cost: SharedCostConfig,
  amount: bigint,
  measures: readonly TenantMeasure[],
): Map<string, bigint> {
  const shares = new Map<string, bigint>();
  if (amount === 0n) return shares;
  let tenants: string[];
  let weights: bigint[];
  if (typeof cost.allocate === 'object') {
    tenants = Object.keys(cost.allocate.fixed).sort();
    const fixed = cost.allocate.fixed;
    weights = tenants.map((t) =>
      parseDecimalScaled(fixed[t] ?? '0', 12, `shared_costs.${cost.name}.allocate.fixed.${t}`),
    );
  } else {
    const listed = cost.tenants ? new Set(cost.tenants) : null;
    const candidates = listed
      ? [...listed].sort().map((t) => measures.find((m) => m.tenant === t) ?? { tenant: t, costNano: 0n, tokens: 0 })
      : measures.filter((m) => m.tokens > 0 || m.costNano !== 0n).sort((a, b) => (a.tenant < b.tenant ? -1 : 1));
    tenants = candidates.map((m) => m.tenant);
    weights = candidates.map((m) =>
      cost.allocate === 'by_cost'
        ? m.costNano > 0n
          ? m.costNano
          : 0n
        : cost.allocate === 'by_tokens'
          ? BigInt(m.tokens)
          : 1n,
    );
    // Listed tenants with neither cost nor tokens still carry their part: evenly.
    if (weights.every((w) => w === 0n)) weights = weights.map(() => 1n);
  }
  if (tenants.length === 0) return shares;
  const parts = allocate(amount, weights);
  tenants.forEach((t, i) => shares.set(t, (shares.get(t) ?? 0n) + (parts[i] ?? 0n)));
  return shares;
}
