import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { fuzzParameters } from '../testing/fuzz.js';
import { BUCKETS, type Buckets } from '../usage/index.js';
import { createPriceBook, MAX_CALL_COST_NANO, type PriceOverride, type PriceResult } from './index.js';

/**
 * Any priceable usage, any model, any instant, with or without operator overrides: the price is
 * either unpriced with a reason and no lines, or exact bigint lines that add up to the cost, each
 * non-negative, within what the ledger can hold. No float ever reaches an amount.
 */

const RUNS = 200;

const MODELS: ReadonlyArray<readonly [string, string]> = [
  ['openai', 'gpt-4o-mini'],
  ['openai', 'gpt-4o-2024-08-06'],
  ['openai', 'o4-mini'],
  ['openai', 'o1-pro'],
  ['openai', 'text-embedding-3-small'],
  ['openai', 'gpt-4o-audio-preview'],
  ['anthropic', 'claude-sonnet-4-5'],
  ['anthropic', 'claude-opus-4-1'],
  ['anthropic', 'claude-3-5-haiku-latest'],
  ['google', 'gemini-2.5-pro'],
  ['deepseek', 'deepseek-chat'],
  ['acme-vllm', 'llama-3.1-8b'],
  ['openai', 'gpt-nonexistent-9'],
];

/** A count pricing accepts: mostly realistic, sometimes past the long-context tiers, sometimes absurd. */
const quantityArb = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 300_000 }) },
  { weight: 2, arbitrary: fc.nat({ max: 2 ** 31 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 200_000, 200_001, 10_000_000, 1e12, Number.MAX_SAFE_INTEGER) },
);

const bucketsArb: fc.Arbitrary<Buckets> = fc
  .subarray([...BUCKETS])
  .chain((names) =>
    fc.tuple(...names.map(() => quantityArb)).map((qs) => Object.fromEntries(names.map((n, i) => [n, qs[i]]))),
  );

const instantArb = fc.date({
  min: new Date('2023-01-01T00:00:00Z'),
  max: new Date('2027-12-31T23:59:59Z'),
  noInvalidDate: true,
});

/** A decimal as an operator writes it in pertoken.yaml: a string or a number, sometimes wrong. */
const decimalArb: fc.Arbitrary<string | number> = fc.oneof(
  fc.nat({ max: 1000 }),
  fc.constantFrom('0.05', '2.5', '0.000001', '15', '0', '100', '12.5', '-1', '1e3', 'abc', '0.1234567890123', 101),
  fc.double({ min: 0, max: 1000, noNaN: true }),
);

const overrideArb: fc.Arbitrary<PriceOverride> = fc
  .record(
    {
      provider: fc.constantFrom('openai', 'anthropic', 'acme-vllm'),
      model: fc.constantFrom('gpt-4o*', 'claude-*', 'llama-3.1-8b', '*', 'o1-pro'),
      from: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('2024-01-01', '2026-01-01') },
        { weight: 1, arbitrary: fc.constantFrom('2026-13-01', 'yesterday') },
      ),
      to: fc.oneof(
        { weight: 4, arbitrary: fc.constant('2027-01-01') },
        { weight: 1, arbitrary: fc.constant('2023-01-01') },
      ),
      discount_pct: decimalArb,
      batch_discount_pct: decimalArb,
      input: decimalArb,
      output: decimalArb,
      cache_read: decimalArb,
      requests: decimalArb,
    },
    { requiredKeys: ['provider', 'model', 'from'] },
  )
  .map((o) => o as PriceOverride);

function expectExact(result: PriceResult, buckets: Buckets): void {
  if (result.cost_nano === null) {
    expect(result.lines).toEqual([]);
    expect(result.unpriced_reason).toEqual(expect.any(String));
    return;
  }
  expect(result.unpriced_reason).toBeNull();
  expect(result.price_ref).toEqual(expect.any(String));
  expect(typeof result.cost_nano).toBe('bigint');
  expect(result.cost_nano).toBeGreaterThanOrEqual(0n);
  expect(result.cost_nano).toBeLessThanOrEqual(MAX_CALL_COST_NANO);
  expect(result.lines.reduce((sum, line) => sum + line.cost_nano, 0n)).toBe(result.cost_nano);
  for (const line of result.lines) {
    expect(typeof line.cost_nano).toBe('bigint');
    expect(line.cost_nano).toBeGreaterThanOrEqual(0n);
    // A per-request fee applies once when the usage does not count requests.
    expect(line.quantity).toBe(buckets[line.bucket] ?? (line.bucket === 'requests' ? 1 : -1));
    expect(line.unit_price_usd).toMatch(/^\d+(\.\d+)?$/);
  }
}

describe('price book', () => {
  it('catalogue prices: lines add up to the cost exactly, or unpriced with a reason', () => {
    const book = createPriceBook();
    fc.assert(
      fc.property(
        fc.constantFrom(...MODELS),
        bucketsArb,
        instantArb,
        fc.boolean(),
        ([provider, model], buckets, at, batch) => {
          expectExact(book.price({ provider, model, at, buckets, batch }), buckets);
        },
      ),
      fuzzParameters(RUNS),
    );
  });

  it('operator overrides: refused naming prices[i].field, or lines add up to the cost exactly', () => {
    fc.assert(
      fc.property(
        fc.array(overrideArb, { maxLength: 3 }),
        fc.constantFrom(...MODELS),
        bucketsArb,
        instantArb,
        fc.boolean(),
        (overrides, [provider, model], buckets, at, batch) => {
          let book;
          try {
            book = createPriceBook({ overrides });
          } catch (err) {
            expect(err).toBeInstanceOf(PertokenError);
            expect((err as PertokenError).code).toBe('config_invalid');
            expect((err as PertokenError).param).toMatch(/^prices(\[\d+\](\.[a-z_0-9]+)?)?$/);
            return;
          }
          expectExact(book.price({ provider, model, at, buckets, batch }), buckets);
          const plain = createPriceBook().price({ provider, model, at, buckets });
          // A discount-only override never makes a call cost more than the catalogue says.
          const onlyDiscounts = overrides.every((o) => BUCKETS.every((b) => !(b in o)));
          const discounted = book.price({ provider, model, at, buckets });
          if (onlyDiscounts && plain.cost_nano !== null && discounted.cost_nano !== null) {
            expect(discounted.cost_nano).toBeLessThanOrEqual(plain.cost_nano);
          }
        },
      ),
      fuzzParameters(RUNS),
    );
  });
});
