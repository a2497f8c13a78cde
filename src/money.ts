/**
 * The one exact-money module of pertoken. Amounts are bigint nano-USD (1e-9 USD); JSON carries
 * them as 9-decimal strings (`formatUsd`). Decimals from config, JSON, CLI flags, price data or
 * imported bills become bigints through their decimal text, never through float arithmetic.
 *
 * Representation: an exact decimal is `Decimal` { units, scale } = units × 10^-scale, the value
 * exactly as written ("2.990" is 2990 × 10^-3). A quantity whose scale the code fixes (nano-USD is
 * scale 9, unit prices scale 12, percentages scale 6) is a plain bigint "scaled" by that many
 * digits; `parseDecimalScaled` is `parseDecimal` brought to that scale. One grammar, one parser.
 *
 * Rounding: every division of money rounds half-even (ties go to the even neighbour), which is
 * symmetric in sign: -2.5 -> -2, -3.5 -> -4, exactly the mirror of 2.5 -> 2, 3.5 -> 4. The only
 * other rounding is `divCeil` (toward +infinity), for reservations that may only overestimate.
 *
 * It is a leaf (it imports only `errors.ts`), like `glob.ts` and `ids.ts`: pricing, the ledger,
 * governance, metrics and selfhosted all need money, and none of them should have to load the
 * price book to print an amount. `pricing/index.ts` re-exports the names its importers use.
 */
import { invalidInput, PertokenError } from './errors.js';

export const NANO_PER_USD = 1_000_000_000n;
/** 1 cent = 1e-2 USD = 1e7 nano-USD. */
export const NANO_PER_CENT = 10_000_000n;

/** An exact decimal: units × 10^-scale, scale ≥ 0. */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

export interface DecimalOptions {
  /** Refuse values below zero ("-0" is zero and passes): prices, rates, weights. */
  nonNegative?: boolean;
}

export interface ParseDecimalOptions extends DecimalOptions {
  /**
   * What to do with digits beyond the target scale: `reject` (default; config, API and CLI input)
   * or `half-even` (bundled price data, where a few values carry float noise such as
   * 0.18000000000000002, and imported bills quoting more decimals than a nano-USD).
   */
  excess?: 'reject' | 'half-even';
}

/** The JSON money format: an optional "-", digits, at most 9 decimals; nothing else. */
const USD_PATTERN = /^(-)?(\d+)(?:\.(\d{1,9}))?$/;
/** Any exact decimal: sign, digits, fraction, exponent ("-1.5", "+2", "1.5e-7", "1E3"). */
const DECIMAL_PATTERN = /^([+-])?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
/** Bounds 10^exponent: "1e999999999" must be refused, not computed. */
const MAX_EXPONENT = 1000;

// ---------------------------------------------------------------------------------------------
// Parsing

/**
 * An exact decimal from text, or from a number through its shortest round-trip text (0.15 is
 * "0.15", 1e-7 is "1e-7"; a JSON number means what its digits say). Accepts a sign, a fraction
 * and an exponent; refuses blanks, "1.", ".5", "0x10", NaN and Infinity, naming `param`.
 */
export function parseDecimal(value: string | number, param: string, options: DecimalOptions = {}): Decimal {
  const text = decimalText(value, param);
  const match = DECIMAL_PATTERN.exec(text);
  if (!match) throw invalidInput(param, `not a decimal: ${JSON.stringify(text)}`);
  const [, sign, whole = '0', fraction = '', exponentText = '0'] = match;
  const exponent = Number(exponentText);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > MAX_EXPONENT) {
    throw invalidInput(param, `decimal exponent out of range: ${JSON.stringify(text)}`);
  }
  // value = digits × 10^(exponent − fraction.length)
  const digits = BigInt(whole + fraction);
  const scale = fraction.length - exponent;
  const magnitude = scale >= 0 ? digits : digits * 10n ** BigInt(-scale);
  const units = sign === '-' ? -magnitude : magnitude;
  if (options.nonNegative && units < 0n) {
    throw invalidInput(param, `expected a non-negative decimal, got ${JSON.stringify(text)}`);
  }
  return { units, scale: Math.max(scale, 0) };
}

/**
 * An exact decimal as a bigint × 10^scaleDigits: `parseDecimalScaled("2.5", 12, "price")` is
 * 2_500_000_000_000n. Digits beyond the scale are refused unless `excess: 'half-even'`.
 */
export function parseDecimalScaled(
  value: string | number,
  scaleDigits: number,
  param: string,
  options: ParseDecimalOptions = {},
): bigint {
  if (!Number.isSafeInteger(scaleDigits) || scaleDigits < 0) {
    throw new PertokenError('internal', `scaleDigits must be a non-negative integer, got ${scaleDigits}`);
  }
  const { units, scale } = parseDecimal(value, param, options);
  if (scale <= scaleDigits) return units * 10n ** BigInt(scaleDigits - scale);
  const divisor = 10n ** BigInt(scale - scaleDigits);
  if (units % divisor !== 0n && (options.excess ?? 'reject') === 'reject') {
    throw invalidInput(param, `${JSON.stringify(String(value))} has more than ${scaleDigits} decimals`);
  }
  return divRoundHalfEven(units, divisor);
}

/**
 * The JSON money format -> nano-USD: "12.345678901" is 12_345_678_901n. Accepts an optional "-",
 * digits and at most 9 decimals. Refuses numbers (a float has already lost the exact amount),
 * exponents, "+", blanks and anything else. `param` names the field in the error; a caller that
 * rewraps the error under its own name (a CLI flag) may leave it out.
 */
export function parseUsd(value: string, param?: string): bigint {
  const fail = (message: string): PertokenError =>
    param === undefined ? new PertokenError('invalid_request', message) : invalidInput(param, message);
  if (typeof value !== 'string') throw fail(`USD amount must be a decimal string, got ${describe(value)}`);
  const match = USD_PATTERN.exec(value);
  if (!match) {
    throw fail(`invalid USD amount ${JSON.stringify(value)}: expected a decimal string with at most 9 decimals`);
  }
  const [, sign, whole = '0', fraction = ''] = match;
  const nano = BigInt(whole) * NANO_PER_USD + BigInt(fraction.padEnd(9, '0'));
  return sign ? -nano : nano;
}

/**
 * A USD amount from outside pertoken's own format (an imported bill: a decimal string of any
 * length, or a JSON number read through its shortest text) -> nano-USD. More than 9 decimals are
 * refused unless `excess: 'half-even'`.
 */
export function usdToNano(value: string | number, param: string, options: ParseDecimalOptions = {}): bigint {
  return parseDecimalScaled(value, 9, param, options);
}

/** An amount in cents ("123.4567", or a JSON number) -> nano-USD exactly: 1 cent = 1e7 nano. */
export function centsToNano(value: string | number, param: string, options: ParseDecimalOptions = {}): bigint {
  return parseDecimalScaled(value, 7, param, options);
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

/** n / d rounded to the nearest integer, ties to even (banker's rounding); exact for any signs. */
export function divRoundHalfEven(n: bigint, d: bigint): bigint {
  if (d === 0n) throw new PertokenError('internal', 'division by zero in money arithmetic');
  // On magnitudes, then signed: bigint `/` truncates toward zero and `%` takes the dividend's
  // sign, so comparing a negative remainder with the divisor would round negatives wrongly.
  const negative = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  let q = an / ad;
  const twiceRemainder = (an % ad) * 2n;
  if (twiceRemainder > ad || (twiceRemainder === ad && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/** a × b / d rounded half-even once: a rate × a quantity / a scale, with no intermediate rounding. */
export function mulDivHalfEven(a: bigint, b: bigint, d: bigint): bigint {
  return divRoundHalfEven(a * b, d);
}

/** n / d rounded toward +infinity, for any signs: amounts that may only overestimate (reservations). */
export function divCeil(n: bigint, d: bigint): bigint {
  if (d === 0n) throw new PertokenError('internal', 'division by zero in money arithmetic');
  const q = n / d;
  // Truncation already rounded up when the exact quotient is negative; step up only when positive.
  return n % d !== 0n && n < 0n === d < 0n ? q + 1n : q;
}

/**
 * Splits `amount` over `weights` in proportion, so that the parts sum to `amount` exactly
 * (largest-remainder method): each part is floor(amount × w / Σw), and the units left over go one
 * each to the parts with the largest remainders, ties to the lower index, so the split is
 * deterministic. A negative amount (a credit) is split as its magnitude and negated, the mirror
 * of the positive split. A zero weight gets nothing. Weights must be non-negative and not all
 * zero: what to do when there is nothing to weigh by is the caller's decision, not a rounding one.
 */
export function allocate(amount: bigint, weights: readonly bigint[]): bigint[] {
  let total = 0n;
  for (const w of weights) {
    if (w < 0n) throw new PertokenError('internal', `allocation weights must be non-negative, got ${w}`);
    total += w;
  }
  if (total === 0n) throw new PertokenError('internal', 'allocation needs at least one positive weight');
  const magnitude = amount < 0n ? -amount : amount;
  const parts = weights.map((w) => (magnitude * w) / total);
  const remainders = weights.map((w, index) => ({ index, remainder: (magnitude * w) % total }));
  let left = magnitude - parts.reduce((sum, p) => sum + p, 0n);
  // left < weights.length, and Σ remainders = left × total with each remainder < total, so the
  // first `left` of this order all have a positive remainder (zero weights are never topped up).
  remainders.sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const { index } of remainders) {
    if (left === 0n) break;
    parts[index] = (parts[index] ?? 0n) + 1n;
    left -= 1n;
  }
  return amount < 0n ? parts.map((p) => -p) : parts;
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** nano-USD -> "12.345678901": always 9 decimals, a leading "-" for negatives (the JSON format). */
export function formatUsd(nano: bigint): string {
  const negative = nano < 0n;
  const abs = negative ? -nano : nano;
  const whole = abs / NANO_PER_USD;
  const fraction = (abs % NANO_PER_USD).toString().padStart(9, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** bigint × 10^scaleDigits -> shortest exact decimal text ("2.5", "0.000000000001", "-6"). */
export function formatDecimalScaled(scaled: bigint, scaleDigits: number): string {
  const negative = scaled < 0n;
  const abs = negative ? -scaled : scaled;
  const unit = 10n ** BigInt(scaleDigits);
  const whole = abs / unit;
  const fraction = scaleDigits === 0 ? '' : (abs % unit).toString().padStart(scaleDigits, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** A Decimal -> its shortest exact text: the canonical form of a parsed flag ("1e3" -> "1000"). */
export function formatDecimal(value: Decimal): string {
  return formatDecimalScaled(value.units, value.scale);
}

function decimalText(value: unknown, param: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalidInput(param, `not a finite decimal: ${value}`);
    return String(value);
  }
  throw invalidInput(param, `expected a decimal string or number, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'number') return `the number ${String(value)}`;
  if (value === null) return 'null';
  return typeof value;
}
