import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { thrownBy } from '../testing/errors.js';
import type { Buckets } from '../usage/index.js';
import { createPriceBook, type PriceOverride, type PriceResult } from './index.js';

const V = 'genai-prices@0.1.8';

function priceWith(
  overrides: PriceOverride[],
  provider: string,
  model: string,
  at: string,
  buckets: Buckets,
  batch?: boolean,
): PriceResult {
  return createPriceBook({ overrides }).price({
    provider,
    model,
    at: new Date(at),
    buckets,
    ...(batch === undefined ? {} : { batch }),
  });
}

function configError(overrides: unknown[]): PertokenError {
  return thrownBy(() => createPriceBook({ overrides: overrides as PriceOverride[] }));
}

const acme: PriceOverride = {
  provider: 'acme-vllm',
  model: 'llama-3.1-8b',
  from: '2026-11-01',
  input: 0.05,
  output: '0.20',
};

describe('discount overrides', () => {
  const discount12: PriceOverride = { provider: 'openai', model: 'gpt-4o', from: '2026-01-01', discount_pct: 12 };

  it('takes exactly 12% off every line, from its start date', () => {
    // input 1_000_000 × 2.5 × 1000 = 2_500_000_000 × 0.88 = 2_200_000_000
    // output 1_000 × 10 × 1000 = 10_000_000 × 0.88 = 8_800_000
    const r = priceWith([discount12], 'openai', 'gpt-4o', '2026-02-01T00:00:00Z', { input: 1_000_000, output: 1000 });
    expect(r.lines.map((l) => [l.bucket, l.cost_nano, l.discount_pct])).toEqual([
      ['input', 2_200_000_000n, '12'],
      ['output', 8_800_000n, '12'],
    ]);
    expect(r.cost_nano).toBe(2_208_800_000n);
    expect(r.price_ref).toBe(`${V}:openai/gpt-4o;discount=12%`);
    // the day before: list price 2_500_000_000 + 10_000_000
    const before = priceWith([discount12], 'openai', 'gpt-4o', '2025-12-31T23:59:59.999Z', {
      input: 1_000_000,
      output: 1000,
    });
    expect(before.cost_nano).toBe(2_510_000_000n);
    expect(before.price_ref).toBe(`${V}:openai/gpt-4o`);
  });

  it('covers the dated names an upstream reports as the served model', () => {
    // OpenAI answers gpt-4o requests as gpt-4o-2024-08-06: 1000 × 2.5 × 1000 = 2_500_000 × 0.88 = 2_200_000
    const r = priceWith([discount12], 'openai', 'gpt-4o-2024-08-06', '2026-02-01T00:00:00Z', { input: 1000 });
    expect(r.cost_nano).toBe(2_200_000n);
    expect(r.price_ref).toBe(`${V}:openai/gpt-4o;discount=12%`);
    // the reverse does not hold: an override for one snapshot leaves the others alone
    const snapshotOnly: PriceOverride = { ...discount12, model: 'gpt-4o-2024-08-06' };
    expect(priceWith([snapshotOnly], 'openai', 'gpt-4o', '2026-02-01T00:00:00Z', { input: 1000 }).cost_nano).toBe(
      2_500_000n,
    );
  });

  it('accepts decimal percentages and still rounds once per line', () => {
    // gpt-4o-mini: 1 input token = 150 nano × 0.875 = 131.25 -> 131; 3 output = 1_800 × 0.875 = 1_575
    const r = priceWith(
      [{ provider: 'openai', model: 'gpt-4o-mini', from: '2026-01-01', discount_pct: '12.5' }],
      'openai',
      'gpt-4o-mini',
      '2026-02-01T00:00:00Z',
      {
        input: 1,
        output: 3,
      },
    );
    expect(r.lines.map((l) => l.cost_nano)).toEqual([131n, 1_575n]);
    expect(r.price_ref).toBe(`${V}:openai/gpt-4o-mini;discount=12.5%`);
  });

  it('the latest from wins; an exact model beats a glob on the same from', () => {
    const overrides: PriceOverride[] = [
      { provider: 'openai', model: 'gpt-4o*', from: '2026-01-01', discount_pct: 5 },
      { provider: 'openai', model: 'gpt-4o', from: '2026-01-01', discount_pct: 12 },
      { provider: 'openai', model: 'gpt-4o', from: '2026-03-01', discount_pct: 15 },
    ];
    // 1000 input × 2.5 × 1000 = 2_500_000: × 0.88 = 2_200_000, × 0.85 = 2_125_000
    expect(priceWith(overrides, 'openai', 'gpt-4o', '2026-02-01T00:00:00Z', { input: 1000 }).cost_nano).toBe(
      2_200_000n,
    );
    expect(priceWith(overrides, 'openai', 'gpt-4o', '2026-04-01T00:00:00Z', { input: 1000 }).cost_nano).toBe(
      2_125_000n,
    );
    // the glob reaches gpt-4o-mini: 1000 × 0.15 × 1000 = 150_000 × 0.95 = 142_500
    expect(priceWith(overrides, 'openai', 'GPT-4o-mini', '2026-02-01T00:00:00Z', { input: 1000 }).cost_nano).toBe(
      142_500n,
    );
  });

  it('batch discount applies only to batch queries, compounding with the negotiated discount', () => {
    const overrides: PriceOverride[] = [
      { provider: 'openai', model: 'gpt-4o-mini', from: '2026-01-01', discount_pct: 12, batch_discount_pct: 50 },
    ];
    // 1000 × 0.15 × 1000 = 150_000; × 0.88 = 132_000; batch × 0.88 × 0.5 = 66_000 (combined 56%)
    const online = priceWith(overrides, 'openai', 'gpt-4o-mini', '2026-02-01T00:00:00Z', { input: 1000 });
    const batch = priceWith(overrides, 'openai', 'gpt-4o-mini', '2026-02-01T00:00:00Z', { input: 1000 }, true);
    expect(online.cost_nano).toBe(132_000n);
    expect(batch.cost_nano).toBe(66_000n);
    expect(batch.lines[0]?.discount_pct).toBe('56');
    expect(batch.price_ref).toBe(`${V}:openai/gpt-4o-mini;discount=12%;batch_discount=50%`);
  });
});

describe('price overrides', () => {
  it('prices a self-hosted model the catalogue does not know', () => {
    // input 1_000_000 × 0.05 × 1000 = 50_000_000; output 500_000 × 0.2 × 1000 = 100_000_000
    const r = priceWith([acme], 'acme-vllm', 'llama-3.1-8b', '2026-11-02T08:00:00Z', {
      input: 1_000_000,
      output: 500_000,
    });
    expect(r.cost_nano).toBe(150_000_000n);
    expect(r.price_ref).toBe('override:acme-vllm/llama-3.1-8b@2026-11-01');
    expect(r.lines.map((l) => l.unit_price_usd)).toEqual(['0.05', '0.2']);
    // before its from: nothing prices it
    const early = priceWith([acme], 'acme-vllm', 'llama-3.1-8b', '2026-10-31T23:59:59Z', { input: 1 });
    expect(early.cost_nano).toBeNull();
    expect(early.unpriced_reason).toContain('unknown provider "acme-vllm"');
  });

  it('combines its own prices with its discount', () => {
    // 50_000_000 × 0.88 = 44_000_000
    const r = priceWith([{ ...acme, discount_pct: 12 }], 'acme-vllm', 'llama-3.1-8b', '2026-11-02T00:00:00Z', {
      input: 1_000_000,
    });
    expect(r.cost_nano).toBe(44_000_000n);
    expect(r.price_ref).toBe('override:acme-vllm/llama-3.1-8b@2026-11-01;discount=12%');
  });

  it('a later discount-only override discounts the earlier override prices, not the catalogue', () => {
    const overrides: PriceOverride[] = [
      acme,
      { provider: 'acme-vllm', model: 'llama-*', from: '2026-12-01', discount_pct: 10 },
    ];
    // 1_000_000 × 0.05 × 1000 = 50_000_000 × 0.9 = 45_000_000
    const r = priceWith(overrides, 'acme-vllm', 'llama-3.1-8b', '2026-12-15T00:00:00Z', { input: 1_000_000 });
    expect(r.cost_nano).toBe(45_000_000n);
    expect(r.price_ref).toBe('override:acme-vllm/llama-3.1-8b@2026-11-01;discount=10%');
  });

  it('`to` is exclusive: the catalogue price returns at UTC midnight', () => {
    const overrides: PriceOverride[] = [
      { provider: 'openai', model: 'gpt-4o', from: '2026-01-01', to: '2026-02-01', input: 2, output: 8 },
    ];
    // override: 1000 × 2 × 1000 = 2_000_000; catalogue: 1000 × 2.5 × 1000 = 2_500_000
    const last = priceWith(overrides, 'openai', 'gpt-4o', '2026-01-31T23:59:59.999Z', { input: 1000 });
    const after = priceWith(overrides, 'openai', 'gpt-4o', '2026-02-01T00:00:00.000Z', { input: 1000 });
    expect(last.cost_nano).toBe(2_000_000n);
    expect(last.price_ref).toBe('override:openai/gpt-4o@2026-01-01');
    expect(after.cost_nano).toBe(2_500_000n);
    expect(after.price_ref).toBe(`${V}:openai/gpt-4o`);
  });

  it('replaces the whole price list: a bucket it does not price leaves the event unpriced', () => {
    const overrides: PriceOverride[] = [
      { provider: 'openai', model: 'gpt-4o', from: '2026-01-01', input: 2, output: 8 },
    ];
    const r = priceWith(overrides, 'openai', 'gpt-4o', '2026-01-15T00:00:00Z', { input: 1000, cache_read: 10 });
    expect(r.cost_nano).toBeNull();
    expect(r.unpriced_reason).toBe('no price for cache_read (10) in override:openai/gpt-4o@2026-01-01');
  });

  it('applies the shared fallbacks: reasoning as output, 1h writes as 2 × input, requests per call', () => {
    const overrides: PriceOverride[] = [
      {
        provider: 'acme',
        model: 'm',
        from: '2026-01-01',
        input: 1,
        cache_write_5m: 1.25,
        output: 4,
        requests: '0.001',
      },
    ];
    // reasoning 1000 × 4 × 1000 = 4_000_000; 1h 1000 × 2 × 1000 = 2_000_000; 5m 1000 × 1.25 × 1000 = 1_250_000
    // requests 2 × 0.001 USD = 2_000_000
    const r = priceWith(overrides, 'acme', 'm', '2026-01-15T00:00:00Z', {
      reasoning: 1000,
      cache_write_1h: 1000,
      cache_write_5m: 1000,
      requests: 2,
    });
    expect(Object.fromEntries(r.lines.map((l) => [l.bucket, l.cost_nano]))).toEqual({
      cache_write_5m: 1_250_000n,
      cache_write_1h: 2_000_000n,
      reasoning: 4_000_000n,
      requests: 2_000_000n,
    });
    expect(r.price_ref).toBe('override:acme/m@2026-01-01;cache_write_1h=2x_input');
  });

  it('rounds half-even on override prices too', () => {
    const overrides: PriceOverride[] = [
      { provider: 'acme', model: 'm', from: '2026-01-01', input: '0.0025', output: '0.0035' },
    ];
    // input 1 token = 2.5 nano -> 2; output 1 token = 3.5 nano -> 4
    const r = priceWith(overrides, 'acme', 'm', '2026-01-15T00:00:00Z', { input: 1, output: 1 });
    expect(r.lines.map((l) => l.cost_nano)).toEqual([2n, 4n]);
    expect(r.cost_nano).toBe(6n);
  });
});

describe('override validation', () => {
  const base = { provider: 'openai', model: 'gpt-4o', from: '2026-01-01' };

  it.each([
    [{ ...base, from: '2026-13-01', discount_pct: 1 }, 'prices[0].from'],
    [{ ...base, from: '2026-02-30', discount_pct: 1 }, 'prices[0].from'],
    [{ ...base, from: '1 Jan 2026', discount_pct: 1 }, 'prices[0].from'],
    [{ ...base, to: '2026-01-01', discount_pct: 1 }, 'prices[0].to'],
    [{ ...base, to: '2025-12-01', discount_pct: 1 }, 'prices[0].to'],
    [{ ...base, discount_pct: 101 }, 'prices[0].discount_pct'],
    [{ ...base, discount_pct: -1 }, 'prices[0].discount_pct'],
    [{ ...base, discount_pct: '12%' }, 'prices[0].discount_pct'],
    [{ ...base, batch_discount_pct: '1.0000001' }, 'prices[0].batch_discount_pct'],
    [{ ...base, input: -1 }, 'prices[0].input'],
    [{ ...base, input: '0.0000000000001' }, 'prices[0].input'],
    [{ ...base, output: Number.NaN }, 'prices[0].output'],
    [{ ...base, output: true }, 'prices[0].output'],
    [{ ...base, cache_write: 3.75 }, 'prices[0].cache_write'],
    [{ ...base }, 'prices[0]'],
    [{ ...base, model: '', input: 1 }, 'prices[0].model'],
    [{ model: 'x', from: '2026-01-01', input: 1 }, 'prices[0].provider'],
    ['gpt-4o', 'prices[0]'],
  ])('rejects %j at %s', (entry, param) => {
    const err = configError([entry]);
    expect(err.code).toBe('config_invalid');
    expect(err.param).toBe(param);
  });

  it('names the right entry and refuses ambiguous duplicates', () => {
    expect(
      configError([
        { ...base, input: 1 },
        { ...base, input: -2 },
      ]).param,
    ).toBe('prices[1].input');
    const dup = configError([
      { ...base, input: 1 },
      { ...base, model: 'GPT-4o', discount_pct: 5 },
    ]);
    expect(dup.param).toBe('prices[1].from');
    expect(dup.message).toContain('prices[0]');
  });

  it('accepts boundary values', () => {
    const book = createPriceBook({
      overrides: [
        { ...base, discount_pct: 100 },
        { ...base, model: 'gpt-4o-mini', discount_pct: '0.000001', input: 0, output: 1e-7 },
      ],
    });
    // 100% off: free, exactly
    expect(
      book.price({
        provider: 'openai',
        model: 'gpt-4o',
        at: new Date('2026-02-01T00:00:00Z'),
        buckets: { input: 1000 },
      }).cost_nano,
    ).toBe(0n);
    expect(book.overrides).toHaveLength(2);
  });
});
