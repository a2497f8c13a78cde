/**
 * What a tenant is charged. Without a plan: showback, charge = cost. With one, per line:
 *   - a rate-card price for the line's model (glob) and bucket: tokens × USD per 1M (resale);
 *   - else markup_pct: cost × (1 + markup / 100);
 *   - else the cost.
 * Then `included_usd` is consumed line by line in statement order, and `minimum_usd` tops the
 * charge up with a `minimum` line. Every product is rounded half-even once, per line.
 */
import type { PlanConfig } from '../config/index.js';
import { globMatch } from '../glob.js';
import { mulDivHalfEven, parseDecimalScaled, parseUsd } from '../money.js';
import type { Line } from './accounts.js';

/** Price scale of a rate card entry: USD per 1M tokens × 1e12, so a line is tokens × price / 1e9 nano-USD. */
const PRICE_DIGITS = 12;
const PER_MTOK_DIVISOR = 1_000_000_000n;
/** Markup percent with 6 decimals: charge = cost × (1e8 + pct × 1e6) / 1e8. */
const PCT_SCALE = 100_000_000n;

/** Prices `lines` under the plan in place; returns the minimum's top-up line, if the plan needs one. */
export function applyPlan(plan: PlanConfig | undefined, lines: readonly Line[]): Line | null {
  const markup = plan?.markup_pct === undefined ? null : parseDecimalScaled(plan.markup_pct, 6, 'plans.markup_pct');
  for (const line of lines) {
    line.includedNano = 0n;
    const card = plan ? cardPrice(plan, line) : null;
    if (card !== null) line.chargeNano = mulDivHalfEven(BigInt(line.tokens), card, PER_MTOK_DIVISOR);
    else if (markup !== null) line.chargeNano = mulDivHalfEven(line.costNano, PCT_SCALE + markup, PCT_SCALE);
    else line.chargeNano = line.costNano;
  }
  if (!plan) return null;
  if (plan.included_usd !== undefined) {
    let left = parseUsd(plan.included_usd, 'plans.included_usd');
    for (const line of lines) {
      if (left === 0n) break;
      if (line.chargeNano <= 0n) continue;
      const used = line.chargeNano < left ? line.chargeNano : left;
      line.includedNano = used;
      line.chargeNano -= used;
      left -= used;
    }
  }
  if (plan.minimum_usd !== undefined) {
    const minimum = parseUsd(plan.minimum_usd, 'plans.minimum_usd');
    const charged = lines.reduce((sum, l) => sum + l.chargeNano, 0n);
    if (charged < minimum) {
      return {
        kind: 'minimum',
        project: null,
        provider: '__plan__',
        model: 'minimum',
        bucket: null,
        tokens: 0,
        costNano: 0n,
        listNano: 0n,
        chargeNano: minimum - charged,
        includedNano: 0n,
      };
    }
  }
  return null;
}

/** The rate card's price of this usage line (USD per 1M × 1e12), or null when the card is silent. */
function cardPrice(plan: PlanConfig, line: Line): bigint | null {
  if ((line.kind !== 'vendor' && line.kind !== 'selfhosted') || line.bucket === null) return null;
  for (const rate of plan.rates) {
    if (rate.provider !== undefined && rate.provider !== line.provider) continue;
    if (!globMatch(rate.model, line.model)) continue;
    const card = rate as Record<string, string | number | undefined>;
    // Reasoning is billed as output unless the card prices it (DESIGN §4).
    const price = card[line.bucket] ?? (line.bucket === 'reasoning' ? card.output : undefined);
    if (price === undefined) continue;
    return parseDecimalScaled(price, PRICE_DIGITS, `plans.rates.${line.bucket}`);
  }
  return null;
}
