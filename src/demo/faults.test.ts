import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { parseFaults, startDemoUpstream, type DemoUpstream, type FaultContext } from './index.js';
import { dataOf, eventually, openSse, postJson, postSse } from './testing/client.js';
import { nth, type AnthropicEvent, type ChatChunk, type ResponsesEvent } from './testing/wire.js';

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }] };
const CHAT_STREAM = { ...CHAT, stream: true, stream_options: { include_usage: true } };
const ANTHROPIC = { model: 'claude-sonnet-4-0', max_tokens: 100, messages: [{ role: 'user', content: 'hello there' }] };

let up: DemoUpstream;
beforeAll(async () => {
  up = await startDemoUpstream({ seed: 3, ttftMs: 0, itlMs: 0, maxOutputTokens: 6 });
});
afterAll(() => up.close());

const chatUrl = (): string => `${up.url}/v1/chat/completions`;
const fault = (spec: string): Record<string, string> => ({ 'x-demo-fault': spec });
const contentChunks = (chunks: ChatChunk[]): number => chunks.filter((c) => c.choices[0]?.delta.content).length;

describe('parseFaults', () => {
  it('parses single and combined specs', () => {
    expect(parseFaults('slow-headers:300, cut-after:2')).toMatchObject({
      slowHeadersMs: 300,
      cutAfter: 2,
      reset: false,
    });
    expect(parseFaults(['reset', 'no-usage', 'broken-sse', 'stall-after:0', 'status:529'])).toEqual({
      reset: true,
      noUsage: true,
      brokenSse: true,
      cutAfter: null,
      stallAfter: 0,
      status: 529,
      slowHeadersMs: 0,
    });
    expect(parseFaults('none')).toMatchObject({ status: null, cutAfter: null });
  });

  it('rejects unknown names, missing or negative numbers and out-of-range statuses', () => {
    for (const spec of [
      'explode',
      'cut-after',
      'cut-after:-1',
      'cut-after:x',
      'status:99',
      'status:600',
      'slow-headers:1.5',
    ]) {
      expect(() => parseFaults(spec)).toThrow(PertokenError);
    }
  });

  it('answers an invalid x-demo-fault header with a provider-shaped 400', async () => {
    const openai = await postJson(chatUrl(), CHAT, fault('explode'));
    expect(openai.status).toBe(400);
    expect(openai.json).toMatchObject({ error: { type: 'invalid_request_error', param: 'x-demo-fault' } });
    const anthropic = await postJson(`${up.url}/v1/messages`, ANTHROPIC, fault('cut-after:x'));
    expect(anthropic.status).toBe(400);
    expect(anthropic.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });
});

describe('cut-after:N', () => {
  it('destroys a stream after N content chunks: no finish, no usage, no [DONE]', async () => {
    const res = await postSse(chatUrl(), CHAT_STREAM, fault('cut-after:3'));
    expect(res.status).toBe(200);
    expect(res.error).not.toBeNull();
    const chunks = dataOf(res.events) as unknown as ChatChunk[];
    expect(chunks).toHaveLength(1 + 3); // role chunk + 3 content chunks
    expect(contentChunks(chunks)).toBe(3);
    expect(res.events.some((e) => e.data === '[DONE]')).toBe(false);
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  it('cuts after the last content chunk when N exceeds the chunk count', async () => {
    const res = await postSse(chatUrl(), CHAT_STREAM, fault('cut-after:1000'));
    const chunks = dataOf(res.events) as unknown as ChatChunk[];
    expect(contentChunks(chunks)).toBe(6);
    expect(chunks.some((c) => c.choices[0]?.finish_reason)).toBe(false);
    expect(res.events.some((e) => e.data === '[DONE]')).toBe(false);
    expect(res.error).not.toBeNull();
  });

  it('cuts an Anthropic stream before message_delta and a Responses stream before response.completed', async () => {
    const anthropic = await postSse(`${up.url}/v1/messages`, { ...ANTHROPIC, stream: true }, fault('cut-after:2'));
    expect(anthropic.events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
    ]);
    expect(anthropic.error).not.toBeNull();
    const responses = await postSse(
      `${up.url}/v1/responses`,
      { model: 'gpt-4o', input: 'x', stream: true },
      fault('cut-after:1'),
    );
    expect(responses.events.map((e) => e.event).at(-1)).toBe('response.output_text.delta');
    expect(responses.error).not.toBeNull();
  });

  it('sends only the first N bytes of a non-stream body, then destroys the socket', async () => {
    const res = await request(chatUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...fault('cut-after:10') },
      body: JSON.stringify(CHAT),
    });
    expect(res.statusCode).toBe(200);
    expect(Number(res.headers['content-length'])).toBeGreaterThan(10);
    const received: Buffer[] = [];
    await expect(
      (async () => {
        for await (const chunk of res.body) received.push(chunk as Buffer);
      })(),
    ).rejects.toThrow();
    expect(Buffer.concat(received).toString()).toBe('{"id":"cha');
  });
});

describe('reset', () => {
  it('destroys the socket before any response byte', async () => {
    await expect(postJson(chatUrl(), CHAT, fault('reset'))).rejects.toThrow();
    await expect(postJson(`${up.url}/v1/messages`, ANTHROPIC, fault('reset'))).rejects.toThrow();
  });
});

describe('status:CODE', () => {
  it('replies 429 with OpenAI rate-limit body and retry-after', async () => {
    const res = await postJson(chatUrl(), CHAT, fault('status:429'));
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['x-ratelimit-remaining-requests']).toBe('0');
    expect(res.json).toMatchObject({ error: { type: 'requests', code: 'rate_limit_exceeded', param: null } });
    expect((res.json as { error: { message: string } }).error.message).toContain('gpt-4o');
  });

  it('replies 500 with the OpenAI server_error body', async () => {
    const res = await postJson(`${up.url}/v1/responses`, { model: 'gpt-4o', input: 'x' }, fault('status:500'));
    expect(res.status).toBe(500);
    expect(res.json).toEqual({
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      },
    });
  });

  it('replies 529 overloaded and 429 rate_limit_error in Anthropic shape', async () => {
    const overloaded = await postJson(`${up.url}/v1/messages`, { ...ANTHROPIC, stream: true }, fault('status:529'));
    expect(overloaded.status).toBe(529);
    expect(overloaded.headers['retry-after']).toBe('1');
    expect(overloaded.json).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    const limited = await postJson(`${up.url}/v1/messages`, ANTHROPIC, fault('status:429'));
    expect(limited.json).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });
});

describe('no-usage', () => {
  it('omits the usage chunk from a chat stream that asked for it, still ending with [DONE]', async () => {
    const res = await postSse(chatUrl(), CHAT_STREAM, fault('no-usage'));
    const chunks = dataOf(res.events) as unknown as ChatChunk[];
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.some((c) => c.choices.length === 0)).toBe(false);
    expect(res.events.at(-1)?.data).toBe('[DONE]');
  });

  it('omits usage from non-stream bodies of every route', async () => {
    const bodies = await Promise.all([
      postJson(chatUrl(), CHAT, fault('no-usage')),
      postJson(`${up.url}/v1/completions`, { model: 'm', prompt: 'x' }, fault('no-usage')),
      postJson(`${up.url}/v1/responses`, { model: 'gpt-4o', input: 'x' }, fault('no-usage')),
      postJson(`${up.url}/v1/embeddings`, { model: 'text-embedding-3-small', input: 'x' }, fault('no-usage')),
      postJson(`${up.url}/v1/messages`, ANTHROPIC, fault('no-usage')),
    ]);
    for (const body of bodies) {
      expect(body.status).toBe(200);
      expect(body.json).not.toHaveProperty('usage');
    }
  });

  it('sends Anthropic and Responses streams without any usage', async () => {
    const anthropic = await postSse(`${up.url}/v1/messages`, { ...ANTHROPIC, stream: true }, fault('no-usage'));
    const events = dataOf(anthropic.events) as unknown as AnthropicEvent[];
    expect(nth(events, 0).message).not.toHaveProperty('usage');
    expect(nth(events, -2)).not.toHaveProperty('usage');
    expect(nth(events, -1).type).toBe('message_stop');

    const responses = await postSse(
      `${up.url}/v1/responses`,
      { model: 'gpt-4o', input: 'x', stream: true },
      fault('no-usage'),
    );
    const final = nth(dataOf(responses.events) as unknown as ResponsesEvent[], -1);
    expect(final.type).toBe('response.completed');
    expect(final.response?.usage).toBeNull();
  });
});

describe('broken-sse', () => {
  it('injects one malformed data line after the first content chunk and then continues', async () => {
    const res = await postSse(chatUrl(), CHAT_STREAM, fault('broken-sse'));
    const broken = res.events.findIndex((e) => e.data === '{not json');
    expect(broken).toBe(2); // after the role chunk and the first content chunk
    const rest = res.events.filter((_, i) => i !== broken);
    const chunks = dataOf(rest) as unknown as ChatChunk[];
    expect(contentChunks(chunks)).toBe(6);
    expect(nth(chunks, -1).usage?.completion_tokens).toBe(6);
    expect(res.events.at(-1)?.data).toBe('[DONE]');
  });

  it('uses the wire framing for Anthropic and breaks a non-stream body', async () => {
    const res = await postSse(`${up.url}/v1/messages`, { ...ANTHROPIC, stream: true }, fault('broken-sse'));
    const broken = res.events.find((e) => e.data === '{not json');
    expect(broken?.event).toBe('content_block_delta');
    expect(res.events.at(-1)?.event).toBe('message_stop');

    const body = await postJson(chatUrl(), CHAT, fault('broken-sse'));
    expect(body.status).toBe(200);
    expect(body.json).toBeNull();
    expect(() => JSON.parse(body.text)).toThrow();
  });
});

describe('stall-after:N', () => {
  it('sends N chunks then keeps the socket open and silent until the client leaves', async () => {
    const stream = await openSse(chatUrl(), CHAT_STREAM, fault('stall-after:2'));
    const seen: ChatChunk[] = [];
    while (contentChunks(seen) < 2) {
      const event = await stream.next();
      if (event === null) throw new Error('stream ended early');
      seen.push(JSON.parse(event.data) as ChatChunk);
    }
    expect(up.openStreams).toBe(1);
    stream.abort();
    await eventually(() => up.openStreams === 0 && up.inFlight === 0);
  });

  it('lets close() end a stalled stream at once', async () => {
    const server = await startDemoUpstream({ ttftMs: 0, itlMs: 0, script: 'stall-after:0' });
    const stream = await openSse(`${server.url}/v1/chat/completions`, CHAT_STREAM);
    await eventually(() => server.openStreams === 1);
    await server.close();
    expect(await stream.next()).toBeNull();
    expect(stream.error).not.toBeNull();
    expect(server.openStreams).toBe(0);
  });
});

describe('slow-headers:MS', () => {
  it('delays the headers, then answers normally', async () => {
    const res = await postSse(chatUrl(), CHAT_STREAM, fault('slow-headers:30'));
    expect(res.status).toBe(200);
    expect(res.events.at(-1)?.data).toBe('[DONE]');
  });

  it('holds the headers back while waiting, and stops waiting when the client leaves', async () => {
    const controller = new AbortController();
    let answered = false;
    const pending = request(chatUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...fault('slow-headers:600000') },
      body: JSON.stringify(CHAT),
      signal: controller.signal,
    }).then(
      () => {
        answered = true;
      },
      () => {},
    );
    await eventually(() => up.inFlight === 1);
    expect(answered).toBe(false);
    controller.abort();
    await pending;
    expect(answered).toBe(false);
    await eventually(() => up.inFlight === 0);
  });
});

describe('script option', () => {
  it('applies a scripted fault per request and lets the header override it', async () => {
    const seen: FaultContext[] = [];
    const server = await startDemoUpstream({
      ttftMs: 0,
      itlMs: 0,
      script: (ctx) => {
        seen.push(ctx);
        return ctx.index === 0 ? 'status:503' : null;
      },
    });
    try {
      const url = `${server.url}/v1/chat/completions`;
      const first = await postJson(url, CHAT);
      expect(first.status).toBe(503);
      expect(first.headers['retry-after']).toBe('1');
      expect((await postJson(url, CHAT)).status).toBe(200);
      expect(seen.map((c) => [c.index, c.method, c.path, c.model])).toEqual([
        [0, 'POST', '/v1/chat/completions', 'gpt-4o'],
        [1, 'POST', '/v1/chat/completions', 'gpt-4o'],
      ]);
      // A header replaces the script entirely.
      expect((await postJson(url, CHAT, fault('status:418'))).status).toBe(418);
      expect(server.requests).toBe(3);
    } finally {
      await server.close();
    }
  });
});
