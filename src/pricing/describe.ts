import { BUCKETS, type Bucket } from '../usage/index.js';
import type { ConfiguredPriceBook } from './book.js';
import { listCatalogProviders } from './genai.js';
import { rateText } from './notes.js';
import { globToRegExp, isGlob } from '../glob.js';
import { renderTable } from '../output.js';
import type { EffectiveRates } from './types.js';

/** One line of `pertoken prices [MODEL]`. */
export interface PriceRow {
  provider: string;
  model: string;
  source: 'genai-prices' | 'override' | 'none';
  /**
   * List prices before discount, at the base tier: USD per 1M tokens, or USD per call for
   * requests, web_search and tool_calls. Exact decimal text.
   */
  prices: Partial<Record<Bucket, string>>;
  discount_pct: string | null;
  price_ref: string | null;
  /** Tiers, daily windows, dated changes, derived rates, overrides; or why there is no price. */
  notes: string[];
}

export interface DescribeOptions {
  provider?: string;
  /** A model name, or a glob with `*` matched against catalogue ids and override models. */
  model?: string;
  /** Prices as of this instant (the CLI passes now). */
  at: Date;
}

/**
 * Effective prices and their source. With provider and model: that pair. With a model only: every
 * provider (catalogue or override) that prices it. With a provider only: its catalogue and its
 * overrides. With neither: everything. A model glob (`gpt-4o*`) lists the catalogue ids and override
 * models it matches. A model asked for and priced nowhere yields one `none` row saying why.
 */
export async function describePrices(book: ConfiguredPriceBook, options: DescribeOptions): Promise<PriceRow[]> {
  const { provider, model, at } = options;
  const rows = new Map<string, PriceRow>();
  const add = (rates: EffectiveRates | null): void => {
    if (!rates) return;
    const key = `${rates.provider.toLowerCase()}\u0000${rates.model.toLowerCase()}`;
    if (!rows.has(key)) rows.set(key, toRow(rates));
  };

  const overridePairs = book.overrides.map((o) => ({ provider: o.provider, model: o.model }));
  const glob = model !== undefined && isGlob(model) ? globToRegExp(model) : null;
  if (provider !== undefined && model !== undefined && !glob) {
    add(book.rates(provider, model, at, 0));
  } else if (model !== undefined && !glob) {
    const providers = new Set([
      ...overridePairs.map((o) => o.provider.toLowerCase()),
      ...(await listCatalogProviders()).map((p) => p.id),
    ]);
    for (const p of providers) add(book.rates(p, model, at, 0));
  } else {
    const wanted = provider?.toLowerCase();
    const keep = (p: string, m: string): boolean =>
      (wanted === undefined || p.toLowerCase() === wanted) && (glob === null || glob.test(m));
    for (const pair of overridePairs) {
      if (keep(pair.provider, pair.model)) add(book.rates(pair.provider, pair.model, at, 0));
    }
    for (const p of await listCatalogProviders()) {
      for (const m of p.models) if (keep(p.id, m.id)) add(book.catalogRates(p.id, m.id, at, 0));
    }
  }

  const result = [...rows.values()].sort(
    (a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model),
  );
  if (result.length === 0 && model !== undefined && !glob) {
    const probe = book.price({ provider: provider ?? '*', model, at, buckets: {} });
    const reason =
      provider === undefined
        ? `no provider in ${book.dataVersion} or the overrides prices "${model}"`
        : probe.unpriced_reason;
    result.push({
      provider: provider ?? '*',
      model,
      source: 'none',
      prices: {},
      discount_pct: null,
      price_ref: null,
      notes: [reason ?? 'no price'],
    });
  }
  return result;
}

function toRow(rates: EffectiveRates): PriceRow {
  const prices: Partial<Record<Bucket, string>> = {};
  for (const unit of rates.rates) prices[unit.bucket] = rateText(unit.scaled);
  return {
    provider: rates.provider,
    model: rates.model,
    source: rates.source,
    prices,
    discount_pct: rates.discount_pct,
    price_ref: rates.price_ref,
    notes: rates.notes,
  };
}

/** A plain-text table of rows, notes indented under their row; prices right-aligned as numbers. */
export function formatPriceTable(rows: readonly PriceRow[]): string {
  if (rows.length === 0) return 'no prices\n';
  const buckets = BUCKETS.filter((b) => rows.some((r) => r.prices[b] !== undefined));
  const withDiscount = rows.some((r) => r.discount_pct !== null);
  const header = ['provider', 'model', ...buckets, ...(withDiscount ? ['discount_%'] : []), 'source'];
  const cells = rows.map((r) => [
    r.provider,
    r.model,
    ...buckets.map((b) => r.prices[b] ?? null),
    ...(withDiscount ? [r.discount_pct] : []),
    r.price_ref ?? r.source,
  ]);
  return (
    'USD per 1M tokens; requests, web_search and tool_calls USD per call; list prices before discount\n' +
    renderTable(header, cells, { rule: false, notes: rows.map((r) => r.notes) })
  );
}
