import { describe, expect, it } from 'vitest';
import { sanitizeBuckets } from '../usage/index.js';
import { anthropicUsage, openaiChatUsage } from './index.js';
import { carve } from './shape.js';

describe('carve', () => {
  it('caps parts at what is left, so parts and rest add up to the total', () => {
    expect(carve(100, [60, 50])).toEqual({ parts: [60, 40], rest: 0 });
    expect(carve(100, [10, 20])).toEqual({ parts: [10, 20], rest: 70 });
  });

  it('takes only the billed count of a bad part out of the rest, and keeps the bad value to be reported', () => {
    // Found by usage.fuzz.test.ts: cached_tokens -1 of prompt_tokens 0 billed one input token.
    expect(carve(0, [-1])).toEqual({ parts: [-1], rest: 0 });
    expect(carve(10, [-3])).toEqual({ parts: [-3], rest: 10 });
    // thinking_tokens 0.5 of output_tokens 1 billed 1 reasoning + 1 output.
    expect(carve(1, [0.5])).toEqual({ parts: [0.5], rest: 0 });
  });

  it('gives a total that bills nothing nothing to split', () => {
    for (const total of [-5, Infinity, 1e20]) {
      const { parts, rest } = carve(total, [3]);
      expect(parts).toEqual([0]);
      expect(sanitizeBuckets({ input: rest })).toEqual({});
    }
  });
});

describe('usage mappings never bill more than the provider totals', () => {
  it('OpenAI: a negative cached_tokens does not add an input token', () => {
    const usage = openaiChatUsage({
      prompt_tokens: 10,
      completion_tokens: 0,
      prompt_tokens_details: { cached_tokens: -1 },
    });
    expect(usage?.buckets).toEqual({ input: 10 });
    expect(usage?.issues).toContain('cache_read is negative (-1)');
  });

  it('Anthropic: a fractional thinking_tokens does not bill two tokens for one', () => {
    const usage = anthropicUsage({
      input_tokens: 0,
      output_tokens: 1,
      output_tokens_details: { thinking_tokens: 0.5 },
    });
    expect(usage?.buckets).toEqual({ reasoning: 1 });
    expect(usage?.issues).toContain('reasoning is not an integer (0.5)');
  });
});
