import { describe, expect, it } from 'vitest';
import { formatResetDuration, rateLimitHeaders, type RateState } from './index.js';

function state(key: string, limit: number, used: number, resetMs: number): RateState {
  return { key, limit, windowMs: 60_000, used, remaining: Math.max(0, limit - used), resetMs };
}

describe('rate limit headers', () => {
  it('formats reset durations the way OpenAI does', () => {
    expect(formatResetDuration(0)).toBe('0ms');
    expect(formatResetDuration(20)).toBe('20ms');
    expect(formatResetDuration(19.2)).toBe('20ms');
    expect(formatResetDuration(1_000)).toBe('1s');
    expect(formatResetDuration(1_500)).toBe('1.5s');
    expect(formatResetDuration(8_640)).toBe('8.64s');
    expect(formatResetDuration(360_000)).toBe('6m0s');
    expect(formatResetDuration(179_560)).toBe('2m59.56s');
    expect(formatResetDuration(3_723_000)).toBe('1h2m3s');
    expect(formatResetDuration(-5)).toBe('0ms');
  });

  it('reports the tightest of several limits per kind', () => {
    const headers = rateLimitHeaders({
      requests: [state('rpm:key', 60, 10, 30_000), state('rpm:tenant', 1_000, 995, 12_000)],
      tokens: [state('tpm:key', 100_000, 40_000, 59_000), state('tpm:project', 50_000, 10_000, 59_500)],
    });
    expect(headers).toEqual({
      'x-ratelimit-limit-requests': '1000',
      'x-ratelimit-remaining-requests': '5',
      'x-ratelimit-reset-requests': '12s',
      'x-ratelimit-limit-tokens': '50000',
      'x-ratelimit-remaining-tokens': '40000',
      'x-ratelimit-reset-tokens': '59.5s',
    });
  });

  it('breaks ties on remaining by the longer reset', () => {
    const headers = rateLimitHeaders({ requests: [state('a', 10, 10, 1_000), state('b', 20, 20, 5_000)] });
    expect(headers['x-ratelimit-limit-requests']).toBe('20');
    expect(headers['x-ratelimit-reset-requests']).toBe('5s');
  });

  it('adds retry-after (whole seconds, at least 1) and retry-after-ms on a refusal', () => {
    expect(rateLimitHeaders({ retryAfterMs: 1_200 })).toEqual({ 'retry-after': '2', 'retry-after-ms': '1200' });
    expect(rateLimitHeaders({ retryAfterMs: 30 })).toEqual({ 'retry-after': '1', 'retry-after-ms': '30' });
    expect(rateLimitHeaders({ retryAfterMs: null })).toEqual({});
    expect(rateLimitHeaders({})).toEqual({});
  });
});
