import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPriceBook } from '../pricing/index.js';
import { countFieldArb, fuzzParameters, isCount } from '../testing/fuzz.js';
import { BUCKETS, MAX_PLAUSIBLE_BUCKET, TOKEN_BUCKETS, type Buckets, type Usage } from '../usage/index.js';
import { anthropicUsage, openaiChatUsage, openaiEmbeddingsUsage, openaiResponsesUsage } from './index.js';

/**
 * Provider usage objects -> canonical exclusive buckets, for every wire (DESIGN §4), then priced:
 * sane objects map to buckets that add up to what the provider billed; any object at all (huge,
 * negative, fractional, mistyped counts) maps to non-negative safe integers, never more tokens
 * than the provider's totals, with the oddity flagged; and the lines of a price add up to its cost.
 */

const RUNS = 200;
const book = createPriceBook();

/** A sane split: parts of a total that add up to at most the total. */
const split = (parts: number) =>
  fc
    .tuple(fc.nat({ max: 2_000_000 }), fc.array(fc.nat({ max: 2_000_000 }), { minLength: parts, maxLength: parts }))
    .map(([extra, list]) => ({ total: list.reduce((a, b) => a + b, 0) + extra, parts: list }));

/** Omits a field now and then: a provider may leave any of them out. */
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 4 });

const without = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** A count as the mapping should read a field: only a non-negative safe number counts. */
const sane = (v: unknown): bigint =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= Number.MAX_SAFE_INTEGER ? BigInt(Math.round(v)) : 0n;

/** Token buckets summed exactly (counts near 2^53 add up past what a double holds). */
const tokens = (buckets: Buckets): bigint => TOKEN_BUCKETS.reduce((sum, b) => sum + BigInt(buckets[b] ?? 0), 0n);

/**
 * A billed total (prompt, completion, input, output…) that is absent, null or a plausible count
 * raises no issue; anything else must be flagged. Details are capped by their totals, so a detail
 * field is only billed through its total.
 */
const odd = (v: unknown): boolean =>
  v !== undefined &&
  v !== null &&
  !(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_PLAUSIBLE_BUCKET);

function expectCanonical(usage: Usage | null): Buckets {
  expect(usage).not.toBeNull();
  const buckets = (usage as Usage).buckets;
  for (const [name, value] of Object.entries(buckets)) {
    expect(BUCKETS as readonly string[]).toContain(name);
    expect(isCount(value), `${name} = ${String(value)}`).toBe(true);
    expect(value).toBeGreaterThan(0); // normalized: zeros are dropped
  }
  return buckets;
}

function expectPricedExactly(buckets: Buckets, provider: string, model: string): void {
  const result = book.price({ provider, model, at: new Date('2026-03-01T12:00:00Z'), buckets });
  if (result.cost_nano === null) {
    expect(result.lines).toEqual([]);
    expect(result.unpriced_reason).toEqual(expect.any(String));
    return;
  }
  expect(typeof result.cost_nano).toBe('bigint');
  expect(result.cost_nano).toBeGreaterThanOrEqual(0n);
  expect(result.lines.reduce((sum, line) => sum + line.cost_nano, 0n)).toBe(result.cost_nano);
  for (const line of result.lines) {
    expect(typeof line.cost_nano).toBe('bigint');
    expect(line.cost_nano).toBeGreaterThanOrEqual(0n);
    expect(line.quantity).toBe(buckets[line.bucket] ?? 1);
  }
}

describe('OpenAI chat / completions usage', () => {
  const saneUsage = fc.record({ prompt: split(2), completion: split(2) });

  it('sane usage: exclusive buckets that add up to prompt + completion, no issue, priced exactly', () => {
    fc.assert(
      fc.property(saneUsage, fc.constantFrom('gpt-4o-mini', 'o4-mini', 'gpt-4o-audio-preview'), (u, model) => {
        const raw = {
          prompt_tokens: u.prompt.total,
          completion_tokens: u.completion.total,
          total_tokens: u.prompt.total + u.completion.total,
          prompt_tokens_details: { cached_tokens: u.prompt.parts[0], audio_tokens: u.prompt.parts[1] },
          completion_tokens_details: { reasoning_tokens: u.completion.parts[0], audio_tokens: u.completion.parts[1] },
        };
        const usage = openaiChatUsage(raw);
        const buckets = expectCanonical(usage);
        expect(usage?.issues).toEqual([]);
        expect(tokens(buckets)).toBe(BigInt(raw.total_tokens));
        expect(buckets.cache_read ?? 0).toBe(u.prompt.parts[0]);
        expect(buckets.reasoning ?? 0).toBe(u.completion.parts[0]);
        expectPricedExactly(buckets, 'openai', model);
      }),
      fuzzParameters(RUNS),
    );
  });

  const anyUsage = fc.record({
    prompt_tokens: maybe(countFieldArb),
    completion_tokens: maybe(countFieldArb),
    total_tokens: maybe(countFieldArb),
    prompt_tokens_details: maybe(
      fc.record({ cached_tokens: maybe(countFieldArb), audio_tokens: maybe(countFieldArb) }),
    ),
    completion_tokens_details: maybe(
      fc.record({
        reasoning_tokens: maybe(countFieldArb),
        audio_tokens: maybe(countFieldArb),
        rejected_prediction_tokens: maybe(countFieldArb),
      }),
    ),
  });

  it('any usage: safe counts, never more than the totals, oddities flagged', () => {
    fc.assert(
      fc.property(anyUsage, (u) => {
        const raw = without(u);
        const usage = openaiChatUsage(raw);
        const buckets = expectCanonical(usage);
        expect(tokens(buckets)).toBeLessThanOrEqual(sane(raw.prompt_tokens) + sane(raw.completion_tokens));
        if ([raw.prompt_tokens, raw.completion_tokens].some(odd)) expect(usage?.issues.length).toBeGreaterThan(0);
        expectPricedExactly(buckets, 'openai', 'gpt-4o');
      }),
      fuzzParameters(RUNS),
    );
  });
});

describe('OpenAI Responses usage', () => {
  it('sane usage: input + output billed exactly once, web search per call', () => {
    fc.assert(
      fc.property(split(1), split(1), fc.nat({ max: 5 }), (input, output, searches) => {
        const raw = {
          input_tokens: input.total,
          output_tokens: output.total,
          total_tokens: input.total + output.total,
          input_tokens_details: { cached_tokens: input.parts[0] },
          output_tokens_details: { reasoning_tokens: output.parts[0] },
        };
        const usage = openaiResponsesUsage(raw, searches);
        const buckets = expectCanonical(usage);
        expect(usage?.issues).toEqual([]);
        expect(tokens(buckets)).toBe(BigInt(raw.total_tokens));
        expect(buckets.web_search ?? 0).toBe(searches);
        expectPricedExactly(buckets, 'openai', 'o4-mini');
      }),
      fuzzParameters(RUNS),
    );
  });

  it('any usage: safe counts, never more than the totals, oddities flagged', () => {
    const anyUsage = fc.record({
      input_tokens: maybe(countFieldArb),
      output_tokens: maybe(countFieldArb),
      total_tokens: maybe(countFieldArb),
      input_tokens_details: maybe(fc.record({ cached_tokens: maybe(countFieldArb) })),
      output_tokens_details: maybe(fc.record({ reasoning_tokens: maybe(countFieldArb) })),
    });
    fc.assert(
      fc.property(anyUsage, (u) => {
        const raw = without(u);
        const usage = openaiResponsesUsage(raw);
        const buckets = expectCanonical(usage);
        expect(tokens(buckets)).toBeLessThanOrEqual(sane(raw.input_tokens) + sane(raw.output_tokens));
        if ([raw.input_tokens, raw.output_tokens].some(odd)) expect(usage?.issues.length).toBeGreaterThan(0);
        expectPricedExactly(buckets, 'openai', 'gpt-4o');
      }),
      fuzzParameters(RUNS),
    );
  });
});

describe('OpenAI embeddings usage', () => {
  it('any usage: all of it is input, as a safe count', () => {
    fc.assert(
      fc.property(fc.record({ prompt_tokens: maybe(countFieldArb), total_tokens: maybe(countFieldArb) }), (u) => {
        const raw = without(u);
        const buckets = expectCanonical(openaiEmbeddingsUsage(raw));
        expect(Object.keys(buckets).filter((b) => b !== 'input')).toEqual([]);
        const billed = raw.prompt_tokens !== undefined ? raw.prompt_tokens : raw.total_tokens;
        expect(BigInt(buckets.input ?? 0)).toBe(sane(billed));
        expectPricedExactly(buckets, 'openai', 'text-embedding-3-small');
      }),
      fuzzParameters(RUNS),
    );
  });
});

describe('Anthropic usage', () => {
  it('sane usage: input, cache read, 5m/1h writes and output are disjoint and add up', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2_000_000 }),
        fc.nat({ max: 2_000_000 }),
        split(1),
        split(1),
        fc.nat({ max: 3 }),
        fc.constantFrom('claude-sonnet-4-5', 'claude-opus-4-1', 'claude-3-5-haiku-latest'),
        (input, cacheRead, writes, output, searches, model) => {
          const raw = {
            input_tokens: input,
            cache_read_input_tokens: cacheRead,
            cache_creation_input_tokens: writes.total,
            cache_creation: {
              ephemeral_5m_input_tokens: writes.total - (writes.parts[0] ?? 0),
              ephemeral_1h_input_tokens: writes.parts[0],
            },
            output_tokens: output.total,
            output_tokens_details: { thinking_tokens: output.parts[0] },
            server_tool_use: { web_search_requests: searches },
          };
          const usage = anthropicUsage(raw);
          const buckets = expectCanonical(usage);
          expect(usage?.issues).toEqual([]);
          expect(tokens(buckets)).toBe(BigInt(input + cacheRead + writes.total + output.total));
          expect(buckets.cache_write_1h ?? 0).toBe(writes.parts[0]);
          expect(buckets.web_search ?? 0).toBe(searches);
          expectPricedExactly(buckets, 'anthropic', model);
        },
      ),
      fuzzParameters(RUNS),
    );
  });

  it('any usage: safe counts, never more than the totals, oddities flagged', () => {
    const anyUsage = fc.record({
      input_tokens: maybe(countFieldArb),
      output_tokens: maybe(countFieldArb),
      cache_read_input_tokens: maybe(countFieldArb),
      cache_creation_input_tokens: maybe(countFieldArb),
      cache_creation: maybe(
        fc.record({ ephemeral_5m_input_tokens: maybe(countFieldArb), ephemeral_1h_input_tokens: maybe(countFieldArb) }),
      ),
      output_tokens_details: maybe(fc.record({ thinking_tokens: maybe(countFieldArb) })),
      server_tool_use: maybe(fc.record({ web_search_requests: maybe(countFieldArb) })),
    });
    fc.assert(
      fc.property(anyUsage, (u) => {
        const raw = without(u);
        const usage = anthropicUsage(raw);
        const buckets = expectCanonical(usage);
        const billed =
          sane(raw.input_tokens) +
          sane(raw.cache_read_input_tokens) +
          sane(raw.cache_creation_input_tokens) +
          sane(raw.output_tokens);
        expect(tokens(buckets)).toBeLessThanOrEqual(billed);
        const fields = [
          raw.input_tokens,
          raw.output_tokens,
          raw.cache_read_input_tokens,
          raw.cache_creation_input_tokens,
        ];
        if (fields.some(odd)) expect(usage?.issues.length).toBeGreaterThan(0);
        expectPricedExactly(buckets, 'anthropic', 'claude-sonnet-4-5');
      }),
      fuzzParameters(RUNS),
    );
  });
});
