import { OVERRIDE_PRICE_FIELDS } from '../config/index.js';
import { PertokenError, invalidInput } from '../errors.js';
import { globToRegExp, isGlob } from '../glob.js';
import { formatDecimalScaled, parseDecimalScaled } from '../money.js';
import type { Bucket } from '../usage/index.js';
import { sheetFromOverride, type RateSheet } from './sheet.js';

/** A decimal as config gives it: "0.05" or 0.05 (read through its shortest text, never as a float). */
export type DecimalInput = string | number;

/**
 * An operator's price override (the `prices:` section of pertoken.yaml). Prices are USD per 1M
 * tokens, `requests` USD per request. With any price set, the override defines the model's whole
 * price list for its window (custom, fine-tuned, self-hosted and committed-use rates); with only
 * `discount_pct` / `batch_discount_pct`, it discounts the catalogue (or an earlier override) price.
 */
export interface PriceOverride {
  provider: string;
  /** Exact model name or a glob with `*`, matched case-insensitively. */
  model: string;
  /** YYYY-MM-DD, UTC midnight, inclusive. */
  from: string;
  /** YYYY-MM-DD, UTC midnight, exclusive. */
  to?: string;
  /** 0..100, decimals allowed; applied to every cost line. */
  discount_pct?: DecimalInput;
  /** 0..100; applied on top, only to queries flagged `batch`. */
  batch_discount_pct?: DecimalInput;
  input?: DecimalInput;
  output?: DecimalInput;
  cache_read?: DecimalInput;
  cache_write_5m?: DecimalInput;
  cache_write_1h?: DecimalInput;
  input_audio?: DecimalInput;
  output_audio?: DecimalInput;
  reasoning?: DecimalInput;
  requests?: DecimalInput;
}

export { OVERRIDE_PRICE_FIELDS };

const KNOWN_FIELDS = new Set<string>([
  'provider',
  'model',
  'from',
  'to',
  'discount_pct',
  'batch_discount_pct',
  ...OVERRIDE_PRICE_FIELDS,
]);

/** Discount percent held × 1e6, so "12.5" is 12_500_000n and 100% is 100_000_000n. */
export const PCT_SCALE_DIGITS = 6;
export const PCT_FULL = 100_000_000n;

export interface CompiledOverride {
  readonly index: number;
  readonly provider: string;
  readonly model: string;
  readonly from: string;
  readonly to: string | null;
  readonly fromMs: number;
  readonly toMs: number | null;
  /** null: the model name has no `*` and is compared as-is (case-insensitive). */
  readonly glob: RegExp | null;
  /** null when the override sets no price (discount only). */
  readonly sheet: RateSheet | null;
  readonly discount: Percent | null;
  readonly batchDiscount: Percent | null;
}

export interface Percent {
  micro: bigint;
  text: string;
}

/** Validates and compiles the overrides; throws PertokenError('config_invalid', …, { param: 'prices[i].field' }). */
export function compileOverrides(list: readonly PriceOverride[]): CompiledOverride[] {
  if (!Array.isArray(list)) throw invalidInput('prices', 'must be a list of price overrides', 'config_invalid');
  const compiled = list.map((entry, index) => compileOne(entry, index));
  const seen = new Map<string, number>();
  for (const o of compiled) {
    const key = `${o.provider}\u0000${o.model.toLowerCase()}\u0000${o.from}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw invalidInput(
        `prices[${o.index}].from`,
        `duplicates prices[${earlier}] (same provider, model and from): which one applies would be ambiguous`,
        'config_invalid',
      );
    }
    seen.set(key, o.index);
  }
  return compiled;
}

function compileOne(entry: unknown, index: number): CompiledOverride {
  const at = (field: string): string => `prices[${index}].${field}`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw invalidInput(`prices[${index}]`, 'must be an object', 'config_invalid');
  const raw = entry as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!KNOWN_FIELDS.has(key))
      throw invalidInput(at(key), `unknown field (expected one of ${[...KNOWN_FIELDS].join(', ')})`, 'config_invalid');
  }
  const provider = requireName(raw.provider, at('provider'));
  const model = requireName(raw.model, at('model'));
  const from = requireDate(raw.from, at('from'));
  const to = raw.to === undefined ? null : requireDate(raw.to, at('to'));
  const fromMs = Date.parse(`${from}T00:00:00Z`);
  const toMs = to === null ? null : Date.parse(`${to}T00:00:00Z`);
  if (toMs !== null && toMs <= fromMs)
    throw invalidInput(at('to'), `must be after from (${from}), got ${to}`, 'config_invalid');

  const scaled: Partial<Record<Bucket, bigint>> = {};
  for (const field of OVERRIDE_PRICE_FIELDS) {
    if (raw[field] !== undefined) scaled[field] = requirePrice(raw[field], at(field));
  }
  const discount = raw.discount_pct === undefined ? null : requirePercent(raw.discount_pct, at('discount_pct'));
  const batchDiscount =
    raw.batch_discount_pct === undefined ? null : requirePercent(raw.batch_discount_pct, at('batch_discount_pct'));
  const hasPrices = Object.keys(scaled).length > 0;
  if (!hasPrices && !discount && !batchDiscount) {
    throw invalidInput(
      `prices[${index}]`,
      `sets no price and no discount (give at least one of ${OVERRIDE_PRICE_FIELDS.join(', ')}, discount_pct, batch_discount_pct)`,
      'config_invalid',
    );
  }
  return Object.freeze({
    index,
    provider: provider.toLowerCase(),
    model,
    from,
    to,
    fromMs,
    toMs,
    glob: isGlob(model) ? globToRegExp(model) : null,
    sheet: hasPrices ? sheetFromOverride(scaled) : null,
    discount,
    batchDiscount,
  });
}

/**
 * Overrides in effect for a provider and model at `at`, highest precedence first: the latest `from`
 * wins; on the same `from` an exact model name beats a glob, then the later entry in the list.
 * `names` are the model's names: as asked, plus its catalogue id, so that an override written for
 * `gpt-4o` also covers the dated `gpt-4o-2024-08-06` an upstream reports as the served model.
 */
export function matchOverrides(
  overrides: readonly CompiledOverride[],
  provider: string,
  names: readonly string[],
  at: Date,
): CompiledOverride[] {
  const t = at.getTime();
  return overridesFor(overrides, provider, names)
    .filter((o) => t >= o.fromMs && (o.toMs === null || t < o.toMs))
    .sort((a, b) => b.fromMs - a.fromMs || Number(a.glob !== null) - Number(b.glob !== null) || b.index - a.index);
}

/** Overrides for a provider and model names regardless of time (for `pertoken prices` notes). */
export function overridesFor(
  overrides: readonly CompiledOverride[],
  provider: string,
  names: readonly string[],
): CompiledOverride[] {
  const p = provider.toLowerCase();
  const lower = names.map((n) => n.toLowerCase());
  return overrides.filter(
    (o) => o.provider === p && (o.glob ? names.some((n) => o.glob?.test(n)) : lower.includes(o.model.toLowerCase())),
  );
}

function requireName(value: unknown, param: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value !== value.trim() || value.length > 200) {
    throw invalidInput(
      param,
      `must be a non-empty name without surrounding spaces, got ${JSON.stringify(value)}`,
      'config_invalid',
    );
  }
  return value;
}

function requireDate(value: unknown, param: string): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    throw invalidInput(param, `must be a date as YYYY-MM-DD, got ${JSON.stringify(value)}`, 'config_invalid');
  }
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || !date.toISOString().startsWith(value))
    throw invalidInput(param, `is not a calendar date: ${value}`, 'config_invalid');
  return value;
}

function requirePrice(value: unknown, param: string): bigint {
  const scaled = parseField(value, 12, param, 'a price');
  if (scaled < 0n) throw invalidInput(param, `must not be negative, got ${String(value)}`, 'config_invalid');
  return scaled;
}

function requirePercent(value: unknown, param: string): Percent {
  const micro = parseField(value, PCT_SCALE_DIGITS, param, 'a percentage');
  if (micro < 0n || micro > PCT_FULL)
    throw invalidInput(param, `must be between 0 and 100, got ${String(value)}`, 'config_invalid');
  return { micro, text: formatDecimalScaled(micro, PCT_SCALE_DIGITS) };
}

function parseField(value: unknown, digits: number, param: string, what: string): bigint {
  if (typeof value !== 'string' && typeof value !== 'number')
    throw invalidInput(
      param,
      `must be ${what} (number or decimal string), got ${JSON.stringify(value)}`,
      'config_invalid',
    );
  try {
    return parseDecimalScaled(value, digits, param);
  } catch (err) {
    const reason = err instanceof PertokenError ? err.message : String(err);
    throw invalidInput(param, `must be ${what} with at most ${digits} decimals: ${reason}`, 'config_invalid');
  }
}
