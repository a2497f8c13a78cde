import type { Counters, Lease } from '../counters/index.js';
import { PertokenError } from '../errors.js';
import { formatUsd, type PriceBook } from '../pricing/index.js';
import {
  budgetCounters,
  clampNano,
  fractionOf,
  modelInScope,
  type BudgetCounter,
  type CounterSeeder,
} from './budgets.js';
import { FallbackPrices } from './fallback.js';
import type { AdmitRequest, RouteCandidate } from './gate.js';
import type { BudgetRule } from './types.js';
import { worstCaseCost } from './worst-case.js';

/**
 * Budget reservation of one request: the worst case of the chain models each budget covers,
 * reserved atomically on every counter (USD and tokens) of every applicable budget. A `downgrade`
 * budget that would pass its threshold switches the request to its `downgrade_to` model
 * (reserved at that model's worst case); a `block` budget refuses with 402.
 */

/** The request's size: its prompt tokens and a model's output ceiling (worst-case.ts). */
export interface Sizing {
  prompt(): number;
  outputCeiling(model: string): number;
}

export interface ReserveOptions {
  counters: Counters;
  priceBook: PriceBook;
  fallback: FallbackPrices;
  unpricedModels: 'reserve' | 'refuse';
  seeder: CounterSeeder;
  reservationTtlMs: number;
}

export interface Reservation {
  /** Null when no budget covers the models served (a model scope elsewhere). */
  lease: Lease | null;
  counters: BudgetCounter[];
  chain: readonly RouteCandidate[];
  downgradedFrom: string | null;
  /** Least left of the limiting budgets after this reservation, per allowance; null when none limits. */
  remaining: { usd: bigint | null; tokens: bigint | null };
  /** Some model was reserved at the fallback price (it has none of its own). */
  fallbackPrice: boolean;
}

/** A chain model's worst case in nano-USD, at the fallback price when it has none of its own. */
interface MemberCost {
  nano: bigint;
  fallback: boolean;
}

export async function reserveBudgets(
  o: ReserveOptions,
  req: AdmitRequest,
  budgets: readonly BudgetRule[],
  size: Sizing,
): Promise<Reservation> {
  // Downgrade budgets first: a refusal names the first counter over its limit, and a downgrade
  // budget over its threshold must switch models rather than be reported as a block.
  const ordered = [...budgets].sort((a, b) => actionRank(a) - actionRank(b));
  const costs = new Map<string, Promise<MemberCost>>();
  const costOf = (c: RouteCandidate): Promise<MemberCost> => {
    const key = `${c.provider}\u0000${c.model}`;
    let found = costs.get(key);
    if (!found) {
      found = memberCost(o, req, size, c);
      costs.set(key, found);
    }
    return found;
  };

  const attempt = async (chain: readonly RouteCandidate[], downgraded: boolean, leaseId: string) => {
    const planned: Array<{ counter: BudgetCounter; amount: bigint }> = [];
    let fallback = false;
    for (const b of ordered) {
      const members = chain.filter((c) => modelInScope(b.scope.model, c.model));
      if (members.length === 0) continue;
      let nano = 0n;
      for (const c of members) {
        const cost = await costOf(c);
        fallback ||= cost.fallback;
        if (cost.nano > nano) nano = cost.nano;
      }
      const tokens = size.prompt() + Math.max(...members.map((c) => size.outputCeiling(c.model)));
      for (const counter of budgetCounters(b, req.at, limitsOf(b, downgraded)))
        planned.push({ counter, amount: clampNano(counter.unit === 'usd' ? nano : BigInt(tokens)) });
    }
    if (planned.length === 0) return null;
    const counters = planned.map((p) => p.counter);
    await o.seeder.ensure(counters);
    const result = await o.counters.budgets.reserve({
      leaseId,
      counters: counters.map((c) => c.ref),
      amount: 0n,
      amounts: planned.map((p) => p.amount),
      ttlMs: o.reservationTtlMs,
      failMode: counters.some((c) => c.budget.fail_mode === 'closed') ? 'closed' : 'open',
    });
    return { counters, result, fallback };
  };

  let chain = await refuseUnpriced(o, req.chain, ordered, costOf);
  let downgradedFrom: string | null = null;
  let taken = await attempt(chain, false, req.id);
  if (taken && !taken.result.ok) {
    const failed = counterOf(taken.counters, taken.result.key);
    const target = failed.budget.action === 'downgrade' ? failed.budget.downgrade_to : null;
    const replanned = target === null ? null : req.replan(target);
    if (replanned === null || replanned.length === 0) throw budgetExceeded(failed, taken.result, req.at);
    downgradedFrom = req.chain[0]?.model ?? null;
    chain = await refuseUnpriced(o, replanned, ordered, costOf);
    taken = await attempt(chain, true, `${req.id}:downgraded`);
    if (taken && !taken.result.ok)
      throw budgetExceeded(counterOf(taken.counters, taken.result.key), taken.result, req.at);
  }
  const remaining: Reservation['remaining'] = { usd: null, tokens: null };
  if (!taken || !taken.result.ok)
    return { lease: null, counters: [], chain, downgradedFrom, remaining, fallbackPrice: false };
  for (const state of taken.result.counters) {
    const counter = taken.counters.find((c) => c.ref.key === state.key);
    if (!counter || counter.budget.action === 'alert_only') continue;
    const limit = counter.unit === 'usd' ? counter.budget.limit_nano : counter.budget.limit_tokens;
    if (limit === null) continue;
    const left = BigInt(limit) - state.spent - state.reserved;
    const clamped = left < 0n ? 0n : left;
    const current = remaining[counter.unit];
    if (current === null || clamped < current) remaining[counter.unit] = clamped;
  }
  return {
    lease: taken.result.lease,
    counters: taken.counters,
    chain,
    downgradedFrom,
    remaining,
    fallbackPrice: taken.fallback,
  };
}

/** What a budget's counters enforce: its allowances, a share of them for `downgrade`, or nothing. */
function limitsOf(b: BudgetRule, downgraded: boolean): { usd: bigint | null; tokens: bigint | null } {
  const tokens = b.limit_tokens === null ? null : BigInt(b.limit_tokens);
  if (b.action === 'block') return { usd: b.limit_nano, tokens };
  if (b.action === 'downgrade' && !downgraded)
    return {
      usd: b.limit_nano === null ? null : fractionOf(b.limit_nano, b.downgrade_at),
      tokens: tokens === null ? null : fractionOf(tokens, b.downgrade_at),
    };
  return { usd: null, tokens: null };
}

async function memberCost(o: ReserveOptions, req: AdmitRequest, size: Sizing, c: RouteCandidate): Promise<MemberCost> {
  if (req.knownCostNano !== undefined && c === req.chain[0]) return { nano: req.knownCostNano, fallback: false };
  const priced = worstCaseCost(o.priceBook, {
    provider: c.provider,
    model: c.model,
    at: req.at,
    inputTokens: size.prompt(),
    outputTokens: size.outputCeiling(c.model),
    hasNonTextInput: req.hasNonTextInput,
  });
  if (priced !== null) return { nano: priced, fallback: false };
  const rates = await o.fallback.rates(c.provider, req.at);
  return { nano: FallbackPrices.worstCase(rates, size.prompt(), size.outputCeiling(c.model)), fallback: true };
}

/**
 * `unpriced_models: refuse`: a model without a price cannot be held to a USD allowance. The
 * requested model is refused, naming it; an unpriced fallback is dropped from the chain (as a
 * fallback the key may not use is). Only budgets that limit USD count: an alert_only budget never
 * refuses, and a token allowance bounds an unpriced model as well as any.
 */
async function refuseUnpriced(
  o: ReserveOptions,
  chain: readonly RouteCandidate[],
  budgets: readonly BudgetRule[],
  costOf: (c: RouteCandidate) => Promise<MemberCost>,
): Promise<readonly RouteCandidate[]> {
  if (o.unpricedModels !== 'refuse') return chain;
  const kept: RouteCandidate[] = [];
  for (const [i, c] of chain.entries()) {
    const limiting = budgets.find(
      (b) => b.limit_nano !== null && b.action !== 'alert_only' && modelInScope(b.scope.model, c.model),
    );
    if (!limiting || !(await costOf(c)).fallback) kept.push(c);
    else if (i === 0)
      throw new PertokenError(
        'unpriced_model',
        `model "${c.model}" has no price for provider "${c.provider}", so budget "${limiting.id}" cannot bound its cost; add a price override (prices:) or ask for a priced model`,
        { param: 'model', headers: { 'x-pertoken-budget-id': limiting.id } },
      );
  }
  return kept;
}

function counterOf(counters: readonly BudgetCounter[], key: string): BudgetCounter {
  return counters.find((c) => c.ref.key === key) as BudgetCounter;
}

function actionRank(b: BudgetRule): number {
  return b.action === 'downgrade' ? 0 : b.action === 'block' ? 1 : 2;
}

function budgetExceeded(
  counter: BudgetCounter,
  state: { spent: bigint; reserved: bigint; amount: bigint },
  now: Date,
): PertokenError {
  const { budget, bounds, unit } = counter;
  const period = budget.period === 'total' ? 'in total' : `this ${budget.period} (${budget.tz})`;
  const headers: Record<string, string> = { 'x-pertoken-budget-id': budget.id, 'x-pertoken-budget-allowance': unit };
  if (bounds.end)
    headers['retry-after'] = String(Math.max(1, Math.ceil((bounds.end.getTime() - now.getTime()) / 1000)));
  const { spent, reserved, amount } = state;
  const message =
    unit === 'usd'
      ? `budget "${budget.id}" is exhausted: $${formatUsd(spent)} spent and $${formatUsd(reserved)} reserved of its $${formatUsd(budget.limit_nano ?? 0n)} limit ${period}; this request may cost up to $${formatUsd(amount)}`
      : `budget "${budget.id}" is out of tokens: ${spent} used and ${reserved} reserved of its ${budget.limit_tokens ?? 0}-token allowance ${period}; this request may use up to ${amount} tokens`;
  return new PertokenError('budget_exceeded', message, { headers });
}
