import { describe, expect, it } from 'vitest';
import { createPriceBook } from '../pricing/index.js';
import { FallbackPrices } from './fallback.js';

const at = new Date('2026-06-01T12:00:00Z');
/** USD per 1M tokens at the price book's scale (×1e12). */
const perM = (usd: number): bigint => BigInt(usd) * 1_000_000_000_000n;

describe('unpriced fallback price', () => {
  it("defaults to the dearest per-token rates among the provider's models", async () => {
    const fallback = new FallbackPrices(createPriceBook(), undefined);
    // genai-prices@0.1.8: o1-pro ($150 / $600) is OpenAI's dearest; Anthropic's is claude-3-opus, whose
    // 1h cache write ($30, 2x its $15 input) is the dearest input-side rate, beside $75 output.
    expect(await fallback.rates('openai', at)).toEqual({ input: perM(150), output: perM(600) });
    expect(await fallback.rates('anthropic', at)).toEqual({ input: perM(30), output: perM(75) });
  });

  it('covers a provider the price book does not know with the dearest of the wires, and counts overrides', async () => {
    const book = createPriceBook({
      overrides: [{ provider: 'acme-vllm', model: 'llama-3.1-8b', from: '2026-01-01', input: '0.05', output: '0.2' }],
    });
    const fallback = new FallbackPrices(book, undefined);
    expect(await fallback.rates('self-hosted-x', at)).toEqual({ input: perM(150), output: perM(600) });
    expect(await fallback.rates('acme-vllm', at)).toEqual({
      input: 50_000_000_000n,
      output: 200_000_000_000n,
    });
  });

  it('uses the configured price when one is set, and charges tokens only, rounded up', async () => {
    const fallback = new FallbackPrices(createPriceBook(), { input_per_mtok_usd: '2.5', output_per_mtok_usd: '10' });
    const rates = await fallback.rates('openai', at);
    expect(rates).toEqual({ input: 2_500_000_000_000n, output: perM(10) });
    // 3 cached + 1 input at $2.50/1M = 10,000 nano; 1 reasoning token at $10/1M = 10,000; requests free.
    expect(FallbackPrices.cost(rates, { input: 1, cache_read: 3, reasoning: 1, requests: 5 })).toBe(20_000n);
    expect(FallbackPrices.worstCase(rates, 1_000, 100)).toBe(3_500_000n);
    // $0.0001/1M is a tenth of a nano-USD per token: rounded up, never down to zero.
    const tiny = new FallbackPrices(createPriceBook(), { input_per_mtok_usd: '0.0001', output_per_mtok_usd: '0' });
    expect(FallbackPrices.cost(await tiny.rates('openai', at), { input: 1 })).toBe(1n);
  });
});
