import { PertokenError } from '../errors.js';

/**
 * Exact money. Amounts are bigint nano-USD (1e-9 USD); decimals from config, JSON or the price
 * data become scaled bigints through their decimal text, never through float arithmetic.
 */
export const NANO_PER_USD = 1_000_000_000n;

const USD_PATTERN = /^(-)?(\d+)(?:\.(\d{1,9}))?$/;
const DECIMAL_PATTERN = /^([+-])?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** nano-USD -> "12.345678901": always 9 decimals, a leading "-" for negatives. */
export function formatUsd(nano: bigint): string {
  const negative = nano < 0n;
  const abs = negative ? -nano : nano;
  const whole = abs / NANO_PER_USD;
  const fraction = (abs % NANO_PER_USD).toString().padStart(9, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/**
 * "12.345678901" -> nano-USD. Accepts an optional "-", digits, and at most 9 decimals. Rejects
 * numbers (a float has already lost the exact value), exponents, blanks and anything else.
 */
export function parseUsd(value: string): bigint {
  if (typeof value !== 'string') {
    throw new PertokenError('invalid_request', `USD amount must be a decimal string, got ${describe(value)}`);
  }
  const match = USD_PATTERN.exec(value);
  if (!match) {
    throw new PertokenError(
      'invalid_request',
      `invalid USD amount ${JSON.stringify(value)}: expected a decimal string with at most 9 decimals`,
    );
  }
  const [, sign, whole = '0', fraction = ''] = match;
  const nano = BigInt(whole) * NANO_PER_USD + BigInt(fraction.padEnd(9, '0'));
  return sign ? -nano : nano;
}

/** n / d rounded to the nearest integer, ties to even (banker's rounding); exact for any sign. */
export function divRoundHalfEven(n: bigint, d: bigint): bigint {
  if (d === 0n) throw new PertokenError('internal', 'division by zero in money arithmetic');
  const negative = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  let q = an / ad;
  const twiceRemainder = (an % ad) * 2n;
  if (twiceRemainder > ad || (twiceRemainder === ad && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

export interface ParseDecimalOptions {
  /**
   * What to do with digits beyond `scaleDigits`: `reject` (default; config and API input) or
   * `half-even` (bundled price data, where a few values carry float noise such as
   * 0.18000000000000002).
   */
  excess?: 'reject' | 'half-even';
}

/**
 * An exact decimal (string, or a number read through its shortest round-trip text, so 0.15 is
 * "0.15" and 1e-7 is "1e-7") -> bigint × 10^scaleDigits. `parseDecimalScaled("2.5", 12)` is
 * 2_500_000_000_000n.
 */
export function parseDecimalScaled(
  value: string | number,
  scaleDigits: number,
  options: ParseDecimalOptions = {},
): bigint {
  if (!Number.isSafeInteger(scaleDigits) || scaleDigits < 0) {
    throw new PertokenError('internal', `scaleDigits must be a non-negative integer, got ${scaleDigits}`);
  }
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new PertokenError('invalid_request', `not a finite decimal: ${value}`);
    text = String(value);
  } else if (typeof value === 'string') {
    text = value;
  } else {
    throw new PertokenError('invalid_request', `expected a decimal string or number, got ${describe(value)}`);
  }
  const match = DECIMAL_PATTERN.exec(text);
  if (!match) throw new PertokenError('invalid_request', `not a decimal: ${JSON.stringify(text)}`);
  const [, sign, whole = '0', fraction = '', exponentText = '0'] = match;
  const exponent = Number(exponentText);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 1000) {
    throw new PertokenError('invalid_request', `decimal exponent out of range: ${JSON.stringify(text)}`);
  }
  // value = digits × 10^(exponent − fraction.length); scaled = digits × 10^shift.
  const digits = BigInt(whole + fraction);
  const shift = scaleDigits + exponent - fraction.length;
  let scaled: bigint;
  if (shift >= 0) {
    scaled = digits * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    if (digits % divisor !== 0n && (options.excess ?? 'reject') === 'reject') {
      throw new PertokenError('invalid_request', `${JSON.stringify(text)} has more than ${scaleDigits} decimals`);
    }
    scaled = divRoundHalfEven(digits, divisor);
  }
  return sign === '-' ? -scaled : scaled;
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

function describe(value: unknown): string {
  if (typeof value === 'number') return `the number ${String(value)}`;
  if (value === null) return 'null';
  return typeof value;
}
