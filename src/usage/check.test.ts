import { describe, expect, it } from 'vitest';
import { buildUsage, checkUsage, MAX_PLAUSIBLE_BUCKET } from './index.js';

describe('checkUsage on buckets', () => {
  it('finds nothing in a sane usage', () => {
    expect(checkUsage({ input: 10, output: 5 })).toEqual([]);
  });

  it('reports negative, fractional, NaN, infinite, non-numeric, absurd and unknown buckets', () => {
    const issues = checkUsage({
      input: -3,
      output: 2.5,
      reasoning: Number.NaN,
      cache_read: Infinity,
      cache_write_5m: '12' as unknown as number,
      input_audio: MAX_PLAUSIBLE_BUCKET + 1,
      ...({ weird: 1 } as object),
    });
    expect(issues).toEqual([
      'input is negative (-3)',
      'output is not an integer (2.5)',
      'reasoning is NaN',
      'cache_read is not finite',
      'cache_write_5m is not a number ("12")',
      'input_audio is implausibly large (10000001 > 10000000)',
      'unknown bucket weird',
    ]);
  });

  it('says a count beyond 2^53 - 1 is taken as 0, and buildUsage drops it', () => {
    expect(checkUsage({ input: 1e20 })).toEqual([
      'input is beyond 2^53 - 1 (100000000000000000000): not an exact count, taken as 0',
    ]);
    expect(buildUsage({ input: 1e20, output: 5 }, { source: 'provider', raw: null }).buckets).toEqual({ output: 5 });
  });
});

describe('checkUsage on raw OpenAI chat usage', () => {
  it('reports cached > prompt and reasoning > completion', () => {
    const raw = {
      prompt_tokens: 100,
      completion_tokens: 10,
      total_tokens: 110,
      prompt_tokens_details: { cached_tokens: 120 },
      completion_tokens_details: { reasoning_tokens: 11 },
    };
    expect(checkUsage({}, raw)).toEqual([
      'prompt_tokens_details.cached_tokens (120) > prompt_tokens (100)',
      'completion_tokens_details.reasoning_tokens (11) > completion_tokens (10)',
    ]);
  });

  it('reports parts that together overshoot, a wrong total and non-numeric fields', () => {
    const raw = {
      prompt_tokens: 100,
      completion_tokens: '7',
      total_tokens: 150,
      prompt_tokens_details: { cached_tokens: 60, audio_tokens: 50 },
      completion_tokens_details: { rejected_prediction_tokens: 3 },
    };
    expect(checkUsage({}, raw)).toEqual([
      'completion_tokens is not a number ("7")',
      'prompt_tokens_details.cached_tokens + prompt_tokens_details.audio_tokens (110) > prompt_tokens (100)',
      'completion_tokens_details.rejected_prediction_tokens (3) > completion_tokens (0)',
      'total_tokens (150) != prompt_tokens + completion_tokens (100)',
    ]);
  });
});

describe('checkUsage on raw Responses and Anthropic usage', () => {
  it('Responses: cached > input, reasoning > output', () => {
    const raw = {
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 20 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 6 },
      total_tokens: 15,
    };
    expect(checkUsage({}, raw)).toEqual([
      'input_tokens_details.cached_tokens (20) > input_tokens (10)',
      'output_tokens_details.reasoning_tokens (6) > output_tokens (5)',
    ]);
  });

  it('Anthropic: the TTL split must add up to the cache writes, thinking must fit in output', () => {
    const raw = {
      input_tokens: 10,
      cache_creation_input_tokens: 100,
      cache_creation: { ephemeral_5m_input_tokens: 30, ephemeral_1h_input_tokens: 20 },
      output_tokens: 5,
      output_tokens_details: { thinking_tokens: 9 },
    };
    expect(checkUsage({}, raw)).toEqual([
      'cache_creation 5m + 1h (50) != cache_creation_input_tokens (100)',
      'output_tokens_details.thinking_tokens (9) > output_tokens (5)',
    ]);
  });

  it('Anthropic: an object with only its cache fields is still checked', () => {
    // Found by usage.fuzz.test.ts: {"cache_read_input_tokens": {}} passed without a finding.
    expect(checkUsage({}, { cache_read_input_tokens: {} })).toEqual(['cache_read_input_tokens is not a number ({})']);
  });
});

describe('buildUsage', () => {
  it('keeps the raw object and the issues, and makes the buckets priceable', () => {
    const raw = { prompt_tokens: -4, completion_tokens: 2 };
    const usage = buildUsage({ input: -4, output: 2 }, { source: 'provider', raw, issues: ['first'] });
    expect(usage).toEqual({
      buckets: { output: 2 },
      source: 'provider',
      raw,
      issues: ['first', 'input is negative (-4)'],
    });
    expect(usage.raw).toBe(raw);
  });
});
