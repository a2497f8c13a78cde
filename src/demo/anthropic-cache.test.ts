import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from './index.js';
import { PromptCache } from './prompt-cache.js';
import { postJson } from './testing/client.js';
import type { AnthropicMessage } from './testing/wire.js';

/** Anthropic caching only at cache_control breakpoints: write first, read while the TTL lasts. */

const HEADERS = { 'anthropic-version': '2023-06-01', 'x-api-key': 'demo' };
const EPHEMERAL = { type: 'ephemeral' };
const block = (chars: number, fill: string, cache?: unknown): Record<string, unknown> => ({
  type: 'text',
  text: fill.repeat(chars),
  ...(cache ? { cache_control: cache } : {}),
});

let now = 0;
const cache = new PromptCache({ now: () => now });
let up: DemoUpstream;
beforeAll(async () => {
  up = await startDemoUpstream({ seed: 4, ttftMs: 0, itlMs: 0, maxOutputTokens: 3, promptCache: cache });
});
afterAll(() => up.close());
beforeEach(() => {
  up.promptCache.reset();
  now = 0;
});

const send = async (body: Record<string, unknown>): Promise<{ status: number; message: AnthropicMessage }> => {
  const res = await postJson(`${up.url}/v1/messages`, { model: 'claude-sonnet-4-0', max_tokens: 50, ...body }, HEADERS);
  return { status: res.status, message: res.json as AnthropicMessage };
};
const usageOf = async (body: Record<string, unknown>): Promise<AnthropicMessage['usage']> =>
  (await send(body)).message.usage;

const question = (text: string): unknown[] => [{ role: 'user', content: text }];

describe('Anthropic prompt cache', () => {
  it('writes at a breakpoint the first time and reads it on the next request', async () => {
    const system = [block(800, 'S', EPHEMERAL)]; // 200 tokens
    expect(await usageOf({ system, messages: question('first question') })).toMatchObject({
      input_tokens: 4,
      cache_creation_input_tokens: 200,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 0 },
    });
    expect(await usageOf({ system, messages: question('another one') })).toMatchObject({
      input_tokens: 3,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 200,
    });
  });

  it('never caches without a breakpoint, however often the prompt repeats', async () => {
    const body = { system: [block(4000, 'N')], messages: question('hi') };
    for (let i = 0; i < 2; i++) {
      expect(await usageOf(body)).toMatchObject({
        input_tokens: 1001,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      });
    }
  });

  it('does not read a prefix that differs before the breakpoint, nor one of another model', async () => {
    await usageOf({ system: [block(400, 'A', EPHEMERAL)], messages: question('q') });
    expect(await usageOf({ system: [block(400, 'B', EPHEMERAL)], messages: question('q') })).toMatchObject({
      cache_creation_input_tokens: 100,
      cache_read_input_tokens: 0,
    });
    const other = { model: 'claude-opus-4-0', system: [block(400, 'A', EPHEMERAL)], messages: question('q') };
    expect(await usageOf(other)).toMatchObject({ cache_creation_input_tokens: 100, cache_read_input_tokens: 0 });
  });

  it('expires a 5m entry after five idle minutes but keeps a 1h one, each read refreshing its TTL', async () => {
    const short = { system: [block(400, 'F', EPHEMERAL)], messages: question('q') };
    const long = { system: [block(400, 'H', { type: 'ephemeral', ttl: '1h' })], messages: question('q') };
    await usageOf(short);
    expect((await usageOf(long))?.cache_creation).toEqual({
      ephemeral_5m_input_tokens: 0,
      ephemeral_1h_input_tokens: 100,
    });
    now += 240_000;
    expect((await usageOf(short))?.cache_read_input_tokens).toBe(100); // read at 4 min: refreshed
    now += 240_000;
    expect((await usageOf(short))?.cache_read_input_tokens).toBe(100);
    now += 300_000;
    expect(await usageOf(short)).toMatchObject({ cache_read_input_tokens: 0, cache_creation_input_tokens: 100 });
    expect((await usageOf(long))?.cache_read_input_tokens).toBe(100);
  });

  it('reads the earlier prefix and writes only the new part when the breakpoint moves forward', async () => {
    // A growing conversation moves its breakpoint to the newest turn each time.
    const turn1 = [{ role: 'user', content: [block(400, 'a', EPHEMERAL)] }];
    await usageOf({ messages: turn1 });
    const turn2 = [
      { role: 'user', content: [block(400, 'a')] },
      { role: 'assistant', content: [block(40, 'b')] },
      { role: 'user', content: [block(80, 'c', EPHEMERAL)] },
    ];
    expect(await usageOf({ messages: turn2 })).toMatchObject({
      input_tokens: 0,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 30,
    });
  });

  it('splits a write by TTL and reads across 1h and 5m breakpoints', async () => {
    const system = [block(400, 'T', { type: 'ephemeral', ttl: '1h' }), block(200, 'U', EPHEMERAL)];
    expect(await usageOf({ system, messages: question('q') })).toMatchObject({
      cache_creation_input_tokens: 150,
      cache_creation: { ephemeral_5m_input_tokens: 50, ephemeral_1h_input_tokens: 100 },
    });
    // The 5m part lapses; the 1h part is read and only the 5m part written again.
    now += 301_000;
    expect(await usageOf({ system, messages: question('q') })).toMatchObject({
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 50,
      cache_creation: { ephemeral_5m_input_tokens: 50, ephemeral_1h_input_tokens: 0 },
    });
  });

  it('rejects more than 4 breakpoints like Anthropic', async () => {
    const system = Array.from({ length: 5 }, (_, i) => block(8, String(i), EPHEMERAL));
    const res = await send({ system, messages: question('q') });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.message)).toContain('A maximum of 4 blocks with cache_control may be provided. Found 5.');
  });

  it('streams the same cache usage in message_start', async () => {
    const system = [block(400, 'M', EPHEMERAL)];
    await usageOf({ system, messages: question('q') });
    const res = await postJson(
      `${up.url}/v1/messages`,
      { model: 'claude-sonnet-4-0', max_tokens: 50, stream: true, system, messages: question('q') },
      HEADERS,
    );
    const start = res.text.split('\n').find((line) => line.startsWith('data: {"type":"message_start"'));
    expect(start).toContain('"cache_read_input_tokens":100');
    expect(start).toContain('"cache_creation_input_tokens":0');
  });
});
