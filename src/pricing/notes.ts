import { formatDecimalScaled } from '../money.js';
import type { Bucket } from '../usage/index.js';
import type { Effective } from './effective.js';
import { constraintText, priceVariants } from './genai.js';
import { overridesFor, type CompiledOverride } from './overrides.js';
import { sheetFromGenai, type RateSheet } from './sheet.js';

/** USD per 1M tokens (or per unit) as exact text: "2.5", "0.0375". */
export function rateText(scaled: bigint): string {
  return formatDecimalScaled(scaled, 12);
}

/**
 * Human notes on what shapes a model's price beyond its flat rates: tiers, daily windows, dated
 * changes, derived rates and operator overrides. Shown by `pertoken prices` and carried in
 * EffectiveRates.notes.
 */
export function describeEffective(
  effective: Effective,
  overrides: readonly CompiledOverride[],
  provider: string,
  at: Date,
): string[] {
  const notes: string[] = [];
  if (Object.keys(effective.sheet).length === 0) {
    // genai-prices writes {} for models included in a subscription (GitHub Copilot); "free" and
    // "unknown" look alike there, so events with tokens stay unpriced until an override says 0.
    notes.push(
      'no prices in this entry: events with tokens are unpriced (an override with input: 0, output: 0 makes them free)',
    );
  }
  notes.push(...tierNotes(effective.sheet));
  if (effective.sheet.cache_write_1h?.derived) {
    notes.push('cache_write_1h is not in the data: priced at 2x input (Anthropic 1h cache-write rule)');
  }
  if (effective.catalog) {
    const variants = priceVariants(effective.catalog.entry.model);
    if (variants.length > 1) {
      variants.forEach((variant, i) => {
        const selected = i === effective.catalog?.variantIndex ? ' (in effect)' : '';
        notes.push(`${constraintText(variant.constraint)}: ${summary(sheetFromGenai(variant.prices))}${selected}`);
      });
    }
  }
  const inEffect = new Set(effective.inEffect.map((o) => o.index));
  for (const o of overridesFor(overrides, provider, effective.names)) {
    const what = [
      o.sheet ? 'sets prices' : null,
      o.discount ? `discount ${o.discount.text}%` : null,
      o.batchDiscount ? `batch discount ${o.batchDiscount.text}%` : null,
    ]
      .filter((s): s is string => s !== null)
      .join(', ');
    const status = inEffect.has(o.index)
      ? o.index === effective.inEffect[0]?.index
        ? 'in effect'
        : 'in effect, superseded'
      : `not in effect on ${at.toISOString().slice(0, 10)}`;
    notes.push(
      `override prices[${o.index}] ${o.model} from ${o.from}${o.to ? ` to ${o.to}` : ''}: ${what} (${status})`,
    );
  }
  return notes;
}

function tierNotes(sheet: RateSheet): string[] {
  const byStart = new Map<number, string[]>();
  const seen = new Set<object>();
  for (const [bucket, spec] of Object.entries(sheet) as [Bucket, NonNullable<RateSheet[Bucket]>][]) {
    // Fallbacks share their source's spec (reasoning -> output): list each rate once.
    if (seen.has(spec)) continue;
    seen.add(spec);
    for (const tier of spec.tiers) {
      const list = byStart.get(tier.start) ?? [];
      list.push(`${bucket} ${rateText(tier.scaled)}`);
      byStart.set(tier.start, list);
    }
  }
  return [...byStart.entries()]
    .sort(([a], [b]) => a - b)
    .map(
      ([start, parts]) =>
        `above ${start} input tokens per request (cached included), every token is priced at: ${parts.join(', ')}`,
    );
}

function summary(sheet: RateSheet): string {
  const parts: string[] = [];
  for (const bucket of ['input', 'cache_read', 'output'] as const) {
    const spec = sheet[bucket];
    if (spec) parts.push(`${bucket} ${rateText(spec.base)}${spec.tiers.length > 0 ? ' (tiered)' : ''}`);
  }
  return parts.length > 0 ? parts.join(', ') : 'no token prices';
}
