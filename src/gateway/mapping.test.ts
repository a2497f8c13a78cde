import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWireBuffer, type WireFixtureName } from '../../test/fixtures/wire/index.js';
import { sseData, startHarness, startReplayUpstream, type Harness, type ReplayUpstream } from '../testing/harness.js';

/**
 * Recorded provider wire traces replayed through the whole gateway: each case asserts the
 * exclusive buckets and the cost to the nano-USD against a figure computed by hand from the
 * genai-prices@0.1.8 rates (USD per 1M tokens; 1 token at $P/MTok = P × 1000 nano-USD).
 */
interface Case {
  fixture: WireFixtureName;
  path: string;
  body: Record<string, unknown>;
  buckets: Record<string, number>;
  costUsd: string;
  served: string;
}

const CASES: Case[] = [
  {
    // o4-mini: input 1.1, cache_read 0.275, output/reasoning 4.4.
    // prompt 2304 incl. cached 1920 -> input 384; completion 1186 incl. reasoning 1024 -> output 162.
    // 384×1100 + 1920×275 + 162×4400 + 1024×4400 = 422400 + 528000 + 712800 + 4505600 = 6168800
    fixture: 'openai-chat-o-series.json',
    path: '/v1/chat/completions',
    body: { model: 'o4-mini', messages: [{ role: 'user', content: 'Capital of France?' }] },
    buckets: { input: 384, cache_read: 1920, output: 162, reasoning: 1024 },
    costUsd: '0.006168800',
    served: 'o4-mini-2025-04-16',
  },
  {
    // gpt-4o-mini: input 0.15, cache_read 0.075, output 0.6. prompt 1502 incl. cached 1280.
    // 222×150 + 1280×75 + 9×600 = 33300 + 96000 + 5400 = 134700
    fixture: 'openai-chat-stream-usage.sse',
    path: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hi' }] },
    buckets: { input: 222, cache_read: 1280, output: 9 },
    costUsd: '0.000134700',
    served: 'gpt-4o-mini-2024-07-18',
  },
  {
    // gpt-4.1: input 2, output 8. 82×2000 + 17×8000 = 164000 + 136000 = 300000
    fixture: 'openai-chat-stream-tool-call.sse',
    path: '/v1/chat/completions',
    body: { model: 'gpt-4.1', stream: true, messages: [{ role: 'user', content: 'Weather in Paris?' }] },
    buckets: { input: 82, output: 17 },
    costUsd: '0.000300000',
    served: 'gpt-4.1-2025-04-14',
  },
  {
    // gpt-3.5-turbo-instruct: input 1.5, output 2. 5×1500 + 8×2000 = 7500 + 16000 = 23500
    fixture: 'openai-completions.json',
    path: '/v1/completions',
    body: { model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test' },
    buckets: { input: 5, output: 8 },
    costUsd: '0.000023500',
    served: 'gpt-3.5-turbo-instruct',
  },
  {
    fixture: 'openai-completions-stream.sse',
    path: '/v1/completions',
    body: { model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test', stream: true },
    buckets: { input: 5, output: 8 },
    costUsd: '0.000023500',
    served: 'gpt-3.5-turbo-instruct',
  },
  {
    // Responses o4-mini: input_tokens 1320 incl. cached 1152; output 420 incl. reasoning 384.
    // 168×1100 + 1152×275 + 36×4400 + 384×4400 = 184800 + 316800 + 158400 + 1689600 = 2349600
    fixture: 'openai-responses.json',
    path: '/v1/responses',
    body: { model: 'o4-mini', input: 'Summarise the report' },
    buckets: { input: 168, cache_read: 1152, output: 36, reasoning: 384 },
    costUsd: '0.002349600',
    served: 'o4-mini-2025-04-16',
  },
  {
    fixture: 'openai-responses-stream.sse',
    path: '/v1/responses',
    body: { model: 'o4-mini', input: 'Summarise the report', stream: true },
    buckets: { input: 168, cache_read: 1152, output: 36, reasoning: 384 },
    costUsd: '0.002349600',
    served: 'o4-mini-2025-04-16',
  },
  {
    // text-embedding-3-small: 0.02. 12×20 = 240
    fixture: 'openai-embeddings.json',
    path: '/v1/embeddings',
    body: { model: 'text-embedding-3-small', input: 'The food was delicious' },
    buckets: { input: 12 },
    costUsd: '0.000000240',
    served: 'text-embedding-3-small',
  },
  {
    // claude-sonnet-4: input 3, cache_read 0.3, 5m write 3.75, 1h write 6, output 15.
    // input_tokens 21 EXCLUDES cache: 21×3000 + 14250×300 + 1012×3750 + 2000×6000 + 393×15000
    // = 63000 + 4275000 + 3795000 + 12000000 + 5895000 = 26028000
    fixture: 'anthropic-messages-cache.json',
    path: '/v1/messages',
    body: {
      model: 'claude-sonnet-4-20250514',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Termination clause?' }],
    },
    buckets: { input: 21, cache_read: 14250, cache_write_5m: 1012, cache_write_1h: 2000, output: 393 },
    costUsd: '0.026028000',
    served: 'claude-sonnet-4-20250514',
  },
  {
    // claude-sonnet-4-5 below the 200k tier: input 3, cache_read 0.3, output 15. message_delta is
    // cumulative (output 318, not 3 + 318). 472×3000 + 2048×300 + 318×15000 = 1416000 + 614400 + 4770000
    fixture: 'anthropic-stream-thinking.sse',
    path: '/v1/messages',
    body: {
      model: 'claude-sonnet-4-5',
      max_tokens: 2048,
      stream: true,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'Prove it' }],
    },
    buckets: { input: 472, cache_read: 2048, output: 318 },
    costUsd: '0.006800400',
    served: 'claude-sonnet-4-5-20250929',
  },
];

let upstream: ReplayUpstream;
let gateway: Harness;

beforeAll(async () => {
  upstream = await startReplayUpstream((name) => loadWireBuffer(name as WireFixtureName));
  gateway = await startHarness({ upstream: upstream.url });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

async function call(c: Pick<Case, 'fixture' | 'path' | 'body'>, headers: Record<string, string> = {}) {
  const res = await request(`${gateway.url}${c.path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: 'Bearer sk-client',
      'x-replay': c.fixture,
      ...headers,
    },
    body: JSON.stringify(c.body),
  });
  const id = String(res.headers['x-pertoken-request-id']);
  // A broken stream rejects the body; the request id from the headers still finds the event.
  const text = await res.body.text().catch((err: unknown) => `<body failed: ${String(err)}>`);
  return { res, text, id };
}

describe('wire mapping through the gateway', () => {
  it.each(CASES)('$fixture -> exact buckets and $costUsd', async (c) => {
    const { res, text, id } = await call(c);
    expect(res.statusCode).toBe(200);
    // The client gets the upstream's bytes unchanged (usage chunks hidden aside, see below).
    if (c.fixture.endsWith('.json')) {
      expect(text).toBe(loadWireBuffer(c.fixture).toString('utf8'));
      expect(res.headers['x-pertoken-cost-usd']).toBe(c.costUsd);
    }
    const event = await gateway.store.getEvent(id);
    expect(event).not.toBeNull();
    expect(event?.buckets).toEqual(c.buckets);
    expect(event?.cost_nano).toBe(BigInt(c.costUsd.replace('.', '')));
    expect(event?.usage_source).toBe('provider');
    expect(event?.status).toBe('ok');
    expect(event?.model).toBe(c.served);
    expect(event?.requested_model).toBe(c.body.model);
    expect(event?.streamed).toBe(c.body.stream === true);
    expect(event?.price_ref).toMatch(/^genai-prices@0\.1\.8:/);
    expect(event?.raw_usage).toBeTypeOf('object');
  });

  it('hides the usage chunk from a client that did not ask for it, and injects the option upstream', async () => {
    const c = CASES[1] as Case;
    const { text } = await call(c);
    const payloads = sseData(text);
    expect(payloads.at(-1)).toBe('[DONE]');
    expect(payloads.some((d) => d.includes('"usage":{'))).toBe(false);
    const forwarded = JSON.parse(upstream.seen.at(-1)?.body ?? '{}') as {
      stream_options?: { include_usage?: boolean };
    };
    expect(forwarded.stream_options?.include_usage).toBe(true);
    // Everything else arrives byte-for-byte: the original minus exactly the usage event.
    const original = sseData(loadWireBuffer(c.fixture).toString('utf8'));
    expect(payloads).toEqual(original.filter((d) => !d.includes('"usage":{')));
  });

  it('keeps the usage chunk for a client that asked for it', async () => {
    const c = CASES[1] as Case;
    const { text } = await call({ ...c, body: { ...c.body, stream_options: { include_usage: true } } });
    expect(text).toBe(loadWireBuffer(c.fixture).toString('utf8'));
  });

  it('replaces the caller key with the upstream key and drops pertoken headers', async () => {
    await call(CASES[0] as Case, { 'x-pertoken-tenant': 'acme' });
    const seen = upstream.seen.at(-1);
    expect(seen?.headers.authorization).toBe('Bearer sk-upstream-secret');
    expect(seen?.headers['x-pertoken-tenant']).toBeUndefined();
    expect(seen?.headers['accept-encoding']).toBe('identity');
    await call(CASES[8] as Case, { 'x-api-key': 'sk-client' });
    const anthropic = upstream.seen.at(-1);
    expect(anthropic?.headers['x-api-key']).toBe('sk-ant-upstream-secret');
    expect(anthropic?.headers['anthropic-version']).toBe('2023-06-01');
    expect(anthropic?.path).toBe('/v1/messages');
  });

  it('estimates a stream cut mid-event and marks it interrupted, never a silent zero', async () => {
    const { id, text } = await call({
      fixture: 'openai-chat-stream-cut.sse',
      path: '/v1/chat/completions',
      body: {
        model: 'gpt-4o',
        stream: true,
        messages: [{ role: 'user', content: 'Tell me a long story about the sea' }],
      },
    });
    // The client's connection breaks like the upstream's did, instead of a clean end.
    expect(text).toMatch(/^<body failed/);
    const event = await gateway.store.getEvent(id);
    expect(event?.status).toBe('interrupted');
    expect(event?.usage_source).toBe('estimated');
    expect(event?.buckets.input).toBeGreaterThan(0);
    expect(event?.buckets.output).toBeGreaterThan(0);
    expect(event?.cost_nano).toBeGreaterThan(0n);
  });

  it('records an Anthropic error event inside a 200 stream with the provider input and estimated output', async () => {
    const { id } = await call({
      fixture: 'anthropic-stream-error.sse',
      path: '/v1/messages',
      body: {
        model: 'claude-3-5-haiku-latest',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: 'Hi' }],
      },
    });
    const event = await gateway.store.getEvent(id);
    expect(event?.status).toBe('interrupted');
    expect(event?.usage_source).toBe('estimated');
    expect(event?.usage_issues.join(' ')).toMatch(/stream error/);
    expect(event?.buckets.input).toBeGreaterThan(0);
  });
});
