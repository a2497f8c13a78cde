import { describe, expect, it } from 'vitest';
import { PertokenError } from './errors.js';
import {
  allocate,
  centsToNano,
  divCeil,
  divRoundHalfEven,
  formatDecimal,
  formatDecimalScaled,
  formatUsd,
  mulDivHalfEven,
  NANO_PER_CENT,
  NANO_PER_USD,
  parseDecimal,
  parseDecimalScaled,
  parseUsd,
  usdToNano,
} from './money.js';
import { thrownBy } from './testing/errors.js';

/** Deterministic pseudo-random bigints (LCG) so property checks replay identically. */
function* randomBigints(count: number, seed = 42n): Generator<bigint> {
  let state = seed;
  for (let i = 0; i < count; i++) {
    state = (state * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
    const magnitude = state % 10n ** BigInt(1 + (i % 24));
    yield i % 3 === 0 ? -magnitude : magnitude;
  }
}

/** Beyond Number.MAX_SAFE_INTEGER (2^53 − 1): where a float would silently lose units. */
const HUGE = 2n ** 80n + 1n;

describe('constants', () => {
  it('a dollar is 1e9 nano, a cent 1e7', () => {
    expect(NANO_PER_USD).toBe(10n ** 9n);
    expect(NANO_PER_CENT * 100n).toBe(NANO_PER_USD);
  });
});

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
    expect(formatUsd(-HUGE)).toBe('-1208925819614629.174706177');
  });
});

describe('parseUsd', () => {
  it('reads decimal strings exactly', () => {
    expect(parseUsd('0.00018')).toBe(180_000n);
    expect(parseUsd('0')).toBe(0n);
    expect(parseUsd('-0')).toBe(0n);
    expect(parseUsd('-1.5')).toBe(-1_500_000_000n);
    expect(parseUsd('12.345678901')).toBe(12_345_678_901n);
    expect(parseUsd('123456789012.345678901')).toBe(123_456_789_012_345_678_901n);
    expect(parseUsd('1208925819614629.174706177')).toBe(HUGE);
  });

  it('rejects more than 9 decimals, naming the value and the param', () => {
    const err = thrownBy(() => parseUsd('1.0000000001', 'cost_usd'));
    expect(err.code).toBe('invalid_request');
    expect(err.param).toBe('cost_usd');
    expect(err.message).toContain('"1.0000000001"');
    expect(err.toLine()).toMatch(/^error: cost_usd: invalid USD amount/);
  });

  it('leaves the param to a caller that rewraps the error', () => {
    expect(thrownBy(() => parseUsd('x')).param).toBeNull();
  });

  it.each(['NaN', '', ' 1', '1 ', '1.', '.5', '1e3', '+1', '--1', '1,5', 'Infinity', '0x10'])('rejects %j', (bad) => {
    const err = thrownBy(() => parseUsd(bad, 'amount'));
    expect(err.code).toBe('invalid_request');
    expect(err.param).toBe('amount');
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

describe('parseDecimal', () => {
  it('keeps the value exactly as written', () => {
    expect(parseDecimal('2.990', 'x')).toEqual({ units: 2990n, scale: 3 });
    expect(parseDecimal('0', 'x')).toEqual({ units: 0n, scale: 0 });
    expect(parseDecimal('-1.25', 'x')).toEqual({ units: -125n, scale: 2 });
    expect(parseDecimal('+7', 'x')).toEqual({ units: 7n, scale: 0 });
  });

  it('normalises exponents to a non-negative scale', () => {
    expect(parseDecimal('1e3', 'x')).toEqual({ units: 1000n, scale: 0 });
    expect(parseDecimal('1.5E-7', 'x')).toEqual({ units: 15n, scale: 8 });
    expect(parseDecimal('-2.5e+1', 'x')).toEqual({ units: -25n, scale: 0 });
  });

  it('reads numbers through their shortest round-trip text, without float noise', () => {
    expect(parseDecimal(0.1, 'x')).toEqual({ units: 1n, scale: 1 });
    expect(parseDecimal(1e-7, 'x')).toEqual({ units: 1n, scale: 7 });
    expect(parseDecimal(1e-21, 'x')).toEqual({ units: 1n, scale: 21 });
    expect(parseDecimal(1.5e21, 'x')).toEqual({ units: 15n * 10n ** 20n, scale: 0 });
    expect(parseDecimal(-0, 'x')).toEqual({ units: 0n, scale: 0 });
  });

  it('reads digits beyond 2^53 exactly', () => {
    expect(parseDecimal('1208925819614629174706177', 'x')).toEqual({ units: HUGE, scale: 0 });
  });

  it('refuses negatives when asked, naming the param', () => {
    const err = thrownBy(() => parseDecimal('-2', '--gpu-price', { nonNegative: true }));
    expect(err.param).toBe('--gpu-price');
    expect(err.message).toMatch(/non-negative decimal/);
    expect(parseDecimal('-0', 'x', { nonNegative: true })).toEqual({ units: 0n, scale: 0 });
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, 'abc', '1.2.3', '', ' 1', '1.', '.5', '1e', 'e5', '0x10', '1e1001'])(
    'rejects %j, naming the param',
    (bad) => {
      const err = thrownBy(() => parseDecimal(bad, 'prices[0].input'));
      expect(err.code).toBe('invalid_request');
      expect(err.param).toBe('prices[0].input');
    },
  );

  it('rejects what is neither text nor a number', () => {
    expect(thrownBy(() => parseDecimal(null as unknown as string, 'x')).message).toContain('got null');
  });
});

describe('parseDecimalScaled', () => {
  it('reads numbers through their shortest text', () => {
    expect(parseDecimalScaled(0.15, 12, 'p')).toBe(150_000_000_000n);
    expect(parseDecimalScaled('2.5', 12, 'p')).toBe(2_500_000_000_000n);
    expect(parseDecimalScaled(10, 12, 'p')).toBe(10_000_000_000_000n);
    expect(parseDecimalScaled('-2.5', 1, 'p')).toBe(-25n);
  });

  it('handles exponent forms', () => {
    expect(String(1e-7)).toBe('1e-7');
    expect(parseDecimalScaled(1e-7, 12, 'p')).toBe(100_000n);
    expect(parseDecimalScaled('1.5e-7', 12, 'p')).toBe(150_000n);
    expect(parseDecimalScaled('1.5e+3', 0, 'p')).toBe(1_500n);
    expect(parseDecimalScaled(1e21, 0, 'p')).toBe(10n ** 21n);
  });

  it('rejects digits beyond the scale, naming the param, unless asked to round half-even', () => {
    const err = thrownBy(() => parseDecimalScaled('0.0000000000001', 12, 'prices[0].input'));
    expect(err.message).toMatch(/more than 12 decimals/);
    expect(err.param).toBe('prices[0].input');
    expect(parseDecimalScaled('1.50', 1, 'p')).toBe(15n); // trailing zeros are not excess
    expect(parseDecimalScaled('0.0000000000005', 12, 'p', { excess: 'half-even' })).toBe(0n);
    expect(parseDecimalScaled('0.0000000000015', 12, 'p', { excess: 'half-even' })).toBe(2n);
    expect(parseDecimalScaled('-0.0000000000005', 12, 'p', { excess: 'half-even' })).toBe(0n);
    expect(parseDecimalScaled('-0.0000000000015', 12, 'p', { excess: 'half-even' })).toBe(-2n);
    // float noise in the bundled data: 0.18000000000000002 USD/MTok is 0.18
    expect(parseDecimalScaled(0.18000000000000002, 12, 'p', { excess: 'half-even' })).toBe(180_000_000_000n);
  });

  it('refuses a nonsensical scale as a programming error', () => {
    expect(thrownBy(() => parseDecimalScaled('1', -1, 'p')).code).toBe('internal');
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, 'abc', '1.2.3', '', '1e', 'e5'])('rejects %j', (bad) => {
    const err = thrownBy(() => parseDecimalScaled(bad, 12, 'p'));
    expect(err.code).toBe('invalid_request');
    expect(err.param).toBe('p');
  });
});

describe('usdToNano', () => {
  it('reads imported USD strings and JSON numbers exactly', () => {
    expect(usdToNano('12.345678901', 'amount')).toBe(12_345_678_901n);
    expect(usdToNano(0.1, 'amount')).toBe(100_000_000n);
    expect(usdToNano(-3, 'amount')).toBe(-3_000_000_000n);
    expect(usdToNano('1.2e-8', 'amount')).toBe(12n);
    expect(usdToNano('1208925819614629.174706177', 'amount')).toBe(HUGE);
  });

  it('refuses sub-nano digits unless told to round them half-even', () => {
    expect(thrownBy(() => usdToNano('0.0000000015', 'line_items[3].cost')).param).toBe('line_items[3].cost');
    expect(usdToNano('0.0000000015', 'c', { excess: 'half-even' })).toBe(2n);
    expect(usdToNano('0.0000000025', 'c', { excess: 'half-even' })).toBe(2n);
    expect(usdToNano('-0.0000000025', 'c', { excess: 'half-even' })).toBe(-2n);
    expect(usdToNano('-0.0000000035', 'c', { excess: 'half-even' })).toBe(-4n);
  });
});

describe('centsToNano', () => {
  it('reads cents exactly: 1 cent = 1e7 nano', () => {
    expect(centsToNano('123.4567', 'cost_cents')).toBe(1_234_567_000n);
    expect(centsToNano('1', 'cost_cents')).toBe(NANO_PER_CENT);
    expect(centsToNano('0.0000001', 'cost_cents')).toBe(1n);
    expect(centsToNano(-250, 'cost_cents')).toBe(-2_500_000_000n);
    expect(centsToNano('120892581961462917.4706177', 'cost_cents')).toBe(HUGE);
  });

  it('refuses sub-nano cents unless told to round them half-even', () => {
    const err = thrownBy(() => centsToNano('0.00000005', 'cost_cents'));
    expect(err.param).toBe('cost_cents');
    expect(err.message).toMatch(/more than 7 decimals/);
    expect(centsToNano('0.00000005', 'c', { excess: 'half-even' })).toBe(0n); // 0.5 nano -> 0
    expect(centsToNano('0.00000015', 'c', { excess: 'half-even' })).toBe(2n); // 1.5 nano -> 2
    expect(centsToNano('-0.00000015', 'c', { excess: 'half-even' })).toBe(-2n);
  });

  it.each(['', '12,34', '$1', '1 ', 'cents'])('rejects %j, naming the param', (bad) => {
    expect(thrownBy(() => centsToNano(bad, 'cost_cents')).param).toBe('cost_cents');
  });
});

describe('divRoundHalfEven', () => {
  it.each([
    [5n, 2n, 2n], // 2.5 -> 2 (even)
    [7n, 2n, 4n], // 3.5 -> 4 (even)
    [-5n, 2n, -2n], // -2.5 -> -2: ties go to even on both sides of zero
    [-7n, 2n, -4n], // -3.5 -> -4
    [5n, -2n, -2n],
    [7n, -2n, -4n],
    [-5n, -2n, 2n],
    [-7n, -2n, 4n],
    [15n, 10n, 2n], // 1.5 -> 2
    [25n, 10n, 2n], // 2.5 -> 2
    [26n, 10n, 3n],
    [24n, 10n, 2n],
    [-26n, 10n, -3n],
    [-24n, 10n, -2n],
    [11n, 4n, 3n], // 2.75 -> 3
    [1n, 3n, 0n],
    [2n, 3n, 1n],
    [-2n, 3n, -1n],
    [0n, 7n, 0n],
    [HUGE * 2n + 1n, 2n, HUGE + 1n], // (2^81 + 3) / 2 = 2^80 + 1.5 -> 2^80 + 2
    [HUGE * 2n - 1n, 2n, HUGE - 1n], // 2^80 + 0.5 -> 2^80 (even)
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
      expect(divRoundHalfEven(-n, d)).toBe(-q); // symmetric in sign
    }
  });

  it('refuses a zero divisor', () => {
    expect(thrownBy(() => divRoundHalfEven(1n, 0n)).code).toBe('internal');
  });
});

describe('mulDivHalfEven', () => {
  it('multiplies before it divides, rounding once', () => {
    // 3 tokens × $2.5/MTok at scale 12 -> 7_500 nano exactly
    expect(mulDivHalfEven(3n, 2_500_000_000_000n, 1_000_000_000n)).toBe(7_500n);
    // 1/3 × 3 is 1, not the 0 that rounding 1/3 first would give
    expect(mulDivHalfEven(1n, 3n, 3n)).toBe(1n);
    expect(mulDivHalfEven(5n, 1n, 2n)).toBe(2n); // 2.5 -> 2
    expect(mulDivHalfEven(3n, 5n, 2n)).toBe(8n); // 7.5 -> 8
    expect(mulDivHalfEven(-5n, 1n, 2n)).toBe(-2n);
    expect(mulDivHalfEven(-3n, 5n, 2n)).toBe(-8n);
    expect(mulDivHalfEven(5n, -3n, -2n)).toBe(8n);
  });

  it('is exact far beyond 2^53', () => {
    expect(mulDivHalfEven(HUGE, HUGE, HUGE)).toBe(HUGE);
    expect(mulDivHalfEven(HUGE, 10n ** 9n, 10n ** 27n)).toBe(1_208_926n); // 1_208_925.8196... -> up
  });

  it('refuses a zero divisor', () => {
    expect(thrownBy(() => mulDivHalfEven(1n, 1n, 0n)).code).toBe('internal');
  });
});

describe('divCeil', () => {
  it.each([
    [7n, 2n, 4n],
    [6n, 2n, 3n],
    [-7n, 2n, -3n],
    [7n, -2n, -3n],
    [-7n, -2n, 4n],
    [0n, 5n, 0n],
    [1n, 1_000_000_000n, 1n],
    [HUGE, 2n, 2n ** 79n + 1n],
  ])('ceil(%s / %s) = %s', (n, d, q) => {
    expect(divCeil(n, d)).toBe(q);
  });

  it('refuses a zero divisor', () => {
    expect(thrownBy(() => divCeil(1n, 0n)).code).toBe('internal');
  });
});

describe('allocate', () => {
  const sum = (xs: bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

  it('splits in proportion when the division is exact', () => {
    expect(allocate(100n, [1n, 1n, 2n])).toEqual([25n, 25n, 50n]);
    expect(allocate(0n, [3n, 7n])).toEqual([0n, 0n]);
  });

  it('gives the leftover units to the largest remainders', () => {
    // 10 × (1,2,4)/7 = 1.43, 2.86, 5.71 -> floors 1,2,5 (8); 2 left: remainders 3,6,5 -> [1,3,6]
    expect(allocate(10n, [1n, 2n, 4n])).toEqual([1n, 3n, 6n]);
  });

  it('breaks ties deterministically by the lower index', () => {
    expect(allocate(1n, [1n, 1n, 1n])).toEqual([1n, 0n, 0n]);
    expect(allocate(2n, [1n, 1n, 1n])).toEqual([1n, 1n, 0n]);
    expect(allocate(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
  });

  it('mirrors the positive split for a negative amount (a credit)', () => {
    expect(allocate(-10n, [1n, 2n, 4n])).toEqual([-1n, -3n, -6n]);
    expect(allocate(-100n, [1n, 1n, 1n])).toEqual([-34n, -33n, -33n]);
  });

  it('never gives anything to a zero weight', () => {
    expect(allocate(5n, [0n, 1n, 0n, 1n])).toEqual([0n, 3n, 0n, 2n]);
    expect(allocate(7n, [0n, 3n])).toEqual([0n, 7n]);
  });

  it('is exact beyond 2^53', () => {
    const parts = allocate(HUGE, [1n, 1n, 1n]);
    expect(sum(parts)).toBe(HUGE);
    expect(parts[0]).toBe(HUGE / 3n + 1n);
    expect(allocate(10n, [HUGE, HUGE])).toEqual([5n, 5n]);
  });

  it('always sums to the amount, each part within one unit of its exact share (property)', () => {
    const values = [...randomBigints(600, 7n)];
    for (let i = 0; i + 6 < values.length; i += 6) {
      const amount = values[i] ?? 0n;
      const weights = values.slice(i + 1, i + 6).map((w) => (w < 0n ? -w : w) % 1_000n);
      if (sum(weights) === 0n) continue;
      const parts = allocate(amount, weights);
      expect(sum(parts)).toBe(amount);
      const total = sum(weights);
      parts.forEach((p, k) => {
        const exactTimesTotal = amount * (weights[k] ?? 0n);
        const miss = p * total - exactTimesTotal;
        expect((miss < 0n ? -miss : miss) < total).toBe(true);
      });
    }
  });

  it('refuses negative weights and weights that sum to zero', () => {
    expect(thrownBy(() => allocate(1n, [1n, -1n])).code).toBe('internal');
    expect(thrownBy(() => allocate(1n, [0n, 0n])).code).toBe('internal');
    expect(thrownBy(() => allocate(1n, [])).code).toBe('internal');
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
    expect(formatDecimalScaled(HUGE, 9)).toBe('1208925819614629.174706177');
  });

  it('round-trips with parseDecimalScaled (property)', () => {
    for (const n of randomBigints(300)) expect(parseDecimalScaled(formatDecimalScaled(n, 12), 12, 'p')).toBe(n);
  });
});

describe('formatDecimal', () => {
  it('prints a parsed decimal canonically', () => {
    expect(formatDecimal(parseDecimal('2.990', 'x'))).toBe('2.99');
    expect(formatDecimal(parseDecimal('1e3', 'x'))).toBe('1000');
    expect(formatDecimal(parseDecimal('+0.5', 'x'))).toBe('0.5');
    expect(formatDecimal(parseDecimal('-1.5e-7', 'x'))).toBe('-0.00000015');
  });

  it('round-trips with parseDecimal up to trailing zeros (property)', () => {
    for (const units of randomBigints(300)) {
      const d = { units, scale: Number((units < 0n ? -units : units) % 15n) };
      const back = parseDecimal(formatDecimal(d), 'x');
      expect(back.units * 10n ** BigInt(d.scale - back.scale)).toBe(d.units);
    }
  });
});
