/**
 * USD-per-1M-token arithmetic. Estimates (floats by nature: they come from a model) are printed as
 * 9-decimal strings like every amount in pertoken's JSON; pool prices, which the price book will
 * consume, are computed exactly on decimal strings with bigint and rounded half-even once.
 */
import { PertokenError } from '../errors.js';

const NANO = 1_000_000_000n;

/** USD per 1M tokens of GPU time: $/GPU-h × GPUs × share of time / 3600 / tokens per second × 1e6. */
export function usdPerMillionTokensValue(
  priceUsdPerHour: string,
  gpus: number,
  tokensPerS: number,
  share: number,
): number {
  if (!(tokensPerS > 0)) return Number.POSITIVE_INFINITY;
  return (Number(priceUsdPerHour) * gpus * share * 1e6) / 3600 / tokensPerS;
}

export function formatUsd(value: number): string | null {
  return Number.isFinite(value) ? value.toFixed(9) : null;
}

export function usdPerMillionTokens(
  priceUsdPerHour: string,
  gpus: number,
  tokensPerS: number,
  share: number,
): string | null {
  return formatUsd(usdPerMillionTokensValue(priceUsdPerHour, gpus, tokensPerS, share));
}

/** An exact non-negative decimal as numerator / 10^scale. */
export interface Decimal {
  units: bigint;
  scale: number;
}

const DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;

export function parseDecimal(text: string, param: string): Decimal {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m)
    throw new PertokenError('invalid_request', `expected a non-negative decimal number, got "${text}"`, { param });
  const frac = m[2] ?? '';
  return { units: BigInt((m[1] ?? '0') + frac), scale: frac.length };
}

/** A finite non-negative number as an exact decimal (its shortest round-trip representation). */
export function decimalOfNumber(value: number, param: string): Decimal {
  if (!Number.isFinite(value) || value < 0) {
    throw new PertokenError('invalid_request', `expected a non-negative number, got ${value}`, { param });
  }
  const text = value.toString();
  if (/e/i.test(text)) return parseDecimal(value.toFixed(20).replace(/0+$/, '').replace(/\.$/, ''), param);
  return parseDecimal(text, param);
}

/** numerator / denominator rounded half-even to an integer. */
export function divideHalfEven(numerator: bigint, denominator: bigint): bigint {
  const q = numerator / denominator;
  const r = numerator % denominator;
  const twice = 2n * r;
  if (twice > denominator || (twice === denominator && q % 2n === 1n)) return q + 1n;
  return q;
}

/** nano-USD as a 9-decimal USD string: 1234567n -> "0.001234567". */
export function formatNano(nano: bigint): string {
  const sign = nano < 0n ? '-' : '';
  const abs = nano < 0n ? -nano : nano;
  return `${sign}${abs / NANO}.${(abs % NANO).toString().padStart(9, '0')}`;
}

/**
 * Exact USD per 1M tokens: (price/h × gpus / 3600) / (tokens/s) × 1e6, rounded half-even to the
 * nano-USD. All three operands are exact decimals, so the result does not depend on float noise.
 */
export function exactUsdPerMillion(priceUsdPerHour: Decimal, gpus: bigint, tokensPerS: Decimal): string | null {
  if (tokensPerS.units === 0n) return null;
  // price = p.units / 10^p.scale, tps = t.units / 10^t.scale
  // nano = p.units × gpus × 1e6 × 1e9 × 10^t.scale / (3600 × t.units × 10^p.scale)
  const numerator = priceUsdPerHour.units * gpus * 1_000_000n * NANO * 10n ** BigInt(tokensPerS.scale);
  const denominator = 3600n * tokensPerS.units * 10n ** BigInt(priceUsdPerHour.scale);
  return formatNano(divideHalfEven(numerator, denominator));
}
