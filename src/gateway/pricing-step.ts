import type { PriceBook } from '../pricing/index.js';
import type { Usage } from '../usage/index.js';

export interface PricingOutcome {
  cost_nano: bigint | null;
  price_ref: string | null;
  note: string | null;
}

/** Nothing billable happened (refused or never-sent calls): zero, and the reason is on record. */
const NOT_BILLED: PricingOutcome = { cost_nano: 0n, price_ref: 'not-billed', note: null };

/**
 * Prices by the served model; an OpenAI-compatible server may answer with a name the price book
 * does not know (a file path, a tag), so the requested model is tried before giving up.
 */
export function priceUsage(
  book: PriceBook,
  provider: string,
  served: string,
  requested: string,
  at: Date,
  usage: Usage,
  billable: boolean,
): PricingOutcome {
  if (!billable) return NOT_BILLED;
  const first = book.price({ provider, model: served, at, buckets: usage.buckets });
  if (first.cost_nano !== null || served === requested) {
    return {
      cost_nano: first.cost_nano,
      price_ref: first.price_ref,
      note: first.unpriced_reason ? `unpriced: ${first.unpriced_reason}` : null,
    };
  }
  const second = book.price({ provider, model: requested, at, buckets: usage.buckets });
  if (second.cost_nano === null) {
    return { cost_nano: null, price_ref: null, note: `unpriced: ${first.unpriced_reason ?? 'no price'}` };
  }
  return {
    cost_nano: second.cost_nano,
    price_ref: second.price_ref,
    note: `priced as requested model ${requested}: served model ${served} has no price`,
  };
}
