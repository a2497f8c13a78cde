import { calcPrice } from '@pydantic/genai-prices';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Buckets } from '../usage/index.js';
import { createPriceBook, formatUsd, type PriceResult } from './index.js';

/**
 * Figures are hand-computed from the genai-prices 0.1.8 data: cost = tokens × USD/MTok / 1e6 USD,
 * ×1e9 for nano-USD, i.e. nano = tokens × (USD/MTok) × 1000.
 */
const book = createPriceBook();
const V = 'genai-prices@0.1.8';

function price(provider: string, model: string, at: string, buckets: Buckets): PriceResult {
  return book.price({ provider, model, at: new Date(at), buckets });
}

function lineCosts(result: PriceResult): Record<string, bigint> {
  return Object.fromEntries(result.lines.map((l) => [l.bucket, l.cost_nano]));
}

function expectLinesSumToCost(result: PriceResult): void {
  expect(result.cost_nano).not.toBeNull();
  expect(result.lines.reduce((sum, l) => sum + l.cost_nano, 0n)).toBe(result.cost_nano);
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('price book on genai-prices data', () => {
  it('records the pinned data version', () => {
    expect(book.dataVersion).toBe(V);
  });

  it('gpt-4o-mini 1000 in + 50 out is exactly 0.000180000 USD', () => {
    // input 1000 × 0.15 × 1000 = 150_000 nano; output 50 × 0.6 × 1000 = 30_000 nano
    const r = price('openai', 'gpt-4o-mini', '2026-01-15T10:00:00Z', { input: 1000, output: 50 });
    expect(r.cost_nano).toBe(180_000n);
    expect(formatUsd(r.cost_nano ?? -1n)).toBe('0.000180000');
    expect(r.price_ref).toBe(`${V}:openai/gpt-4o-mini`);
    expect(r.unpriced_reason).toBeNull();
    expect(r.lines).toEqual([
      { bucket: 'input', quantity: 1000, unit_price_usd: '0.15', per: 'mtok', discount_pct: null, cost_nano: 150_000n },
      { bucket: 'output', quantity: 50, unit_price_usd: '0.6', per: 'mtok', discount_pct: null, cost_nano: 30_000n },
    ]);
    // genai-prices' own float answer, which we must not use for money:
    expect(
      calcPrice({ input_tokens: 1000, output_tokens: 50 }, 'gpt-4o-mini', { providerId: 'openai' })?.total_price,
    ).not.toBe(0.00018);
  });

  it('resolves dated model names with genai-prices matchers', () => {
    const r = price('openai', 'gpt-4o-mini-2024-07-18', '2026-01-15T10:00:00Z', { input: 1000, output: 50 });
    expect(r.cost_nano).toBe(180_000n);
    expect(r.price_ref).toBe(`${V}:openai/gpt-4o-mini`);
    expect(price('anthropic', 'claude-sonnet-4-20250514', '2026-01-15T10:00:00Z', { input: 1 }).price_ref).toBe(
      `${V}:anthropic/claude-sonnet-4-0`,
    );
  });

  it('gpt-4o with cached input', () => {
    // input 1000 × 2.5 × 1000 = 2_500_000; cache_read 1000 × 1.25 × 1000 = 1_250_000; output 100 × 10 × 1000 = 1_000_000
    const r = price('openai', 'gpt-4o-2024-08-06', '2026-01-15T10:00:00Z', {
      input: 1000,
      cache_read: 1000,
      output: 100,
    });
    expect(lineCosts(r)).toEqual({ input: 2_500_000n, cache_read: 1_250_000n, output: 1_000_000n });
    expect(r.cost_nano).toBe(4_750_000n);
    expect(r.price_ref).toBe(`${V}:openai/gpt-4o`);
  });

  it('Anthropic cache read + 5m write + 1h write + output', () => {
    // claude-sonnet-4-0: input 3, cache_read 0.3, cache_write (5m) 3.75, cache_write_1h 6, output 15 USD/MTok
    // input 1000 × 3 × 1000 = 3_000_000; cache_read 2000 × 0.3 × 1000 = 600_000
    // 5m 500 × 3.75 × 1000 = 1_875_000; 1h 400 × 6 × 1000 = 2_400_000; output 300 × 15 × 1000 = 4_500_000
    const r = price('anthropic', 'claude-sonnet-4-20250514', '2026-01-15T10:00:00Z', {
      input: 1000,
      cache_read: 2000,
      cache_write_5m: 500,
      cache_write_1h: 400,
      output: 300,
    });
    expect(lineCosts(r)).toEqual({
      input: 3_000_000n,
      cache_read: 600_000n,
      cache_write_5m: 1_875_000n,
      cache_write_1h: 2_400_000n,
      output: 4_500_000n,
    });
    expect(r.cost_nano).toBe(12_375_000n);
    expect(r.price_ref).toBe(`${V}:anthropic/claude-sonnet-4-0`);
  });

  it('derives the 1h cache-write rate (2 × input) when the data has only the 5m rate, and says so', () => {
    // Bedrock's claude-sonnet-4 entry has cache_write 3.75 but no 1h price: 1h = 2 × 3 = 6 USD/MTok
    // 1000 × 6 × 1000 = 6_000_000
    const r = price('aws', 'global.anthropic.claude-sonnet-4-20250514-v1:0', '2026-01-15T10:00:00Z', {
      cache_write_1h: 1000,
    });
    expect(r.cost_nano).toBe(6_000_000n);
    expect(r.lines[0]?.unit_price_usd).toBe('6');
    expect(r.price_ref).toBe(`${V}:aws/global.anthropic.claude-sonnet-4-20250514-v1:0;cache_write_1h=2x_input`);
  });

  describe('long-context tiers (claude-sonnet-4-5: input 3 -> 6, cache_read 0.3 -> 0.6, 1h 6 -> 12, output 15 -> 22.5 above 200000)', () => {
    const at = '2026-01-15T10:00:00Z';

    it('200,000 input tokens stay at the base rate', () => {
      // 200_000 × 3 × 1000 = 600_000_000
      const r = price('anthropic', 'claude-sonnet-4-5-20250929', at, { input: 200_000 });
      expect(r.cost_nano).toBe(600_000_000n);
      expect(r.price_ref).toBe(`${V}:anthropic/claude-sonnet-4-5`);
    });

    it('200,001 input tokens price every token at the tier rate', () => {
      // 200_001 × 6 × 1000 = 1_200_006_000 (not 200_000 × 3 + 1 × 6)
      const r = price('anthropic', 'claude-sonnet-4-5-20250929', at, { input: 200_001 });
      expect(r.cost_nano).toBe(1_200_006_000n);
      expect(r.lines[0]?.unit_price_usd).toBe('6');
      expect(r.price_ref).toBe(`${V}:anthropic/claude-sonnet-4-5;tier>200000`);
    });

    it('cache reads and writes count toward the threshold; output does not', () => {
      // 100_000 input + 100_001 cache_read = 200_001 input-side tokens -> tier
      // input 100_000 × 6 × 1000 = 600_000_000; cache_read 100_001 × 0.6 × 1000 = 60_000_600
      // output 1000 × 22.5 × 1000 = 22_500_000
      const crossed = price('anthropic', 'claude-sonnet-4-5', at, {
        input: 100_000,
        cache_read: 100_001,
        output: 1000,
      });
      expect(lineCosts(crossed)).toEqual({ input: 600_000_000n, cache_read: 60_000_600n, output: 22_500_000n });
      expect(crossed.cost_nano).toBe(682_500_600n);

      // 199_000 input + 1_001 1h writes = 200_001: input 199_000 × 6 × 1000 = 1_194_000_000; 1h 1_001 × 12 × 1000 = 12_012_000
      const viaWrites = price('anthropic', 'claude-sonnet-4-5', at, { input: 199_000, cache_write_1h: 1001 });
      expect(viaWrites.cost_nano).toBe(1_206_012_000n);

      // 300_000 output tokens do not cross: input 1000 × 3 × 1000 = 3_000_000; output 300_000 × 15 × 1000 = 4_500_000_000
      const outputHeavy = price('anthropic', 'claude-sonnet-4-5', at, { input: 1000, output: 300_000 });
      expect(outputHeavy.cost_nano).toBe(4_503_000_000n);
      expect(outputHeavy.price_ref).toBe(`${V}:anthropic/claude-sonnet-4-5`);
    });
  });

  it('dated price change: claude-sonnet-4-6 drops its long-context tier on 2026-03-13', () => {
    // before: 200_001 × 6 × 1000 = 1_200_006_000; from 2026-03-13: 200_001 × 3 × 1000 = 600_003_000
    const before = price('anthropic', 'claude-sonnet-4-6', '2026-03-12T23:59:59.999Z', { input: 200_001 });
    const after = price('anthropic', 'claude-sonnet-4-6', '2026-03-13T00:00:00Z', { input: 200_001 });
    expect(before.cost_nano).toBe(1_200_006_000n);
    expect(before.price_ref).toBe(`${V}:anthropic/claude-sonnet-4-6;tier>200000`);
    expect(after.cost_nano).toBe(600_003_000n);
    expect(after.price_ref).toBe(`${V}:anthropic/claude-sonnet-4-6@2026-03-13`);
  });

  it('dated price change: o3 from 10/40 to 2/8 on 2025-06-10, by the event time', () => {
    // before: 1000 × 10 × 1000 + 1000 × 40 × 1000 = 50_000_000; after: 1000 × 2 × 1000 + 1000 × 8 × 1000 = 10_000_000
    const before = price('openai', 'o3-2025-04-16', '2025-06-09T23:59:59Z', { input: 1000, output: 1000 });
    const after = price('openai', 'o3', '2025-06-10T00:00:00Z', { input: 1000, output: 1000 });
    expect(before.cost_nano).toBe(50_000_000n);
    expect(before.price_ref).toBe(`${V}:openai/o3`);
    expect(after.cost_nano).toBe(10_000_000n);
    expect(after.price_ref).toBe(`${V}:openai/o3@2025-06-10`);
  });

  describe('DeepSeek daily window (deepseek-chat: 00:30-16:30 UTC at 0.27/1.1, otherwise 0.135/0.55)', () => {
    const usage = { input: 1_000_000, output: 100_000 };

    it('prices the same usage differently by time of day', () => {
      // peak: 1_000_000 × 0.27 × 1000 = 270_000_000; 100_000 × 1.1 × 1000 = 110_000_000
      const peak = price('deepseek', 'deepseek-chat', '2026-02-10T12:00:00Z', usage);
      expect(peak.cost_nano).toBe(380_000_000n);
      expect(peak.price_ref).toBe(`${V}:deepseek/deepseek-chat@time=00:30:00Z-16:30:00Z`);
      // off-peak: 1_000_000 × 0.135 × 1000 = 135_000_000; 100_000 × 0.55 × 1000 = 55_000_000
      const offPeak = price('deepseek', 'deepseek-chat', '2026-02-10T20:00:00Z', usage);
      expect(offPeak.cost_nano).toBe(190_000_000n);
      expect(offPeak.price_ref).toBe(`${V}:deepseek/deepseek-chat`);
    });

    it('opens the window inclusively and closes it exclusively', () => {
      expect(price('deepseek', 'deepseek-chat', '2026-02-10T00:29:59.999Z', usage).cost_nano).toBe(190_000_000n);
      expect(price('deepseek', 'deepseek-chat', '2026-02-10T00:30:00.000Z', usage).cost_nano).toBe(380_000_000n);
      expect(price('deepseek', 'deepseek-chat', '2026-02-10T16:29:59.999Z', usage).cost_nano).toBe(380_000_000n);
      expect(price('deepseek', 'deepseek-chat', '2026-02-10T16:30:00.000Z', usage).cost_nano).toBe(190_000_000n);
    });
  });

  it('rounds each line once, half to even', () => {
    // gemini-flash-1.5-8b input 0.0375 USD/MTok = 37.5 nano per token
    expect(price('google', 'gemini-flash-1.5-8b', '2026-01-15T10:00:00Z', { input: 1 }).cost_nano).toBe(38n); // 37.5 -> 38
    expect(price('google', 'gemini-flash-1.5-8b', '2026-01-15T10:00:00Z', { input: 3 }).cost_nano).toBe(112n); // 112.5 -> 112
    expect(price('google', 'gemini-flash-1.5-8b', '2026-01-15T10:00:00Z', { input: 5 }).cost_nano).toBe(188n); // 187.5 -> 188
    // one rounding per line, not per token: 1 token rounds to 38, yet 2 tokens are exactly 75
    expect(price('google', 'gemini-flash-1.5-8b', '2026-01-15T10:00:00Z', { input: 2 }).cost_nano).toBe(75n);
  });

  it('bills per-call and web-search prices per unit', () => {
    // perplexity sonar: input 1, output 1 USD/MTok, requests 12 USD per 1000 = 0.012 per call
    // 100 × 1 × 1000 = 100_000 twice; one call (absent count = this event) 0.012 USD = 12_000_000
    const r = price('perplexity', 'sonar', '2026-01-15T10:00:00Z', { input: 100, output: 100 });
    expect(lineCosts(r)).toEqual({ input: 100_000n, output: 100_000n, requests: 12_000_000n });
    expect(r.lines.find((l) => l.bucket === 'requests')).toMatchObject({
      quantity: 1,
      unit_price_usd: '0.012',
      per: 'unit',
    });
    expect(
      price('perplexity', 'sonar', '2026-01-15T10:00:00Z', { input: 100, output: 100, requests: 0 }).cost_nano,
    ).toBe(200_000n);
    // gpt-4o web search 10 USD per 1000 = 0.01: 2 × 0.01 = 0.02 USD = 20_000_000
    expect(price('openai', 'gpt-4o', '2026-01-15T10:00:00Z', { web_search: 2 }).cost_nano).toBe(20_000_000n);
  });

  it('reasoning bills at the output rate unless a reasoning price exists', () => {
    // gpt-4o-mini: reasoning 100 × 0.6 × 1000 = 60_000
    expect(lineCosts(price('openai', 'gpt-4o-mini', '2026-01-15T10:00:00Z', { reasoning: 100 }))).toEqual({
      reasoning: 60_000n,
    });
    // sonar-deep-research: output 8, reasoning 3: 1000 × 3 × 1000 = 3_000_000
    expect(
      lineCosts(price('perplexity', 'sonar-deep-research', '2026-01-15T10:00:00Z', { reasoning: 1000, requests: 0 })),
    ).toEqual({
      reasoning: 3_000_000n,
    });
  });
});

describe('unpriced is never $0', () => {
  it('unknown model', () => {
    const r = price('openai', 'gpt-nonexistent-9', '2026-01-15T10:00:00Z', { input: 1000 });
    expect(r.cost_nano).toBeNull();
    expect(r.cost_nano).not.toBe(0n);
    expect(r.lines).toEqual([]);
    expect(r.price_ref).toBeNull();
    expect(r.unpriced_reason).toBe(
      `unknown model "gpt-nonexistent-9" for provider "openai": not in ${V} and no price override`,
    );
  });

  it('unknown provider', () => {
    const r = price('acme-vllm', 'llama-3.1-8b', '2026-01-15T10:00:00Z', { input: 1000 });
    expect(r.cost_nano).toBeNull();
    expect(r.unpriced_reason).toBe(`unknown provider "acme-vllm": not in ${V} and no price override`);
  });

  it('a bucket with tokens but no price leaves the whole event unpriced, naming the bucket', () => {
    // gpt-4o-audio-preview has text prices only; its audio tokens cost far more than text
    const r = price('openai', 'gpt-4o-audio-preview', '2026-01-15T10:00:00Z', {
      input: 100,
      input_audio: 250,
      output: 10,
    });
    expect(r.cost_nano).toBeNull();
    expect(r.lines).toEqual([]);
    expect(r.unpriced_reason).toBe(`no price for input_audio (250) in ${V}:openai/gpt-4o-audio-preview`);
    const images = price('openai', 'gpt-4o', '2026-01-15T10:00:00Z', { output_image: 5, output_audio: 7 });
    expect(images.unpriced_reason).toBe(`no price for output_audio (7), output_image (5) in ${V}:openai/gpt-4o`);
    expect(price('deepseek', 'deepseek-chat', '2026-01-15T10:00:00Z', { web_search: 1 }).cost_nano).toBeNull();
  });

  it('a bucket with 0 tokens never makes an event unpriced', () => {
    // 100 × 2.5 × 1000 = 250_000
    const r = price('openai', 'gpt-4o-audio-preview', '2026-01-15T10:00:00Z', {
      input: 100,
      input_audio: 0,
      output_image: 0,
    });
    expect(r.cost_nano).toBe(250_000n);
  });

  it('call counts without a price are informational (most providers bill no per-call fee)', () => {
    const r = price('openai', 'gpt-4o', '2026-01-15T10:00:00Z', { input: 100, requests: 1, tool_calls: 3 });
    expect(r.cost_nano).toBe(250_000n);
    expect(r.lines.map((l) => l.bucket)).toEqual(['input']);
  });

  it('a cost beyond what one call can cost is unpriced, not a 64-bit overflow the ledger refuses', () => {
    // Found by the wire fuzz suite: an upstream reporting completion_tokens 4e15 for o1-pro priced
    // at 2.4e21 nano-USD, past the ledger's BIGINT, and the event could never be committed.
    // o1-pro output 600 USD/MTok: 4e15 × 600 × 1000 = 2.4e21 nano.
    const r = price('openai', 'o1-pro', '2026-01-15T10:00:00Z', { input: 10, output: 4e15 });
    expect(r.cost_nano).toBeNull();
    expect(r.lines).toEqual([]);
    expect(r.unpriced_reason).toBe(
      '2400000000000.001500000 USD is more than one call can cost (1000000.000000000): implausible usage',
    );
    // 1e9 output tokens of gpt-4o (10 USD/MTok) = 10000 USD: large, still priced.
    expect(price('openai', 'gpt-4o', '2026-01-15T10:00:00Z', { output: 1e9 }).cost_nano).toBe(10_000_000_000_000n);
  });

  it('an event with no tokens at all costs exactly zero', () => {
    const r = price('openai', 'gpt-4o', '2026-01-15T10:00:00Z', {});
    expect(r.cost_nano).toBe(0n);
    expect(r.lines).toEqual([]);
  });
});

describe('query validation', () => {
  it.each([
    [{ input: -1 }, 'buckets.input'],
    [{ input: 1.5 }, 'buckets.input'],
    [{ output: Number.NaN }, 'buckets.output'],
    [{ bogus: 1 } as Buckets, 'buckets.bogus'],
  ])('rejects buckets %j', (buckets, param) => {
    expect(() => price('openai', 'gpt-4o', '2026-01-15T10:00:00Z', buckets)).toThrow(
      expect.objectContaining({ code: 'invalid_request', param }),
    );
  });

  it('rejects an invalid date', () => {
    expect(() => price('openai', 'gpt-4o', 'not a date', { input: 1 })).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: 'at' }),
    );
  });
});

describe('exactness against genai-prices floats (property)', () => {
  // Same usage in genai-prices' inclusive form: its input_tokens counts cache reads and writes.
  const models: [string, string, string][] = [
    ['openai', 'gpt-4o', '2026-01-15T10:00:00Z'],
    ['anthropic', 'claude-sonnet-4-5', '2026-01-15T10:00:00Z'],
    ['anthropic', 'claude-opus-4-1', '2026-01-15T10:00:00Z'],
    ['deepseek', 'deepseek-reasoner', '2026-01-15T03:00:00Z'],
    ['google', 'gemini-2.5-pro', '2026-01-15T10:00:00Z'],
  ];
  let state = 7;
  const rand = (max: number): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % max;
  };

  it.each(models)(
    "%s/%s: lines sum to the cost, and the cost is genai-prices' float to the nano",
    (provider, model, at) => {
      const anthropic = provider === 'anthropic';
      for (let i = 0; i < 40; i++) {
        const b = {
          input: rand(300_000),
          cache_read: rand(50_000),
          cache_write_5m: anthropic ? rand(20_000) : 0,
          cache_write_1h: anthropic ? rand(20_000) : 0,
          output: rand(20_000),
        };
        const r = price(provider, model, at, b);
        expectLinesSumToCost(r);
        const float = calcPrice(
          {
            input_tokens: b.input + b.cache_read + b.cache_write_5m + b.cache_write_1h,
            cache_read_tokens: b.cache_read,
            cache_write_tokens: b.cache_write_5m + b.cache_write_1h,
            cache_write_1h_tokens: b.cache_write_1h,
            output_tokens: b.output,
          },
          model,
          { providerId: provider, timestamp: new Date(at) },
        );
        // each of ≤5 lines is within half a nano; the float itself is good to ~1e-15 relative
        expect(Math.abs(Number(r.cost_nano) - (float?.total_price ?? Number.NaN) * 1e9)).toBeLessThanOrEqual(3);
      }
    },
  );
});

describe('no network', () => {
  it('never fetches price data at run time', () => {
    const fetchSpy = vi.fn(() => {
      throw new Error('network used');
    });
    vi.stubGlobal('fetch', fetchSpy);
    const fresh = createPriceBook();
    expect(
      fresh.price({
        provider: 'openai',
        model: 'gpt-4o-mini',
        at: new Date('2026-01-15T00:00:00Z'),
        buckets: { input: 1000, output: 50 },
      }).cost_nano,
    ).toBe(180_000n);
    expect(fresh.rates('anthropic', 'claude-sonnet-4-5', new Date('2026-01-15T00:00:00Z'))).not.toBeNull();
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});
