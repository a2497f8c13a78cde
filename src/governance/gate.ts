import type { Logger } from 'pino';
import type { RoutingConfig } from '../config/index.js';
import { rateLimitHeaders, type Counters, type Lease, type RateTicket } from '../counters/index.js';
import { PertokenError } from '../errors.js';
import type { Attribution, UsageEvent } from '../ledger/index.js';
import { formatUsd, type PriceBook } from '../pricing/index.js';
import type { RouteId } from '../providers/index.js';
import { countTokens, type Bucket } from '../usage/index.js';
import {
  applicableBudgets,
  budgetCounter,
  clampNano,
  fractionOf,
  type BudgetCounter,
  type CounterSeeder,
  type ThresholdWatcher,
} from './budgets.js';
import type { Directory } from './directory.js';
import type { Identity } from './identity.js';
import { rateLimitPlan, splitStates } from './rate-limits.js';
import type { Budget } from './types.js';
import { maxOutputTokens, worstCaseCost } from './worst-case.js';

/** One model a request may be served by: its upstream and that upstream's price-book provider. */
export interface RouteCandidate {
  model: string;
  upstream: string;
  provider: string;
}

export interface AdmitRequest {
  id: string;
  route: RouteId;
  identity: Identity;
  attribution: Attribution;
  /** Models in the order they will be tried: the (alias-resolved) model, then its fallbacks. */
  chain: readonly RouteCandidate[];
  /** The chain for a downgrade target; null when no upstream of this wire serves it. */
  replan(model: string): readonly RouteCandidate[] | null;
  promptText: string;
  /** Prompt tokens sent as token ids (legacy completions, embeddings). */
  pretokenizedInputTokens: number;
  hasNonTextInput: boolean;
  /** The client's max_tokens (or equivalent), null when unset. */
  maxOutputTokens: number | null;
  at: Date;
}

/** An admitted request: what to serve, headers to send, and how to settle or release it. */
export interface Admission {
  chain: readonly RouteCandidate[];
  downgradedFrom: string | null;
  headers: Record<string, string>;
  /**
   * Settles budgets and TPM to the actual cost and tokens of the request's events (a timed-out
   * attempt before a fallback is an event of its own); idempotent.
   */
  settle(events: readonly UsageEvent[]): Promise<void>;
  /** Returns everything reserved (the request failed before costing anything); idempotent. */
  release(): Promise<void>;
}

export interface GatekeeperOptions {
  directory: Directory;
  counters: Counters;
  priceBook: PriceBook;
  seeder: CounterSeeder;
  watcher: ThresholdWatcher;
  routing: Pick<RoutingConfig, 'max_output_tokens'>;
  reservationTtlMs: number;
  rateLimitFailMode: 'open' | 'closed';
  log: Logger;
}

/** Units billed per call, not tokens: they do not count against TPM. */
const NON_TOKEN: ReadonlySet<Bucket> = new Set(['requests', 'web_search', 'tool_calls']);

function admitted(chain: readonly RouteCandidate[]): Admission {
  return {
    chain,
    downgradedFrom: null,
    headers: {},
    settle: () => Promise.resolve(),
    release: () => Promise.resolve(),
  };
}

/**
 * Rate limits, then budgets, before a request leaves: RPM/TPM are taken atomically across the
 * key, project and tenant; the worst-case cost is reserved atomically against every applicable
 * budget. A `downgrade` budget that would pass its threshold switches the request to its
 * `downgrade_to` model (reserved at that model's worst case); a `block` budget refuses with 402.
 */
export class Gatekeeper {
  readonly #o: GatekeeperOptions;

  constructor(o: GatekeeperOptions) {
    this.#o = o;
  }

  async admit(req: AdmitRequest): Promise<Admission> {
    const snapshot = await this.#o.directory.snapshot();
    const budgets = applicableBudgets(snapshot.budgets, req.attribution);
    let promptTokens: number | null = null;
    const prompt = (): number =>
      (promptTokens ??= countTokens(req.promptText, req.chain[0]?.model ?? '') + req.pretokenizedInputTokens);
    const outputCeiling = (model: string): number =>
      req.route === 'openai.embeddings'
        ? 0
        : maxOutputTokens(model, req.maxOutputTokens, this.#o.routing.max_output_tokens);
    const rates = rateLimitPlan(
      snapshot,
      req.identity,
      req.attribution,
      () => prompt() + outputCeiling(req.chain[0]?.model ?? ''),
    );
    if (budgets.length === 0 && rates.specs.length === 0) return admitted(req.chain);

    const headers: Record<string, string> = {};
    let ticket: RateTicket | null = null;
    if (rates.specs.length > 0) {
      const taken = await this.#o.counters.rates.take({
        id: req.id,
        limits: rates.specs,
        failMode: this.#o.rateLimitFailMode,
      });
      if (!taken.ok) {
        const spec = rates.specs.find((s) => s.key === taken.key);
        const what = taken.key.startsWith('tpm:') ? 'tokens' : 'requests';
        const message = taken.tooLarge
          ? `this request needs up to ${spec?.cost ?? 0} tokens, more than the ${taken.key} limit of ${spec?.limit ?? 0} ${what} per minute allows; lower max_tokens`
          : `rate limit ${taken.key} reached (${spec?.limit ?? 0} ${what} per minute)`;
        throw new PertokenError('rate_limited', message, {
          headers: rateLimitHeaders({ ...splitStates(taken.states), retryAfterMs: taken.retryAfterMs }),
        });
      }
      ticket = taken.ticket;
      Object.assign(headers, rateLimitHeaders(splitStates(taken.states)));
    }
    const giveBackTokens = async (): Promise<void> => {
      if (ticket && rates.tokenKeys.length > 0)
        await this.#o.counters.rates.adjust(
          ticket,
          rates.tokenKeys.map((key) => ({ key, cost: 0 })),
        );
    };

    let reservation: Reservation | null = null;
    if (budgets.length > 0) {
      try {
        reservation = await this.#reserve(req, budgets, prompt, outputCeiling);
      } catch (err) {
        await giveBackTokens();
        throw err;
      }
      if (reservation.remaining !== null) headers['x-pertoken-budget-remaining-usd'] = formatUsd(reservation.remaining);
      if (reservation.downgradedFrom !== null) headers['x-pertoken-downgraded-from'] = reservation.downgradedFrom;
    }

    let done = false;
    const chain = reservation?.chain ?? req.chain;
    return {
      chain,
      downgradedFrom: reservation?.downgradedFrom ?? null,
      headers,
      settle: async (events) => {
        if (done) return;
        done = true;
        if (ticket && rates.tokenKeys.length > 0) {
          const tokens = events.reduce(
            (sum, e) =>
              sum + Object.entries(e.buckets).reduce((n, [b, v]) => (NON_TOKEN.has(b as Bucket) ? n : n + (v ?? 0)), 0),
            0,
          );
          await this.#o.counters.rates.adjust(
            ticket,
            rates.tokenKeys.map((key) => ({ key, cost: tokens })),
          );
        }
        if (reservation) {
          const cost = events.reduce((sum, e) => sum + (e.cost_nano ?? 0n), 0n);
          const result = await this.#o.counters.budgets.settle(reservation.lease, clampNano(cost));
          if (result.counters.length > 0) await this.#o.watcher.check(reservation.counters, result.counters);
        }
      },
      release: async () => {
        if (done) return;
        done = true;
        await giveBackTokens();
        if (reservation) await this.#o.counters.budgets.release(reservation.lease);
      },
    };
  }

  async #reserve(
    req: AdmitRequest,
    budgets: Budget[],
    prompt: () => number,
    outputCeiling: (model: string) => number,
  ): Promise<Reservation> {
    // Downgrade budgets first: a refusal names the first counter over its limit, and a downgrade
    // budget over its threshold must switch models rather than be reported as a block.
    const ordered = [...budgets].sort((a, b) => actionRank(a) - actionRank(b));
    const failMode = ordered.some((b) => b.fail_mode === 'closed') ? 'closed' : 'open';
    const limitOf = (b: Budget, downgraded: boolean): bigint | null =>
      b.action === 'block'
        ? b.limit_nano
        : b.action === 'downgrade' && !downgraded
          ? fractionOf(b.limit_nano, b.downgrade_at)
          : null;
    const worstCase = (chain: readonly RouteCandidate[]): bigint =>
      chain.reduce((max, c) => {
        const cost =
          worstCaseCost(this.#o.priceBook, {
            provider: c.provider,
            model: c.model,
            at: req.at,
            inputTokens: prompt(),
            outputTokens: outputCeiling(c.model),
            hasNonTextInput: req.hasNonTextInput,
          }) ?? 0n;
        return cost > max ? cost : max;
      }, 0n);

    const attempt = async (chain: readonly RouteCandidate[], downgraded: boolean, leaseId: string) => {
      const counters = ordered.map((b) => budgetCounter(b, req.at, limitOf(b, downgraded)));
      await this.#o.seeder.ensure(counters);
      const amount = clampNano(worstCase(chain));
      const result = await this.#o.counters.budgets.reserve({
        leaseId,
        counters: counters.map((c) => c.ref),
        amount,
        ttlMs: this.#o.reservationTtlMs,
        failMode,
      });
      return { counters, amount, result };
    };

    let chain = req.chain;
    let downgradedFrom: string | null = null;
    let { counters, amount, result } = await attempt(chain, false, req.id);
    if (!result.ok) {
      const failedKey = result.key;
      const failed = counters.find((c) => c.ref.key === failedKey) as BudgetCounter;
      const target = failed.budget.action === 'downgrade' ? failed.budget.downgrade_to : null;
      const replanned = target === null ? null : req.replan(target);
      if (replanned === null || replanned.length === 0)
        throw budgetExceeded(failed, result.spent, result.reserved, amount, req.at);
      downgradedFrom = req.chain[0]?.model ?? null;
      chain = replanned;
      ({ counters, amount, result } = await attempt(chain, true, `${req.id}:downgraded`));
      if (!result.ok) {
        const blockedKey = result.key;
        const blocked = counters.find((c) => c.ref.key === blockedKey) as BudgetCounter;
        throw budgetExceeded(blocked, result.spent, result.reserved, amount, req.at);
      }
    }
    let remaining: bigint | null = null;
    for (const state of result.counters) {
      const counter = counters.find((c) => c.ref.key === state.key);
      if (!counter || counter.budget.action === 'alert_only') continue;
      const left = counter.budget.limit_nano - state.spent - state.reserved;
      const clamped = left < 0n ? 0n : left;
      if (remaining === null || clamped < remaining) remaining = clamped;
    }
    return { lease: result.lease, counters, chain, downgradedFrom, remaining };
  }
}

interface Reservation {
  lease: Lease;
  counters: BudgetCounter[];
  chain: readonly RouteCandidate[];
  downgradedFrom: string | null;
  /** Least left of the limiting budgets after this reservation; null when none limits. */
  remaining: bigint | null;
}

function actionRank(b: Budget): number {
  return b.action === 'downgrade' ? 0 : b.action === 'block' ? 1 : 2;
}

function budgetExceeded(
  counter: BudgetCounter,
  spent: bigint,
  reserved: bigint,
  amount: bigint,
  now: Date,
): PertokenError {
  const { budget, bounds } = counter;
  const period = budget.period === 'total' ? 'in total' : `this ${budget.period} (${budget.tz})`;
  const headers: Record<string, string> = { 'x-pertoken-budget-id': budget.id };
  if (bounds.end)
    headers['retry-after'] = String(Math.max(1, Math.ceil((bounds.end.getTime() - now.getTime()) / 1000)));
  return new PertokenError(
    'budget_exceeded',
    `budget "${budget.id}" is exhausted: $${formatUsd(spent)} spent and $${formatUsd(reserved)} reserved of its $${formatUsd(budget.limit_nano)} limit ${period}; this request may cost up to $${formatUsd(amount)}`,
    { headers },
  );
}
