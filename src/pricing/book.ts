import { PertokenError } from '../errors.js';
import { divRoundHalfEven, formatDecimalScaled, formatUsd } from '../money.js';
import { BUCKETS, INPUT_BUCKETS, type Bucket, type Buckets } from '../usage/index.js';
import {
  catalogEntryById,
  constraintRef,
  genaiPricesDataVersion,
  lookupCatalog,
  selectVariant,
  type CatalogEntry,
  type CatalogLookup,
} from './genai.js';
import type { Effective } from './effective.js';
import { describeEffective } from './notes.js';
import {
  compileOverrides,
  matchOverrides,
  PCT_FULL,
  PCT_SCALE_DIGITS,
  type Percent,
  type PriceOverride,
} from './overrides.js';
import { selectRate, sheetFromGenai, type RateSheet } from './sheet.js';
import {
  MAX_CALL_COST_NANO,
  type CostLine,
  type EffectiveRates,
  type PriceBook,
  type PriceQuery,
  type PriceResult,
  type UnitPrice,
} from './types.js';

export interface PriceBookOptions {
  /** Operator overrides from config (`prices:`), validated here. */
  overrides?: readonly PriceOverride[];
}

/** The price book createPriceBook returns: the PriceBook contract plus what listings need. */
export interface ConfiguredPriceBook extends PriceBook {
  /** The validated overrides, in config order. */
  readonly overrides: readonly PriceOverride[];
  /**
   * Rates of one catalogue entry addressed by its genai-prices ids (listings; some entries' ids do
   * not match their own match rules). Overrides for that provider/model id apply as usual.
   */
  catalogRates(providerId: string, modelId: string, at: Date, inputTokens?: number): EffectiveRates | null;
}

type Resolution = { ok: true; effective: Effective } | { ok: false; reason: string };

/** Per-line divisor: nano = quantity × scaled / 1e9 for USD×1e12 per 1M tokens, / 1e3 per unit. */
const PER_DIVISOR = { mtok: 1_000_000_000n, unit: 1_000n } as const;
/** Buckets that count calls, not tokens: billed where a price exists, informational otherwise. */
const INFORMATIONAL_WITHOUT_PRICE: ReadonlySet<Bucket> = new Set(['requests', 'tool_calls']);
const LOOKUP_CACHE_LIMIT = 10_000;

export function createPriceBook(options: PriceBookOptions = {}): ConfiguredPriceBook {
  const given = options.overrides ?? [];
  const compiled = compileOverrides(given);
  const overrides = Object.freeze(given.map((o) => Object.freeze({ ...o })));
  const dataVersion = genaiPricesDataVersion();
  // Model names come from clients and upstreams, so the memo is bounded.
  const lookups = new Map<string, CatalogLookup>();
  const sheets = new WeakMap<object, RateSheet>();

  function lookup(provider: string, model: string): CatalogLookup {
    const key = `${provider}\u0000${model}`;
    let found = lookups.get(key);
    if (!found) {
      if (lookups.size >= LOOKUP_CACHE_LIMIT) lookups.clear();
      found = lookupCatalog(provider, model, dataVersion);
      lookups.set(key, found);
    }
    return found;
  }

  function resolve(provider: string, model: string, at: Date, catalogEntry?: CatalogEntry): Resolution {
    const found: CatalogLookup = catalogEntry ? { ok: true, entry: catalogEntry } : lookup(provider, model);
    const names = found.ok && found.entry.model.id !== model ? [model, found.entry.model.id] : [model];
    const inEffect = matchOverrides(compiled, provider, names, at);
    // The latest override wins; when it sets only a discount, prices come from the latest
    // override in effect that sets prices, else from the catalogue.
    const winner = inEffect[0] ?? null;
    const priceOverride = inEffect.find((o) => o.sheet !== null) ?? null;
    const modifiers = {
      discount: winner?.discount ?? null,
      batchDiscount: winner?.batchDiscount ?? null,
      inEffect,
      names,
    };
    if (priceOverride?.sheet) {
      const baseRef = `override:${priceOverride.provider}/${priceOverride.model}@${priceOverride.from}`;
      return {
        ok: true,
        effective: { source: 'override', sheet: priceOverride.sheet, baseRef, catalog: null, ...modifiers },
      };
    }
    if (!found.ok) return found;
    const { entry } = found;
    const { variant, index } = selectVariant(entry.model, at);
    let sheet = sheets.get(variant.prices);
    if (!sheet) {
      sheet = sheetFromGenai(variant.prices);
      sheets.set(variant.prices, sheet);
    }
    const baseRef = `${dataVersion}:${entry.provider.id}/${entry.model.id}${constraintRef(variant.constraint)}`;
    return {
      ok: true,
      effective: { source: 'genai-prices', sheet, baseRef, catalog: { entry, variantIndex: index }, ...modifiers },
    };
  }

  function price(query: PriceQuery): PriceResult {
    const at = requireDate(query.at);
    const quantities = requireBuckets(query.buckets);
    const resolution = resolve(query.provider, query.model, at);
    if (!resolution.ok) return { cost_nano: null, lines: [], price_ref: null, unpriced_reason: resolution.reason };
    const { sheet, baseRef, discount, batchDiscount } = resolution.effective;

    const applied = [discount, query.batch ? batchDiscount : null].filter((p): p is Percent => p !== null);
    const factor = discountFactor(applied);
    const inputTotal = INPUT_BUCKETS.reduce((sum, b) => sum + (quantities[b] ?? 0), 0);
    const lines: CostLine[] = [];
    const missing: string[] = [];
    const tierStarts = new Set<number>();
    let derivedUsed = false;
    for (const bucket of BUCKETS) {
      const spec = sheet[bucket];
      // One event is one call: a per-request fee applies once unless the count says otherwise.
      const quantity = quantities[bucket] ?? (bucket === 'requests' && spec ? 1 : 0);
      if (quantity === 0) continue;
      if (!spec) {
        if (!INFORMATIONAL_WITHOUT_PRICE.has(bucket)) missing.push(`${bucket} (${quantity})`);
        continue;
      }
      const rate = selectRate(spec, inputTotal);
      if (rate.tierStart !== null) tierStarts.add(rate.tierStart);
      derivedUsed ||= spec.derived;
      lines.push({
        bucket,
        quantity,
        unit_price_usd: formatDecimalScaled(rate.scaled, 12),
        per: spec.per,
        discount_pct: factor.text,
        cost_nano: divRoundHalfEven(BigInt(quantity) * rate.scaled * factor.num, PER_DIVISOR[spec.per] * factor.den),
      });
    }

    let ref = baseRef;
    for (const start of [...tierStarts].sort((a, b) => a - b)) ref += `;tier>${start}`;
    if (derivedUsed) ref += ';cache_write_1h=2x_input';
    if (discount) ref += `;discount=${discount.text}%`;
    if (query.batch && batchDiscount) ref += `;batch_discount=${batchDiscount.text}%`;
    if (missing.length > 0) {
      return {
        cost_nano: null,
        lines: [],
        price_ref: ref,
        unpriced_reason: `no price for ${missing.join(', ')} in ${baseRef}`,
      };
    }
    const cost = lines.reduce((sum, line) => sum + line.cost_nano, 0n);
    if (cost > MAX_CALL_COST_NANO) {
      return {
        cost_nano: null,
        lines: [],
        price_ref: ref,
        unpriced_reason: `${formatUsd(cost)} USD is more than one call can cost (${formatUsd(MAX_CALL_COST_NANO)}): implausible usage`,
      };
    }
    return { cost_nano: cost, lines, price_ref: ref, unpriced_reason: null };
  }

  function ratesOf(
    resolution: Resolution,
    provider: string,
    model: string,
    at: Date,
    inputTokens?: number,
  ): EffectiveRates | null {
    if (!resolution.ok) return null;
    const effective = resolution.effective;
    if (inputTokens !== undefined && (!Number.isSafeInteger(inputTokens) || inputTokens < 0)) {
      throw new PertokenError(
        'invalid_request',
        `inputTokens must be a non-negative integer, got ${String(inputTokens)}`,
        { param: 'inputTokens' },
      );
    }
    const rates: UnitPrice[] = [];
    for (const bucket of BUCKETS) {
      const spec = effective.sheet[bucket];
      if (spec) rates.push({ bucket, scaled: selectRate(spec, inputTokens ?? 'max').scaled, per: spec.per });
    }
    const notes = describeEffective(effective, compiled, provider, at);
    if (inputTokens === undefined && Object.values(effective.sheet).some((s) => s.tiers.length > 0)) {
      notes.push('rates are the highest tier (worst case); pass inputTokens to choose a tier');
    }
    return {
      provider,
      model,
      price_ref: effective.baseRef + (effective.discount ? `;discount=${effective.discount.text}%` : ''),
      source: effective.source,
      rates,
      discount_pct: effective.discount?.text ?? null,
      notes,
    };
  }

  return {
    dataVersion,
    overrides,
    price,
    rates(provider, model, at, inputTokens) {
      const when = requireDate(at);
      return ratesOf(resolve(provider, model, when), provider, model, when, inputTokens);
    },
    catalogRates(providerId, modelId, at, inputTokens) {
      const when = requireDate(at);
      const entry = catalogEntryById(providerId, modelId);
      if (!entry) return null;
      return ratesOf(resolve(providerId, modelId, when, entry), providerId, modelId, when, inputTokens);
    },
  };
}

/** Discounts compound: (1 − d₁)(1 − d₂)…, kept as an exact fraction of PCT_FULL powers. */
function discountFactor(percents: Percent[]): { num: bigint; den: bigint; text: string | null } {
  let num = 1n;
  let den = 1n;
  for (const p of percents) {
    num *= PCT_FULL - p.micro;
    den *= PCT_FULL;
  }
  if (percents.length === 0) return { num, den, text: null };
  // Combined percent = 100 × (den − num) / den; den = PCT_FULL^n = 10^(kn) with k = PCT_SCALE_DIGITS + 2,
  // so den / 100 = 10^(kn − 2) and (den − num) is the percent scaled by that: exact decimal text.
  return { num, den, text: formatDecimalScaled(den - num, (PCT_SCALE_DIGITS + 2) * percents.length - 2) };
}

function requireDate(at: unknown): Date {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    throw new PertokenError('invalid_request', `price lookup needs a valid date, got ${String(at)}`, { param: 'at' });
  }
  return at;
}

function requireBuckets(buckets: unknown): Buckets {
  if (typeof buckets !== 'object' || buckets === null || Array.isArray(buckets)) {
    throw new PertokenError('invalid_request', 'buckets must be an object of token counts', { param: 'buckets' });
  }
  const known = new Set<string>(BUCKETS);
  for (const [bucket, value] of Object.entries(buckets)) {
    if (!known.has(bucket))
      throw new PertokenError('invalid_request', `unknown usage bucket "${bucket}"`, { param: `buckets.${bucket}` });
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new PertokenError(
        'invalid_request',
        `bucket ${bucket} must be a non-negative integer, got ${JSON.stringify(value)}`,
        {
          param: `buckets.${bucket}`,
        },
      );
    }
  }
  return buckets as Buckets;
}
