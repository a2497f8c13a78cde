import { describe, expect, it } from 'vitest';
import { createPriceBook } from '../pricing/index.js';
import { DEFAULT_MAX_OUTPUT_TOKENS, maxOutputTokens, worstCaseCost } from './worst-case.js';

const book = createPriceBook();
const at = new Date('2026-06-01T00:00:00Z');

describe('worst-case cost', () => {
  it('prices prompt tokens at the input rate and the output ceiling at the output rate, exactly', () => {
    // gpt-4o-mini: $0.15 / 1M input, $0.60 / 1M output -> 1000 × 150 + 50 × 600 nano-USD.
    expect(
      worstCaseCost(book, {
        provider: 'openai',
        model: 'gpt-4o-mini',
        at,
        inputTokens: 1000,
        outputTokens: 50,
        hasNonTextInput: false,
      }),
    ).toBe(180_000n);
  });

  it('uses the dearest input-side rate: an Anthropic prompt may be written to the cache', () => {
    // claude-3-5-haiku: input $0.80, cache write 5m $1.00, 1h $1.60, output $4.00 per 1M.
    const cost = worstCaseCost(book, {
      provider: 'anthropic',
      model: 'claude-3-5-haiku-latest',
      at,
      inputTokens: 1000,
      outputTokens: 100,
      hasNonTextInput: false,
    });
    expect(cost).toBe(1000n * 1600n + 100n * 4000n);
  });

  it('returns null for a model without a price', () => {
    expect(
      worstCaseCost(book, {
        provider: 'openai',
        model: 'no-such-model',
        at,
        inputTokens: 10,
        outputTokens: 10,
        hasNonTextInput: false,
      }),
    ).toBeNull();
  });

  it('takes max_tokens, then config globs, then the family ceiling, then the default', () => {
    expect(maxOutputTokens('gpt-4o', 100, {})).toBe(100);
    expect(maxOutputTokens('gpt-4o', null, { 'gpt-4o*': 2048 })).toBe(2048);
    expect(maxOutputTokens('gpt-4o-mini', null, {})).toBe(16_384);
    expect(maxOutputTokens('o3-mini', null, {})).toBe(100_000);
    expect(maxOutputTokens('my-finetune', null, {})).toBe(DEFAULT_MAX_OUTPUT_TOKENS);
  });
});
