import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  calcPrice,
  findProvider,
  waitForUpdate,
  type ModelInfo,
  type ModelPrice,
  type Provider,
} from '@pydantic/genai-prices';
import { PertokenError } from '../errors.js';

/**
 * The only door to @pydantic/genai-prices. We use its bundled data and its matchers (provider ids,
 * model match rules, dated model names such as `claude-sonnet-4-20250514`) and never its float
 * prices. Its `updatePrices` hook (which can fetch newer data over the network) is never called, so
 * the data in use is exactly the pinned package version recorded in every price_ref.
 */

let versionCache: string | undefined;

/** "genai-prices@0.1.8", read from the installed package so the record cannot drift from the data. */
export function genaiPricesDataVersion(): string {
  if (versionCache) return versionCache;
  const require = createRequire(import.meta.url);
  // The package's exports hide package.json; its entry lives in dist/, one level below it.
  const entry = require.resolve('@pydantic/genai-prices');
  const pkg: unknown = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8'));
  const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  if (typeof version !== 'string')
    throw new PertokenError('internal', 'cannot read the @pydantic/genai-prices version');
  // The bundled data carries no timestamp of its own (only data fetched by updatePrices does).
  versionCache = `genai-prices@${version}`;
  return versionCache;
}

export type PriceConstraint =
  { type: 'start_date'; start_date: string } | { type: 'time_of_date'; start_time: string; end_time: string };

export interface CatalogEntry {
  provider: Provider;
  model: ModelInfo;
}

export type CatalogLookup = { ok: true; entry: CatalogEntry } | { ok: false; reason: string };

/** Resolves our provider id + model name to a catalogue entry with genai-prices' own matchers. */
export function lookupCatalog(provider: string, model: string, dataVersion: string): CatalogLookup {
  if (!findProvider({ providerId: provider })) {
    return { ok: false, reason: `unknown provider "${provider}": not in ${dataVersion} and no price override` };
  }
  // calcPrice is used only as the model matcher (it applies the match rules, dated-name
  // normalisation and fallback providers); its float result is discarded. With empty usage it
  // computes nothing that can fail on bundled data, but a throw still means "no price", not a crash.
  let result: ReturnType<typeof calcPrice>;
  try {
    result = calcPrice({}, model, { providerId: provider });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      reason: `genai-prices could not resolve model "${model}" for provider "${provider}": ${message}`,
    };
  }
  if (!result) {
    return {
      ok: false,
      reason: `unknown model "${model}" for provider "${provider}": not in ${dataVersion} and no price override`,
    };
  }
  return { ok: true, entry: { provider: result.provider, model: result.model } };
}

/** A catalogue entry by its own ids (for listings: some entries' ids do not match their own rules). */
export function catalogEntryById(providerId: string, modelId: string): CatalogEntry | null {
  const provider = findProvider({ providerId });
  if (!provider || provider.id !== providerId) return null;
  const model = provider.models.find((m) => m.id === modelId);
  return model ? { provider, model } : null;
}

/** Every provider of the bundled data. Resolves at once: no update was ever requested. */
export async function listCatalogProviders(): Promise<readonly Provider[]> {
  return (await waitForUpdate()) ?? [];
}

export interface PriceVariant {
  prices: ModelPrice;
  constraint: PriceConstraint | null;
}

/** A model's price list as variants (one for a plain price). */
export function priceVariants(model: ModelInfo): PriceVariant[] {
  if (!Array.isArray(model.prices)) return [{ prices: model.prices, constraint: null }];
  return model.prices.map((entry) => ({
    prices: entry.prices,
    constraint: normaliseConstraint(entry.constraint, model.id),
  }));
}

/**
 * The variant in effect at `at`, chosen exactly as genai-prices chooses it: walk the list from the
 * end, take the first entry whose constraint holds (an unconstrained entry always holds), and fall
 * back to the first entry. Dates are UTC midnight; daily windows are UTC with `end` exclusive and
 * may wrap midnight.
 */
export function selectVariant(model: ModelInfo, at: Date): { variant: PriceVariant; index: number } {
  const variants = priceVariants(model);
  for (let i = variants.length - 1; i >= 0; i--) {
    const variant = variants[i];
    if (variant && constraintHolds(variant.constraint, at)) return { variant, index: i };
  }
  const first = variants[0];
  if (!first) throw new PertokenError('internal', `genai-prices model ${model.id} has an empty price list`);
  return { variant: first, index: 0 };
}

function constraintHolds(constraint: PriceConstraint | null, at: Date): boolean {
  if (constraint === null) return true;
  if (constraint.type === 'start_date') return at.getTime() >= Date.parse(`${constraint.start_date}T00:00:00Z`);
  const now = at.getUTCHours() * 3600 + at.getUTCMinutes() * 60 + at.getUTCSeconds() + at.getUTCMilliseconds() / 1000;
  const start = secondsOfUtcDay(constraint.start_time);
  const end = secondsOfUtcDay(constraint.end_time);
  return end < start ? now >= start || now < end : now >= start && now < end;
}

/** "00:30:00Z" / "08:30:00+08:00" -> seconds after UTC midnight (genai-prices' time format). */
export function secondsOfUtcDay(time: string): number {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/.exec(time);
  if (!m) throw new PertokenError('internal', `genai-prices data: invalid time of day ${JSON.stringify(time)}`);
  const [, h = '0', min = '0', s = '0', frac = '', zone, sign, oh = '0', om = '0'] = m;
  if (Number(h) > 23 || Number(min) > 59 || Number(s) > 59 || Number(oh) > 23 || Number(om) > 59) {
    throw new PertokenError('internal', `genai-prices data: invalid time of day ${JSON.stringify(time)}`);
  }
  const local = Number(h) * 3600 + Number(min) * 60 + Number(s) + Number(`0.${frac || '0'}`);
  const offset = zone === 'Z' ? 0 : (sign === '+' ? 1 : -1) * (Number(oh) * 3600 + Number(om) * 60);
  return (local - offset + 86_400) % 86_400;
}

/** "@2025-06-10" or "@time=00:30:00Z-16:30:00Z" for a price_ref; "" without a constraint. */
export function constraintRef(constraint: PriceConstraint | null): string {
  if (constraint === null) return '';
  return constraint.type === 'start_date'
    ? `@${constraint.start_date}`
    : `@time=${constraint.start_time}-${constraint.end_time}`;
}

/** Human text of a constraint for `pertoken prices`. */
export function constraintText(constraint: PriceConstraint | null): string {
  if (constraint === null) return 'otherwise';
  return constraint.type === 'start_date'
    ? `from ${constraint.start_date}`
    : `daily ${constraint.start_time}-${constraint.end_time} (UTC)`;
}

function normaliseConstraint(raw: unknown, modelId: string): PriceConstraint | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'object') {
    const c = raw as Record<string, unknown>;
    if (typeof c.start_date === 'string' && (c.type === undefined || c.type === 'start_date')) {
      return { type: 'start_date', start_date: c.start_date };
    }
    if (
      typeof c.start_time === 'string' &&
      typeof c.end_time === 'string' &&
      (c.type === undefined || c.type === 'time_of_date')
    ) {
      return { type: 'time_of_date', start_time: c.start_time, end_time: c.end_time };
    }
  }
  throw new PertokenError(
    'internal',
    `genai-prices data: unknown price constraint for ${modelId}: ${JSON.stringify(raw)}`,
  );
}
