import { describe, expect, it } from 'vitest';
import { addBuckets, bucketsTotal, normalizeBuckets, sanitizeBuckets } from './index.js';

describe('bucketsTotal', () => {
  it('sums token buckets and leaves per-call units out by default', () => {
    const buckets = { input: 100, cache_read: 50, output: 20, reasoning: 30, requests: 1, web_search: 2 };
    expect(bucketsTotal(buckets)).toBe(200);
    expect(bucketsTotal(buckets, ['requests', 'web_search'])).toBe(3);
    expect(bucketsTotal({})).toBe(0);
  });
});

describe('addBuckets', () => {
  it('adds bucket-wise and drops zeros', () => {
    expect(addBuckets({ input: 10, output: 5 }, { input: 1, cache_read: 3 }, { output: -5 })).toEqual({
      input: 11,
      cache_read: 3,
    });
    expect(addBuckets()).toEqual({});
  });
});

describe('normalizeBuckets', () => {
  it('drops zeros and undefined and orders keys canonically', () => {
    const normalized = normalizeBuckets({ output: 3, input: 0, cache_read: undefined, reasoning: 2, input_audio: 1 });
    expect(normalized).toEqual({ input_audio: 1, output: 3, reasoning: 2 });
    expect(Object.keys(normalized)).toEqual(['input_audio', 'output', 'reasoning']);
  });

  it('drops keys that are not buckets', () => {
    expect(normalizeBuckets({ input: 1, bogus: 4 } as never)).toEqual({ input: 1 });
  });
});

describe('sanitizeBuckets', () => {
  it('turns bad counts into priceable non-negative integers', () => {
    expect(
      sanitizeBuckets({ input: -5, output: 12.6, reasoning: Number.NaN, cache_read: Infinity, output_audio: 7 }),
    ).toEqual({
      output: 13,
      output_audio: 7,
    });
  });

  it('takes a count beyond 2^53 - 1 as 0: it is not exact, and pricing refuses it', () => {
    // An upstream answering prompt_tokens 1e20 made the price book throw: the caller got a 400
    // naming `buckets.input` for a call the upstream served, and the event was never recorded.
    expect(sanitizeBuckets({ input: 1e20, cache_read: 2 ** 53, output: Number.MAX_SAFE_INTEGER })).toEqual({
      output: Number.MAX_SAFE_INTEGER,
    });
  });
});
