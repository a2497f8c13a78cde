import type { GovernanceConfig } from '../config/index.js';
import { divCeil } from '../money.js';
import { describePrices, parseDecimalScaled, type ConfiguredPriceBook } from '../pricing/index.js';
import { INPUT_BUCKETS, OUTPUT_BUCKETS, type Bucket, type Buckets } from '../usage/index.js';

/**
 * The price budgets charge for a model the price book cannot price. Without it an unpriced model
 * passes every budget as $0 — 40 requests through a $0.01 budget — so budgets reserve and settle
 * such a request at a fallback price, while the ledger still records it unpriced (cost null).
 *
 * Default: the dearest per-token input and output rates (each on its own, highest tier) among the
 * price book's models of the event's provider at that time, catalogue and overrides alike. A
 * provider the price book knows nothing of (a self-hosted server without an override) takes the
 * dearest of the wires' own providers, OpenAI and Anthropic. `governance.unpriced_fallback` sets
 * one explicit price instead.
 */
export interface FallbackRates {
  /** USD per 1M tokens × 1e12 (the price book's scale), for every input-side token bucket. */
  input: bigint;
  /** The same, for every output-side token bucket. */
  output: bigint;
}

/** Providers a provider the price book does not know falls back to: the wires' own. */
const WIRE_PROVIDERS = ['openai', 'anthropic'] as const;
/** Rates change at dated price changes and daily windows: recomputed once an hour per provider. */
const HOUR_MS = 3_600_000;
const CACHE_LIMIT = 1_000;
const PER_MTOK_DIVISOR = 1_000_000_000n;

const INPUT_SIDE: ReadonlySet<Bucket> = new Set(INPUT_BUCKETS);
const OUTPUT_SIDE: ReadonlySet<Bucket> = new Set(OUTPUT_BUCKETS);

export class FallbackPrices {
  readonly #book: ConfiguredPriceBook;
  readonly #fixed: FallbackRates | null;
  readonly #cache = new Map<string, Promise<FallbackRates | null>>();

  constructor(book: ConfiguredPriceBook, configured: GovernanceConfig['unpriced_fallback']) {
    this.#book = book;
    this.#fixed = configured
      ? {
          input: parseDecimalScaled(
            configured.input_per_mtok_usd,
            12,
            'governance.unpriced_fallback.input_per_mtok_usd',
          ),
          output: parseDecimalScaled(
            configured.output_per_mtok_usd,
            12,
            'governance.unpriced_fallback.output_per_mtok_usd',
          ),
        }
      : null;
  }

  /** The fallback rates for `provider` at `at`. */
  async rates(provider: string, at: Date): Promise<FallbackRates> {
    if (this.#fixed) return this.#fixed;
    const own = await this.#dearest(provider, at);
    if (own) return own;
    let best: FallbackRates = { input: 0n, output: 0n };
    for (const wire of WIRE_PROVIDERS) {
      const rates = await this.#dearest(wire, at);
      if (rates) best = { input: max(best.input, rates.input), output: max(best.output, rates.output) };
    }
    return best;
  }

  /** Input tokens and an output ceiling at these rates: the worst case reserved, rounded up. */
  static worstCase(rates: FallbackRates, inputTokens: number, outputTokens: number): bigint {
    return (
      divCeil(BigInt(inputTokens) * rates.input, PER_MTOK_DIVISOR) +
      divCeil(BigInt(outputTokens) * rates.output, PER_MTOK_DIVISOR)
    );
  }

  /** Actual usage at these rates, rounded up; per-call units (requests, web_search, …) are not charged. */
  static cost(rates: FallbackRates, buckets: Buckets): bigint {
    let input = 0n;
    let output = 0n;
    for (const [bucket, n] of Object.entries(buckets) as Array<[Bucket, number | undefined]>) {
      if (!n) continue;
      if (INPUT_SIDE.has(bucket)) input += BigInt(n);
      else if (OUTPUT_SIDE.has(bucket)) output += BigInt(n);
    }
    return divCeil(input * rates.input, PER_MTOK_DIVISOR) + divCeil(output * rates.output, PER_MTOK_DIVISOR);
  }

  #dearest(provider: string, at: Date): Promise<FallbackRates | null> {
    const key = `${provider.toLowerCase()}\u0000${Math.floor(at.getTime() / HOUR_MS)}`;
    let found = this.#cache.get(key);
    if (!found) {
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      found = this.#scan(provider, at);
      this.#cache.set(key, found);
    }
    return found;
  }

  /** Walks the provider's listing (`pertoken prices --provider`) for its dearest per-token rates. */
  async #scan(provider: string, at: Date): Promise<FallbackRates | null> {
    const rows = await describePrices(this.#book, { provider, at });
    let found: FallbackRates | null = null;
    for (const row of rows) {
      if (row.source === 'none') continue;
      // Without inputTokens the book answers the highest tier: the dearest rate of a tiered model.
      const effective =
        this.#book.catalogRates(row.provider, row.model, at) ?? this.#book.rates(row.provider, row.model, at);
      for (const rate of effective?.rates ?? []) {
        if (rate.per !== 'mtok') continue;
        found ??= { input: 0n, output: 0n };
        if (INPUT_SIDE.has(rate.bucket)) found.input = max(found.input, rate.scaled);
        else if (OUTPUT_SIDE.has(rate.bucket)) found.output = max(found.output, rate.scaled);
      }
    }
    return found;
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
