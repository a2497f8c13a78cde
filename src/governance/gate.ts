import type { Logger } from 'pino';
import type { RoutingConfig } from '../config/index.js';
import { rateLimitHeaders, type Counters, type RateTicket } from '../counters/index.js';
import { PertokenError } from '../errors.js';
import type { Attribution, UsageEvent } from '../ledger/index.js';
import { formatUsd, type PriceBook } from '../pricing/index.js';
import type { RouteId } from '../providers/index.js';
import { countTokens } from '../usage/index.js';
import {
  applicableBudgets,
  counterCharges,
  modelInScope,
  tokenCount,
  type CounterSeeder,
  type ThresholdWatcher,
} from './budgets.js';
import type { Directory } from './directory.js';
import type { FallbackPrices } from './fallback.js';
import type { Identity } from './identity.js';
import { rateLimitPlan, splitStates } from './rate-limits.js';
import { reserveBudgets, type Reservation, type Sizing } from './reserve.js';
import { maxOutputTokens } from './worst-case.js';

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
  /**
   * The most the call can cost when the request alone prices it (images asked for, characters to
   * speak): reserved as is for the chain's first model instead of a token worst case.
   */
  knownCostNano?: bigint;
  at: Date;
}

/** An admitted request: what to serve, headers to send, and how to settle or release it. */
export interface Admission {
  chain: readonly RouteCandidate[];
  downgradedFrom: string | null;
  headers: Record<string, string>;
  /**
   * Settles budgets and TPM to the actual cost and tokens of the request's events (a timed-out
   * attempt before a fallback is an event of its own; an unpriced one is charged to budgets at the
   * fallback price); idempotent.
   */
  settle(events: readonly UsageEvent[]): Promise<void>;
  /** Returns everything reserved (the request failed before costing anything); idempotent. */
  release(): Promise<void>;
}

export interface GatekeeperOptions {
  directory: Directory;
  counters: Counters;
  priceBook: PriceBook;
  fallback: FallbackPrices;
  unpricedModels: 'reserve' | 'refuse';
  seeder: CounterSeeder;
  watcher: ThresholdWatcher;
  routing: Pick<RoutingConfig, 'max_output_tokens'>;
  reservationTtlMs: number;
  rateLimitFailMode: 'open' | 'closed';
  log: Logger;
}

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
 * key, project and tenant (and their model-scoped limits); the worst case is reserved atomically
 * against every applicable budget (reserve.ts). Settling charges each counter what the request's
 * events actually cost it — unpriced usage at the fallback price — and tokens.
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
    const size: Sizing = {
      prompt: () =>
        (promptTokens ??= countTokens(req.promptText, req.chain[0]?.model ?? '') + req.pretokenizedInputTokens),
      outputCeiling: (model) =>
        req.route === 'openai.embeddings'
          ? 0
          : maxOutputTokens(model, req.maxOutputTokens, this.#o.routing.max_output_tokens),
    };
    const rates = rateLimitPlan(
      snapshot,
      req.identity,
      req.attribution,
      req.chain.map((c) => c.model),
      (models) => size.prompt() + Math.max(...models.map((m) => size.outputCeiling(m))),
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
          rates.tokenKeys.map(({ key }) => ({ key, cost: 0 })),
        );
    };

    let reservation: Reservation | null = null;
    if (budgets.length > 0) {
      try {
        reservation = await reserveBudgets(this.#o, req, budgets, size);
      } catch (err) {
        await giveBackTokens();
        throw err;
      }
      const { remaining } = reservation;
      if (remaining.usd !== null) headers['x-pertoken-budget-remaining-usd'] = formatUsd(remaining.usd);
      if (remaining.tokens !== null) headers['x-pertoken-budget-remaining-tokens'] = remaining.tokens.toString();
      if (reservation.downgradedFrom !== null) headers['x-pertoken-downgraded-from'] = reservation.downgradedFrom;
      if (reservation.fallbackPrice) headers['x-pertoken-budget-price'] = 'fallback';
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
          await this.#o.counters.rates.adjust(
            ticket,
            rates.tokenKeys.map(({ key, model }) => ({
              key,
              cost: events.reduce(
                (sum, e) => (model === null || modelInScope(model, e.model) ? sum + tokenCount(e.buckets) : sum),
                0,
              ),
            })),
          );
        }
        if (reservation?.lease) {
          const { lease } = reservation;
          const charges = await counterCharges(reservation.counters, events, this.#o.fallback, lease.amounts);
          const result = await this.#o.counters.budgets.settle(lease, charges);
          if (result.counters.length > 0) await this.#o.watcher.check(reservation.counters, result.counters);
        }
      },
      release: async () => {
        if (done) return;
        done = true;
        await giveBackTokens();
        if (reservation?.lease) await this.#o.counters.budgets.release(reservation.lease);
      },
    };
  }
}
