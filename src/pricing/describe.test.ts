import { describe, expect, it } from 'vitest';
import { createPriceBook, describePrices, formatPriceTable, PRICE_SCALE, type PriceOverride } from './index.js';

const V = 'genai-prices@0.1.8';
const at = new Date('2026-02-10T12:00:00Z');
const overrides: PriceOverride[] = [
  { provider: 'openai', model: 'gpt-4o', from: '2026-01-01', discount_pct: 12 },
  { provider: 'acme-vllm', model: 'llama-3.1-8b', from: '2026-01-01', input: 0.05, output: 0.2 },
  { provider: 'acme-vllm', model: 'llama-3.1-8b', from: '2027-01-01', input: 0.04, output: 0.16 },
];
const book = createPriceBook({ overrides });

describe('rates', () => {
  it('gives exact per-bucket rates with the discount beside them', () => {
    const r = book.rates('openai', 'gpt-4o-2024-11-20', at);
    expect(r?.source).toBe('genai-prices');
    expect(r?.price_ref).toBe(`${V}:openai/gpt-4o;discount=12%`);
    expect(r?.discount_pct).toBe('12');
    const byBucket = Object.fromEntries((r?.rates ?? []).map((u) => [u.bucket, [u.scaled, u.per]]));
    // 2.5 USD/MTok × PRICE_SCALE
    expect(byBucket.input).toEqual([(5n * PRICE_SCALE) / 2n, 'mtok']);
    expect(byBucket.cache_read).toEqual([(125n * PRICE_SCALE) / 100n, 'mtok']);
    expect(byBucket.output).toEqual([10n * PRICE_SCALE, 'mtok']);
    // 10 USD per 1000 searches = 0.01 USD per search
    expect(byBucket.web_search).toEqual([PRICE_SCALE / 100n, 'unit']);
  });

  it('picks a tier by input tokens, the highest tier without them (budget worst case)', () => {
    const input = (tokens?: number) =>
      book.rates('anthropic', 'claude-sonnet-4-5', at, tokens)?.rates.find((u) => u.bucket === 'input')?.scaled;
    expect(input(200_000)).toBe(3n * PRICE_SCALE);
    expect(input(200_001)).toBe(6n * PRICE_SCALE);
    expect(input()).toBe(6n * PRICE_SCALE);
    expect(book.rates('anthropic', 'claude-sonnet-4-5', at)?.notes).toContain(
      'rates are the highest tier (worst case); pass inputTokens to choose a tier',
    );
    expect(() => book.rates('anthropic', 'claude-sonnet-4-5', at, -1)).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    );
  });

  it('catalogRates addresses an entry by its own ids, even one its match rules would not pick', () => {
    // Bedrock's regional entry ids do not match their own rules (names carry a region prefix)
    expect(book.rates('aws', 'regional.anthropic.claude-opus-4-5-v1:0', at)).toBeNull();
    const r = book.catalogRates('aws', 'regional.anthropic.claude-opus-4-5-v1:0', at);
    expect(r?.price_ref).toBe(`${V}:aws/regional.anthropic.claude-opus-4-5-v1:0`);
    expect(book.catalogRates('aws', 'no-such-entry', at)).toBeNull();
    expect(book.catalogRates('nope', 'gpt-4o', at)).toBeNull();
    expect(book.rates('github-copilot', 'gpt-4o', at)?.notes[0]).toMatch(/^no prices in this entry/);
  });

  it('is null for an unknown model, and follows override dates', () => {
    expect(book.rates('openai', 'no-such-model', at)).toBeNull();
    expect(book.rates('acme-vllm', 'llama-3.1-8b', new Date('2025-12-31T00:00:00Z'))).toBeNull();
    expect(book.rates('acme-vllm', 'llama-3.1-8b', new Date('2027-01-01T00:00:00Z'))?.price_ref).toBe(
      'override:acme-vllm/llama-3.1-8b@2027-01-01',
    );
  });
});

describe('describePrices', () => {
  it('one provider and model: its list prices, discount and source', async () => {
    const rows = await describePrices(book, { provider: 'openai', model: 'gpt-4o', at });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o',
      source: 'genai-prices',
      prices: {
        input: '2.5',
        cache_read: '1.25',
        output: '10',
        reasoning: '10',
        web_search: '0.01',
        input_image: '2.5',
      },
      discount_pct: '12',
      price_ref: `${V}:openai/gpt-4o;discount=12%`,
    });
    expect(rows[0]?.notes).toContain('override prices[0] gpt-4o from 2026-01-01: discount 12% (in effect)');
  });

  it('notes daily windows, tiers and dated changes', async () => {
    const [deepseek] = await describePrices(book, { provider: 'deepseek', model: 'deepseek-chat', at });
    expect(deepseek?.prices.input).toBe('0.27');
    expect(deepseek?.notes).toEqual([
      'otherwise: input 0.135, cache_read 0.035, output 0.55',
      'daily 00:30:00Z-16:30:00Z (UTC): input 0.27, cache_read 0.07, output 1.1 (in effect)',
    ]);
    const [sonnet] = await describePrices(book, { provider: 'anthropic', model: 'claude-sonnet-4-6', at });
    expect(sonnet?.prices.input).toBe('3');
    expect(sonnet?.notes).toContain(
      'above 200000 input tokens per request (cached included), every token is priced at: input 6, cache_read 0.6, cache_write_5m 7.5, cache_write_1h 12, output 22.5',
    );
    expect(sonnet?.notes).toContain('from 2026-03-13: input 3, cache_read 0.3, output 15');
  });

  it('a model alone: every provider that prices it, overrides included', async () => {
    const rows = await describePrices(book, { model: 'llama-3.1-8b', at });
    const acme = rows.find((r) => r.provider === 'acme-vllm');
    expect(acme).toMatchObject({
      source: 'override',
      prices: { input: '0.05', output: '0.2' },
      price_ref: 'override:acme-vllm/llama-3.1-8b@2026-01-01',
    });
    expect(acme?.notes).toContain(
      'override prices[2] llama-3.1-8b from 2027-01-01: sets prices (not in effect on 2026-02-10)',
    );
    const gpt = await describePrices(book, { model: 'gpt-4o', at });
    expect(gpt.map((r) => r.provider)).toContain('openai');
  });

  it('a model glob lists matching catalogue ids and override models', async () => {
    const rows = await describePrices(book, { provider: 'openai', model: 'gpt-4o-mini*', at });
    expect(rows.map((r) => r.model)).toEqual(expect.arrayContaining(['gpt-4o-mini', 'gpt-4o-mini-tts']));
    expect(rows.every((r) => r.provider === 'openai' && r.model.startsWith('gpt-4o-mini'))).toBe(true);
    expect((await describePrices(book, { model: 'LLAMA-3.1*', at })).map((r) => r.provider)).toContain('acme-vllm');
    expect(await describePrices(book, { model: 'no-such-*', at })).toEqual([]);
  });

  it('a provider alone: its catalogue', async () => {
    const rows = await describePrices(book, { provider: 'deepseek', at });
    expect(rows.length).toBeGreaterThan(3);
    expect(rows.every((r) => r.provider === 'deepseek' && r.source === 'genai-prices')).toBe(true);
  });

  it('everything: every catalogue entry reads cleanly, at dates across its price changes', async () => {
    for (const when of ['2025-01-01T02:00:00Z', '2026-09-01T07:00:00Z', '2027-06-01T20:00:00Z']) {
      const rows = await describePrices(book, { at: new Date(when) });
      expect(rows.length).toBeGreaterThan(1600);
      expect(rows.every((r) => r.price_ref !== null && r.source !== 'none')).toBe(true);
      // the acme overrides start in 2026
      expect(rows.some((r) => r.source === 'override')).toBe(when >= '2026');
    }
  });

  it('an unknown model yields one row saying why', async () => {
    expect(await describePrices(book, { provider: 'openai', model: 'gpt-nope', at })).toEqual([
      {
        provider: 'openai',
        model: 'gpt-nope',
        source: 'none',
        prices: {},
        discount_pct: null,
        price_ref: null,
        notes: [`unknown model "gpt-nope" for provider "openai": not in ${V} and no price override`],
      },
    ]);
    const [row] = await describePrices(book, { model: 'gpt-nope', at });
    expect(row?.notes).toEqual([`no provider in ${V} or the overrides prices "gpt-nope"`]);
  });

  it('formats a plain-text table with notes under their row', async () => {
    const rows = await describePrices(book, { provider: 'acme-vllm', at });
    const text = formatPriceTable(rows);
    expect(text.split('\n')).toEqual([
      'USD per 1M tokens; requests, web_search and tool_calls USD per call; list prices before discount',
      'provider   model         input  input_image  output  reasoning  source',
      'acme-vllm  llama-3.1-8b   0.05         0.05     0.2        0.2  override:acme-vllm/llama-3.1-8b@2026-01-01',
      '    - override prices[1] llama-3.1-8b from 2026-01-01: sets prices (in effect)',
      '    - override prices[2] llama-3.1-8b from 2027-01-01: sets prices (not in effect on 2026-02-10)',
      '',
    ]);
    expect(formatPriceTable([])).toBe('no prices\n');
  });
});
