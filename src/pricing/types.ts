import type { Bucket, Buckets } from '../usage/index.js';

/**
 * Unit prices are exact decimals: USD per 1M tokens (or per 1 unit for `requests`, `web_search`,
 * `tool_calls`... see `per`), held as a bigint scaled by 1e12 so that a line is
 * `quantity × scaledPrice / 1e9` nano-USD with no float anywhere.
 */
export const PRICE_SCALE = 1_000_000_000_000n;

/**
 * The most one priced call may cost: 1,000,000 USD. No LLM call costs that; a cost beyond it comes
 * from an implausible usage (an upstream reporting 4e15 tokens), and storing it would overflow the
 * ledger's 64-bit amounts once rollups add a few of them (one past 2^63 could never be committed
 * at all). Such a call is recorded unpriced, with the reason. Same bound as an ingested event's.
 */
export const MAX_CALL_COST_NANO = 1_000_000_000_000_000n;

export interface UnitPrice {
  bucket: Bucket;
  /** USD per 1M tokens (per_mtok) or per single unit (per_unit), × 1e12. */
  scaled: bigint;
  per: 'mtok' | 'unit';
}

export interface CostLine {
  bucket: Bucket;
  quantity: number;
  /** Decimal USD string of the unit price as given by the source (e.g. "2.5"). */
  unit_price_usd: string;
  per: 'mtok' | 'unit';
  /** Discount applied to this line, percent as a decimal string ("12"), or null. */
  discount_pct: string | null;
  /** Exact line cost, rounded half-even once to the nano-USD. */
  cost_nano: bigint;
}

export interface PriceQuery {
  provider: string;
  model: string;
  /** The event's own time: prices are looked up as of this instant, not now. */
  at: Date;
  buckets: Buckets;
  /** Sent through a provider's batch API: an override's `batch_discount_pct` applies. */
  batch?: boolean;
}

export interface PriceResult {
  /** null when no price is known: recorded as unpriced, never as $0. */
  cost_nano: bigint | null;
  lines: CostLine[];
  /** e.g. "genai-prices@0.1.8:openai/gpt-4o@2024-08-06" or "override:acme-vllm/llama-3.1-8b@2026-11-01". */
  price_ref: string | null;
  /** Why the event is unpriced (unknown model, bucket without a price...). */
  unpriced_reason: string | null;
}

/** Per-bucket rates effective for a provider/model at an instant (for budgets' worst-case cost). */
export interface EffectiveRates {
  provider: string;
  model: string;
  price_ref: string;
  source: 'genai-prices' | 'override';
  rates: UnitPrice[];
  discount_pct: string | null;
  /** Human note on tiers/time-of-day constraints, for `pertoken prices`. */
  notes: string[];
}

export interface PriceBook {
  price(query: PriceQuery): PriceResult;
  /**
   * Rates in effect at `at`. Tiered prices are chosen by `inputTokens` (the request's total
   * input-side tokens); without it the highest tier is returned, the worst case for a budget.
   */
  rates(provider: string, model: string, at: Date, inputTokens?: number): EffectiveRates | null;
  /** Version of the bundled price data, recorded in price_ref. */
  readonly dataVersion: string;
}
