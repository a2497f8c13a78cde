/**
 * Why a reconciled row differs: the first check that holds names the row's code, in this order
 * (earlier checks are the more specific evidence; each later one assumes the earlier failed):
 *
 *  1. match               the gap is within the threshold (USD, or tokens when no cost was imported)
 *  2. billing_only        the bill's account is mapped to no tenant (billing_accounts)
 *  3. credit              the key carries Credit lines and, without them, the rest is within threshold
 *  4. unpriced            metered events without a price: the metered cost is unknown, not low
 *  5. estimated_usage     metered tokens include gateway estimates (no provider usage came back)
 *  6. day_boundary        the same key on the day before or after has the opposite gap (within threshold
 *                         of the pair's metered cost): usage near midnight landed on the provider's other day
 *  7. bypass              the bill shows more tokens than the gateway saw (or billed cost with no metered tokens)
 *  8. batch_discount      billed lines are batch and billed ≈ 50 % of metered
 *  9. negotiated_discount the same % below list on ≥ 3 rows over ≥ 2 model × bucket of one provider
 * 10. price_mismatch      tokens agree, cost does not: the price book's rate is not the billed rate
 * 11. unexplained
 *
 * "Within threshold" is |delta| ≤ threshold % of the metered side (exactly, in bigint); with a zero
 * metered side only a zero delta is within.
 */
import { formatDecimalScaled, formatUsd, mulDivHalfEven } from '../../money.js';
import { OVERRIDE_PRICE_FIELDS, type PriceBook } from '../../pricing/index.js';
import { DAY_MS, dayOf, keyId, type Cell } from './sides.js';

export const EXPLANATION_CODES = [
  'match',
  'bypass',
  'price_mismatch',
  'batch_discount',
  'negotiated_discount',
  'credit',
  'day_boundary',
  'estimated_usage',
  'unpriced',
  'billing_only',
  'unexplained',
] as const;
export type ExplanationCode = (typeof EXPLANATION_CODES)[number];

export interface Explanation {
  code: ExplanationCode;
  /** The evidence, in words a person can act on. */
  detail: string;
  [field: string]: unknown;
}

/** Percent × 1e6: 0.5 % is 500_000n. */
export type MicroPct = bigint;
const MICRO_PCT_FULL = 100_000_000n;

/** |delta| ≤ threshold % of |base|; a zero base admits only a zero delta. */
export function within(delta: bigint, base: bigint, threshold: MicroPct): boolean {
  return abs(delta) * MICRO_PCT_FULL <= threshold * abs(base);
}

export function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** The gap the row is judged on: USD when the bill's cost is known, tokens otherwise. */
export function gapOf(c: Cell): { delta: bigint; base: bigint; basis: 'usd' | 'tokens' } | null {
  if (c.billedNano !== null) return { delta: c.billedNano - c.meteredNano, base: c.meteredNano, basis: 'usd' };
  if (c.billedTokens !== null)
    return { delta: c.billedTokens - c.meteredTokens, base: c.meteredTokens, basis: 'tokens' };
  return null;
}

export function isGap(c: Cell, threshold: MicroPct): boolean {
  const g = gapOf(c);
  return g !== null && !within(g.delta, g.base, threshold);
}

export interface ExplainContext {
  threshold: MicroPct;
  book: PriceBook;
  /** Every cell by keyId, for the neighbouring days. */
  byKey: Map<string, Cell>;
  /** keyIds of the cells a provider-wide discount explains, with that discount. */
  negotiated: Map<string, { pct: string; rows: number; provider: string }>;
}

export function explain(c: Cell, ctx: ExplainContext): Explanation {
  const t = ctx.threshold;
  const g = gapOf(c);
  const usd = (n: bigint | null): string => (n === null ? 'unknown' : `${n < 0n ? '-' : ''}$${formatUsd(abs(n))}`);
  const sides = `metered ${c.meteredTokens} tokens ${usd(c.meteredNano)}, billed ${c.billedTokens ?? 'unknown'} tokens ${usd(c.billedNano)}`;
  const k = c.key;
  const what = `${k.provider}/${k.model ?? '(no model)'}${k.bucket ? ` ${k.bucket}` : ''} on ${k.day}`;
  const note = c.modelNote ? ` (model ${c.modelNote})` : '';

  if (g === null || within(g.delta, g.base, t))
    return { code: 'match', detail: `${sides}: within ${pctText(t)} %${note}`, basis: g?.basis ?? null };

  if (k.tenant === null) {
    const field = accountField(k.provider);
    const accounts = [...c.accounts].sort();
    return {
      code: 'billing_only',
      detail:
        `${usd(c.billedNano)} billed to ${k.provider} account ${accounts.join(', ')} that no billing_accounts entry maps: ` +
        `add ${accounts.map((a) => `{ provider: ${k.provider}, ${field}: ${a}, tenant: …, project: … }`).join(', ')} ` +
        `and import the bill again`,
      accounts,
    };
  }

  if (
    c.creditNano !== 0n &&
    c.billedNano !== null &&
    within(c.billedNano - c.creditNano - c.meteredNano, c.meteredNano, t)
  )
    return {
      code: 'credit',
      detail:
        `the bill carries a credit of ${usd(c.creditNano)} (${[...c.descriptions].join('; ') || 'no description'}): ` +
        `record it with \`pertoken adjust --tenant ${k.tenant} --amount ${formatUsd(c.creditNano)} --time ${k.day} ` +
        `--provider ${k.provider} --reason "provider credit"\``,
      credit_usd: formatUsd(c.creditNano),
    };

  if (c.unpriced > 0)
    return {
      code: 'unpriced',
      detail:
        `${c.unpriced} of ${c.requests} metered requests of ${k.provider}/${k.model} have no price, so the metered cost ` +
        `is unknown, not low: add a \`prices:\` override for it, then \`pertoken reprice --provider ${k.provider} ` +
        `--model ${k.model} --from ${k.day} --to ${nextDay(k.day)}\``,
      unpriced_requests: c.unpriced,
    };

  if (c.estimated > 0)
    return {
      code: 'estimated_usage',
      detail:
        `${c.estimated} of ${c.requests} metered requests were estimated by the gateway (the provider returned no usage); ` +
        `the bill's tokens are the truth. ${sides}`,
      estimated_requests: c.estimated,
    };

  const paired = dayBoundaryPair(c, g.delta, ctx);
  if (paired !== null)
    return {
      code: 'day_boundary',
      detail:
        `gap of ${signed(g, g.delta)} on ${k.day} is offset by ${signed(g, paired.delta)} on ${paired.day} for ${what.replace(/ on .*/, '')}: ` +
        `usage near midnight counted on the provider's other day; nothing to correct`,
      paired_day: paired.day,
    };

  const bypassTokens =
    c.billedTokens !== null &&
    !within(c.billedTokens - c.meteredTokens, c.meteredTokens, t) &&
    c.billedTokens > c.meteredTokens
      ? c.billedTokens - c.meteredTokens
      : null;
  if (bypassTokens !== null || (c.meteredTokens === 0n && c.billedTokens === null && g.delta > 0n))
    return {
      code: 'bypass',
      detail:
        `the bill shows ${bypassTokens === null ? `${usd(c.billedNano)} with no metered tokens` : `${bypassTokens} tokens more than the gateway metered`} ` +
        `for ${what} (account ${[...c.accounts].sort().join(', ')}): calls made with the provider's key outside pertoken`,
      unseen_tokens: bypassTokens === null ? null : Number(bypassTokens),
    };

  if (c.batch && c.billedNano !== null && within(2n * c.billedNano - c.meteredNano, c.meteredNano, t))
    return {
      code: 'batch_discount',
      detail:
        `billed at the batch rate (${usd(c.billedNano)} ≈ 50 % of metered ${usd(c.meteredNano)}): the gateway priced ` +
        `these as synchronous calls; a \`prices:\` override with \`batch_discount_pct: 50\` prices batch events right`,
    };

  const negotiated = ctx.negotiated.get(keyId(k));
  if (negotiated)
    return {
      code: 'negotiated_discount',
      detail:
        `billed ${negotiated.pct} % below list on ${negotiated.rows} ${negotiated.provider} rows: add ` +
        `\`{ provider: ${negotiated.provider}, model: "*", from: ${k.day}, discount_pct: ${negotiated.pct} }\` to prices:`,
      discount_pct: negotiated.pct,
    };

  if (tokensAgree(c, t) && c.billedTokens !== null && c.billedNano !== null) {
    const mismatch = priceMismatch(c, ctx.book);
    return { code: 'price_mismatch', detail: `${mismatch.detail}${note}`, ...mismatch.fields };
  }

  return {
    code: 'unexplained',
    detail:
      `${sides} for ${what}${note}: no known cause; compare the provider's line items for this day ` +
      `with \`pertoken report --from ${k.day} --to ${nextDay(k.day)}\``,
  };
}

/** Tokens known on both sides, non-zero, and within the threshold of each other. */
export function tokensAgree(c: Cell, t: MicroPct): boolean {
  return (
    c.billedTokens !== null && c.meteredTokens > 0n && within(c.billedTokens - c.meteredTokens, c.meteredTokens, t)
  );
}

function dayBoundaryPair(c: Cell, delta: bigint, ctx: ExplainContext): { day: string; delta: bigint } | null {
  const at = Date.parse(`${c.key.day}T00:00:00Z`);
  for (const ms of [at - DAY_MS, at + DAY_MS]) {
    const other = ctx.byKey.get(keyId({ ...c.key, day: dayOf(ms) }));
    if (!other) continue;
    const g = gapOf(other);
    if (g === null || g.delta === 0n || g.delta < 0n === delta < 0n) continue;
    const base = gapOf(c)?.basis === 'usd' ? c.meteredNano + other.meteredNano : c.meteredTokens + other.meteredTokens;
    if (within(delta + g.delta, base, ctx.threshold)) return { day: other.key.day, delta: g.delta };
  }
  return null;
}

/** Unit prices of both sides per 1M tokens (per unit for per-unit buckets) and the override that closes the gap. */
function priceMismatch(c: Cell, book: PriceBook): { detail: string; fields: Record<string, unknown> } {
  const k = c.key;
  const tokens = c.meteredTokens;
  const rates = k.model === null ? null : book.rates(k.provider, k.model, new Date(`${k.day}T00:00:00Z`));
  const rate = rates?.rates.find((r) => r.bucket === k.bucket);
  const perUnit = rate?.per === 'unit';
  const scale = perUnit ? 1n : 1_000_000n;
  // nano-USD per 1M tokens, × 1e3 to keep the 1e-12 precision of a price
  const unit = (nano: bigint, n: bigint): string => formatDecimalScaled(mulDivHalfEven(nano, scale * 1000n, n), 12);
  const metered = unit(c.meteredNano, tokens);
  const billed = unit(c.billedNano ?? 0n, c.billedTokens ?? tokens);
  const per = perUnit ? 'unit' : '1M tokens';
  const override: Record<string, string> = { provider: k.provider, model: k.model ?? '*', from: k.day };
  const fields = OVERRIDE_PRICE_FIELDS as readonly string[];
  // An override with a price replaces the model's whole list, so the other buckets keep their rates.
  for (const r of rates?.rates ?? [])
    if (fields.includes(r.bucket)) override[r.bucket] = formatDecimalScaled(r.scaled, 12);
  const closable = k.bucket !== null && fields.includes(k.bucket);
  if (closable && k.bucket !== null) override[k.bucket] = billed;
  const yaml = `{ ${Object.entries(override)
    .map(([f, v]) => `${f}: ${v}`)
    .join(', ')} }`;
  return {
    detail:
      `tokens agree (${c.meteredTokens} metered, ${c.billedTokens} billed) but the price does not: metered ` +
      `$${metered} per ${per}, billed $${billed} per ${per}. ` +
      (closable
        ? `prices: - ${yaml} closes it (then \`pertoken reprice --provider ${k.provider} --model ${k.model} --from ${k.day} --to ${nextDay(k.day)}\`)`
        : `no prices: field prices the ${k.bucket ?? 'cost-only'} line; record the difference with \`pertoken adjust\``),
    fields: {
      metered_usd_per_unit: metered,
      billed_usd_per_unit: billed,
      per,
      ...(closable ? { override } : {}),
    },
  };
}

function accountField(provider: string): string {
  if (provider === 'openai') return 'project_id';
  if (provider === 'anthropic') return 'workspace_id';
  return 'account_id';
}

function signed(g: { basis: 'usd' | 'tokens' }, delta: bigint): string {
  const sign = delta < 0n ? '−' : '+';
  return g.basis === 'usd' ? `${sign}$${formatUsd(abs(delta))}` : `${sign}${abs(delta)} tokens`;
}

export function pctText(t: MicroPct): string {
  return formatDecimalScaled(t, 6);
}

export function nextDay(day: string): string {
  return dayOf(Date.parse(`${day}T00:00:00Z`) + DAY_MS);
}
