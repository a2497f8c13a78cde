import type { UsageEvent } from '../ledger/index.js';
import { formatUsd, type PriceBook } from '../pricing/index.js';

/** One line of an event's cost as /api/v1/events/:id shows it. */
export interface CostLineJson {
  bucket: string;
  quantity: number;
  unit_price_usd: string;
  per: 'mtok' | 'unit';
  discount_pct: string | null;
  cost_usd: string;
}

/**
 * The per-bucket lines behind an event's cost. Events store their total and price_ref, not their
 * lines; the price book is dated, so pricing the stored buckets at the event's time gives the same
 * lines — unless the book changed since (an override added for that date, a reported cost, a
 * media price). Lines are shown only when they add up to the stored cost under the same
 * price_ref, never lines that disagree with the ledger; otherwise null.
 */
export function costLinesOf(book: PriceBook, event: UsageEvent): CostLineJson[] | null {
  if (event.cost_nano === null || event.price_ref === null) return null;
  const priced = book.price({ provider: event.provider, model: event.model, at: event.time, buckets: event.buckets });
  if (priced.cost_nano !== event.cost_nano || priced.price_ref !== event.price_ref) return null;
  return priced.lines.map((line) => ({
    bucket: line.bucket,
    quantity: line.quantity,
    unit_price_usd: line.unit_price_usd,
    per: line.per,
    discount_pct: line.discount_pct,
    cost_usd: formatUsd(line.cost_nano),
  }));
}
