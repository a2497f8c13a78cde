import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from './index.js';
import { openaiPrefixes } from './openai-common.js';
import { PromptCache } from './prompt-cache.js';
import { postJson } from './testing/client.js';
import type { ChatCompletion, ResponseBody } from './testing/wire.js';

/** A prompt of exactly `tokens` demo tokens (4 characters each), distinct per `fill`. */
const text = (tokens: number, fill = 'x'): string => fill.repeat(4 * tokens);

describe('PromptCache', () => {
  it('forgets the least recently used prefix beyond its bound', () => {
    const cache = new PromptCache({ maxEntries: 2 });
    cache.remember('a', 1000);
    cache.remember('b', 1000);
    expect(cache.has('a')).toBe(true);
    cache.remember('a', 1000); // refreshed: b is now the oldest
    cache.remember('c', 1000);
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([true, false, true]);
    expect(cache.size).toBe(2);
  });

  it('expires by its injected clock, keeps the longer of two TTLs, and resets', () => {
    let now = 0;
    const cache = new PromptCache({ now: () => now });
    cache.remember('long', 3_600_000);
    cache.remember('long', 300_000); // a 5m refresh never shortens a 1h entry
    cache.remember('short', 300_000);
    now = 300_000;
    expect(cache.has('short')).toBe(false);
    expect(cache.has('long')).toBe(true);
    cache.reset();
    expect(cache.has('long')).toBe(false);
    expect(cache.size).toBe(0);
  });
});

describe('openaiPrefixes', () => {
  it('takes one key per 128 tokens from 1024, across segment boundaries', () => {
    const prefixes = openaiPrefixes('gpt-4o', [text(1000), text(300)]);
    expect(prefixes.map((p) => p.tokens)).toEqual([1024, 1152, 1280]);
    expect(openaiPrefixes('gpt-4o', [text(1023)])).toEqual([]);
  });

  it('gives equal keys exactly when the first N tokens agree', () => {
    const a = openaiPrefixes('gpt-4o', [text(1100) + text(200, 'a')]);
    const b = openaiPrefixes('gpt-4o', [text(1100) + text(200, 'b')]);
    expect(a[0]?.key).toBe(b[0]?.key); // 1024 tokens in common
    expect(a[1]?.key).not.toBe(b[1]?.key); // 1152 reaches into the difference
    const split = openaiPrefixes('gpt-4o', [text(1000), text(300)]);
    expect(split[0]?.key).not.toBe(openaiPrefixes('gpt-4o', [text(1300)])[0]?.key); // message boundary differs
    expect(openaiPrefixes('gpt-4o-mini', [text(1300)])[0]?.key).not.toBe(a[0]?.key); // caches are per model
  });
});

describe('OpenAI cached tokens over the wire', () => {
  let now = 0;
  const cache = new PromptCache({ now: () => now });
  let up: DemoUpstream;
  beforeAll(async () => {
    up = await startDemoUpstream({ seed: 3, ttftMs: 0, itlMs: 0, maxOutputTokens: 4, promptCache: cache });
  });
  afterAll(() => up.close());
  beforeEach(() => {
    up.promptCache.reset();
    now = 0;
  });

  const chat = async (content: string, extra: Record<string, unknown> = {}): Promise<ChatCompletion['usage']> => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra };
    return ((await postJson(`${up.url}/v1/chat/completions`, body)).json as ChatCompletion).usage;
  };

  it('exposes the injected cache', () => {
    expect(up.promptCache).toBe(cache);
  });

  it('reports 0 for a never-seen prompt, then the longest 128-step prefix seen before', async () => {
    expect((await chat(text(1300))).prompt_tokens_details.cached_tokens).toBe(0);
    expect((await chat(text(1300))).prompt_tokens_details.cached_tokens).toBe(1280);
    // Same first 1200 tokens, then different: the 1152-token prefix is shared, 1280 is not.
    const usage = await chat(text(1200) + text(400, 'z'));
    expect(usage.prompt_tokens).toBe(1600);
    expect(usage.prompt_tokens_details.cached_tokens).toBe(1152);
    // That request remembered its own prefixes: repeating it reads them all.
    expect((await chat(text(1200) + text(400, 'z'))).prompt_tokens_details.cached_tokens).toBe(1536);
  });

  it('never caches a prompt under 1024 tokens, however often it is sent', async () => {
    for (let i = 0; i < 3; i++) expect((await chat(text(1023))).prompt_tokens_details.cached_tokens).toBe(0);
  });

  it('misses when the tools (the start of the cached prompt) change', async () => {
    const tool = (name: string): unknown => ({ type: 'function', function: { name, parameters: { type: 'object' } } });
    const question = [{ role: 'user', content: text(1300) }];
    const send = async (name: string): Promise<number> => {
      const body = { model: 'gpt-4o', messages: question, tools: [tool(name)], tool_choice: 'none' };
      const res = (await postJson(`${up.url}/v1/chat/completions`, body)).json as ChatCompletion;
      return res.usage.prompt_tokens_details.cached_tokens;
    };
    expect(await send('alpha')).toBe(0);
    expect(await send('alpha')).toBe(1280);
    expect(await send('bravo')).toBe(0);
  });

  it('forgets a prefix after 10 idle minutes, or after 24h with prompt_cache_retention', async () => {
    await chat(text(1100));
    await chat(text(1100, 'r'), { prompt_cache_retention: '24h' });
    now += 10 * 60_000;
    expect((await chat(text(1100))).prompt_tokens_details.cached_tokens).toBe(0);
    expect((await chat(text(1100, 'r'))).prompt_tokens_details.cached_tokens).toBe(1024);
  });

  it('caches Responses API input the same way, and reset() empties the memory', async () => {
    const responses = async (): Promise<number> => {
      const body = { model: 'gpt-4o', instructions: text(100, 'i'), input: [{ role: 'user', content: text(1200) }] };
      const res = (await postJson(`${up.url}/v1/responses`, body)).json as ResponseBody;
      return res.usage?.input_tokens_details.cached_tokens ?? -1;
    };
    expect(await responses()).toBe(0);
    expect(await responses()).toBe(1280);
    up.promptCache.reset();
    expect(await responses()).toBe(0);
  });
});
