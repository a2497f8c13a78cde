import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { thrownBy } from '../testing/errors.js';
import { divRoundHalfEven, formatDecimalScaled, formatUsd, parseDecimalScaled, parseUsd } from './money.js';

/** Deterministic pseudo-random bigints (LCG) so property checks replay identically. */
function* randomBigints(count: number, seed = 42n): Generator<bigint> {
  let state = seed;
  for (let i = 0; i < count; i++) {
    state = (state * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
    const magnitude = state % 10n ** BigInt(1 + (i % 24));
    yield i % 3 === 0 ? -magnitude : magnitude;
  }
}

describe('formatUsd', () => {
  it('always prints 9 decimals', () => {
    expect(formatUsd(0n)).toBe('0.000000000');
    expect(formatUsd(180_000n)).toBe('0.000180000');
    expect(formatUsd(1_000_000_000n)).toBe('1.000000000');
    expect(formatUsd(12_345_678_901n)).toBe('12.345678901');
  });

  it('signs negatives, including amounts under one dollar', () => {
    expect(formatUsd(-1n)).toBe('-0.000000001');
    expect(formatUsd(-1_500_000_000n)).toBe('-1.500000000');
  });

  it('handles amounts beyond Number precision', () => {
    expect(formatUsd(123_456_789_012_345_678_901n)).toBe('123456789012.345678901');
  });
});

describe('parseUsd', () => {
  it('reads decimal strings exactly', () => {
    expect(parseUsd('0.00018')).toBe(180_000n);
    expect(parseUsd('0')).toBe(0n);
    expect(parseUsd('-1.5')).toBe(-1_500_000_000n);
    expect(parseUsd('12.345678901')).toBe(12_345_678_901n);
    expect(parseUsd('123456789012.345678901')).toBe(123_456_789_012_345_678_901n);
  });

  it('rejects more than 9 decimals, naming the value', () => {
    const err = thrownBy(() => parseUsd('1.0000000001'));
    expect(err.code).toBe('invalid_request');
    expect(err.message).toContain('"1.0000000001"');
  });

  it.each(['NaN', '', ' 1', '1 ', '1.', '.5', '1e3', '+1', '--1', '1,5', 'Infinity', '0x10'])('rejects %j', (bad) => {
    const err = thrownBy(() => parseUsd(bad));
    expect(err.code).toBe('invalid_request');
    expect(err.message).toContain(JSON.stringify(bad));
  });

  it('rejects numbers: a float has already lost the exact amount', () => {
    const err = thrownBy(() => parseUsd(1.5 as unknown as string));
    expect(err.message).toContain('the number 1.5');
    expect(() => parseUsd(Number.NaN as unknown as string)).toThrow(/NaN/);
    expect(() => parseUsd(null as unknown as string)).toThrow(PertokenError);
  });

  it('round-trips every formatted amount (property)', () => {
    for (const nano of randomBigints(500)) expect(parseUsd(formatUsd(nano))).toBe(nano);
  });
});

describe('divRoundHalfEven', () => {
  it.each([
    [5n, 2n, 2n], // 2.5 -> 2 (even)
    [7n, 2n, 4n], // 3.5 -> 4 (even)
    [-5n, 2n, -2n],
    [-7n, 2n, -4n],
    [5n, -2n, -2n],
    [15n, 10n, 2n], // 1.5 -> 2
    [25n, 10n, 2n], // 2.5 -> 2
    [26n, 10n, 3n],
    [24n, 10n, 2n],
    [1n, 3n, 0n],
    [2n, 3n, 1n],
    [0n, 7n, 0n],
  ])('%s / %s = %s', (n, d, q) => {
    expect(divRoundHalfEven(n, d)).toBe(q);
  });

  it('never misses by more than half the divisor, ties landing even (property)', () => {
    const values = [...randomBigints(400)];
    for (let i = 0; i + 1 < values.length; i += 2) {
      const n = values[i] ?? 0n;
      const d = (values[i + 1] ?? 1n) % 100_000n || 7n;
      const q = divRoundHalfEven(n, d);
      const miss = n - q * d;
      const twice = (miss < 0n ? -miss : miss) * 2n;
      const ad = d < 0n ? -d : d;
      expect(twice <= ad).toBe(true);
      if (twice === ad) expect(q % 2n).toBe(0n);
    }
  });

  it('refuses a zero divisor', () => {
    expect(thrownBy(() => divRoundHalfEven(1n, 0n)).code).toBe('internal');
  });
});

describe('parseDecimalScaled', () => {
  it('reads numbers through their shortest text', () => {
    expect(parseDecimalScaled(0.15, 12)).toBe(150_000_000_000n);
    expect(parseDecimalScaled('2.5', 12)).toBe(2_500_000_000_000n);
    expect(parseDecimalScaled(10, 12)).toBe(10_000_000_000_000n);
    expect(parseDecimalScaled('-2.5', 1)).toBe(-25n);
  });

  it('handles exponent forms', () => {
    expect(String(1e-7)).toBe('1e-7');
    expect(parseDecimalScaled(1e-7, 12)).toBe(100_000n);
    expect(parseDecimalScaled('1.5e-7', 12)).toBe(150_000n);
    expect(parseDecimalScaled('1.5e+3', 0)).toBe(1_500n);
    expect(parseDecimalScaled(1e21, 0)).toBe(10n ** 21n);
  });

  it('rejects digits beyond the scale unless asked to round half-even', () => {
    expect(() => parseDecimalScaled('0.0000000000001', 12)).toThrow(/more than 12 decimals/);
    expect(parseDecimalScaled('1.50', 1)).toBe(15n); // trailing zeros are not excess
    expect(parseDecimalScaled('0.0000000000005', 12, { excess: 'half-even' })).toBe(0n);
    expect(parseDecimalScaled('0.0000000000015', 12, { excess: 'half-even' })).toBe(2n);
    // float noise in the bundled data: 0.18000000000000002 USD/MTok is 0.18
    expect(parseDecimalScaled(0.18000000000000002, 12, { excess: 'half-even' })).toBe(180_000_000_000n);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, 'abc', '1.2.3', '', '1e', 'e5'])('rejects %j', (bad) => {
    expect(thrownBy(() => parseDecimalScaled(bad, 12)).code).toBe('invalid_request');
  });
});

describe('formatDecimalScaled', () => {
  it('prints the shortest exact decimal', () => {
    expect(formatDecimalScaled(2_500_000_000_000n, 12)).toBe('2.5');
    expect(formatDecimalScaled(6_000_000_000_000n, 12)).toBe('6');
    expect(formatDecimalScaled(1n, 12)).toBe('0.000000000001');
    expect(formatDecimalScaled(-15n, 1)).toBe('-1.5');
    expect(formatDecimalScaled(0n, 12)).toBe('0');
    expect(formatDecimalScaled(42n, 0)).toBe('42');
  });

  it('round-trips with parseDecimalScaled (property)', () => {
    for (const n of randomBigints(300)) expect(parseDecimalScaled(formatDecimalScaled(n, 12), 12)).toBe(n);
  });
});
