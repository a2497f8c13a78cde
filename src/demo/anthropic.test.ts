import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from './index.js';
import { dataOf, postJson, postSse } from './testing/client.js';
import { nth, type AnthropicEvent, type AnthropicMessage } from './testing/wire.js';

const HEADERS = { 'anthropic-version': '2023-06-01', 'x-api-key': 'demo' };
const MESSAGES = [{ role: 'user', content: 'hello there' }]; // 3 tokens

let up: DemoUpstream;
beforeAll(async () => {
  up = await startDemoUpstream({ seed: 5, ttftMs: 0, itlMs: 0, maxOutputTokens: 8 });
});
afterAll(() => up.close());

const messagesUrl = (): string => `${up.url}/v1/messages`;

describe('POST /v1/messages (non-stream)', () => {
  it('returns a message with Anthropic usage and a msg_ id', async () => {
    const res = await postJson(
      messagesUrl(),
      { model: 'claude-sonnet-4-0', max_tokens: 100, messages: MESSAGES },
      HEADERS,
    );
    expect(res.status).toBe(200);
    expect(res.headers['request-id']).toMatch(/^req_/);
    const body = res.json as AnthropicMessage;
    expect(body.id).toMatch(/^msg_01[A-Za-z0-9]{22}$/);
    expect(body.type).toBe('message');
    expect(body.role).toBe('assistant');
    expect(body.model).toBe('claude-sonnet-4-20250514');
    expect(body.stop_reason).toBe('end_turn');
    expect(body.stop_sequence).toBeNull();
    expect(body.content).toHaveLength(1);
    expect(nth(body.content, 0).type).toBe('text');
    expect(nth(body.content, 0).text?.split(' ')).toHaveLength(8);
    expect(body.usage).toEqual({
      input_tokens: 3,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: 8,
      service_tier: 'standard',
    });
  });

  it('stops at max_tokens with stop_reason max_tokens', async () => {
    const res = await postJson(messagesUrl(), { model: 'claude-3-5-haiku-latest', max_tokens: 2, messages: MESSAGES });
    const body = res.json as AnthropicMessage;
    expect(body.model).toBe('claude-3-5-haiku-20241022');
    expect(body.stop_reason).toBe('max_tokens');
    expect(body.usage?.output_tokens).toBe(2);
  });

  it('writes the cache on the first request with cache_control and reads it on the next', async () => {
    const system = [{ type: 'text', text: 'S'.repeat(400), cache_control: { type: 'ephemeral' } }]; // 100 tokens
    const request = { model: 'claude-sonnet-4-0', max_tokens: 100, system, messages: MESSAGES };
    const first = (await postJson(messagesUrl(), request)).json as AnthropicMessage;
    expect(first.usage).toMatchObject({
      input_tokens: 3,
      cache_creation_input_tokens: 100,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 0 },
    });
    const second = (
      await postJson(messagesUrl(), { ...request, messages: [{ role: 'user', content: 'other question' }] })
    ).json as AnthropicMessage;
    expect(second.usage).toMatchObject({
      input_tokens: 4,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 100,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    });
  });

  it('splits cache writes by TTL across tools, system and message breakpoints', async () => {
    const tool = { name: 'lookup', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral', ttl: '1h' } };
    const toolTokens = Math.ceil(JSON.stringify({ name: 'lookup', input_schema: { type: 'object' } }).length / 4);
    const res = await postJson(messagesUrl(), {
      model: 'claude-opus-4-0',
      max_tokens: 100,
      tools: [tool],
      system: 'plain system', // 3 tokens
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'x'.repeat(80), cache_control: { type: 'ephemeral' } }] }, // 20
        { role: 'user', content: 'tail' }, // 1
      ],
    });
    expect((res.json as AnthropicMessage).usage).toMatchObject({
      input_tokens: 1,
      cache_creation_input_tokens: toolTokens + 3 + 20,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 3 + 20, ephemeral_1h_input_tokens: toolTokens },
    });
  });

  it('returns a thinking block before the text and counts thinking in output_tokens', async () => {
    const res = await postJson(messagesUrl(), {
      model: 'claude-sonnet-4-0',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: MESSAGES,
    });
    const body = res.json as AnthropicMessage;
    expect(body.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const thinkingWords = nth(body.content, 0).thinking?.split(' ').length ?? 0;
    expect(thinkingWords).toBeGreaterThanOrEqual(48);
    expect(nth(body.content, 0).signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(body.usage?.output_tokens).toBe(thinkingWords + 8);
  });

  it('enforces the thinking budget rules', async () => {
    const low = await postJson(messagesUrl(), {
      model: 'm',
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 100 },
      messages: MESSAGES,
    });
    expect(low.status).toBe(400);
    const over = await postJson(messagesUrl(), {
      model: 'm',
      max_tokens: 1024,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: MESSAGES,
    });
    expect(over.status).toBe(400);
    expect((over.json as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

describe('POST /v1/messages (stream)', () => {
  it('streams message_start, content block events with ping, message_delta with cumulative usage, message_stop', async () => {
    const res = await postSse(messagesUrl(), {
      model: 'claude-sonnet-4-0',
      max_tokens: 100,
      stream: true,
      messages: MESSAGES,
    });
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const names = res.events.map((e) => e.event);
    expect(names).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      ...Array<string>(8).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const events = dataOf(res.events) as unknown as AnthropicEvent[];
    expect(events.map((e) => e.type)).toEqual(names);
    const start = nth(events, 0).message;
    expect(start?.content).toEqual([]);
    expect(start?.stop_reason).toBeNull();
    expect(start?.usage).toEqual({
      input_tokens: 3,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: 1,
      service_tier: 'standard',
    });
    expect(nth(events, 1).content_block).toEqual({ type: 'text', text: '' });
    const text = events
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => e.delta?.text)
      .join('');
    expect(text.split(' ')).toHaveLength(8);
    const delta = nth(events, -2);
    expect(delta.delta).toEqual({ stop_reason: 'end_turn', stop_sequence: null });
    expect(delta.usage).toEqual({
      input_tokens: 3,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 8,
    });
  });

  it('streams a thinking block (thinking_delta…, signature_delta) before the text block', async () => {
    const res = await postSse(messagesUrl(), {
      model: 'claude-sonnet-4-0',
      max_tokens: 4000,
      stream: true,
      thinking: { type: 'enabled', budget_tokens: 2000 },
      messages: [{ role: 'user', content: 'think first' }],
    });
    const events = dataOf(res.events) as unknown as AnthropicEvent[];
    const shape = events.map(
      (e) => `${e.type}${e.delta?.type ? `:${e.delta.type}` : ''}${e.index === undefined ? '' : `@${e.index}`}`,
    );
    const thinkingDeltas = shape.filter((s) => s === 'content_block_delta:thinking_delta@0').length;
    expect(shape).toEqual([
      'message_start',
      'content_block_start@0',
      'ping',
      ...Array<string>(thinkingDeltas).fill('content_block_delta:thinking_delta@0'),
      'content_block_delta:signature_delta@0',
      'content_block_stop@0',
      'content_block_start@1',
      ...Array<string>(8).fill('content_block_delta:text_delta@1'),
      'content_block_stop@1',
      'message_delta',
      'message_stop',
    ]);
    expect(nth(events, 1).content_block).toEqual({ type: 'thinking', thinking: '', signature: '' });
    expect(nth(events, -2).usage?.output_tokens).toBe(thinkingDeltas + 8);
  });
});

describe('POST /v1/messages/count_tokens and errors', () => {
  it('counts all input tokens, cached or not, without touching the cache', async () => {
    const res = await postJson(`${up.url}/v1/messages/count_tokens`, {
      model: 'claude-sonnet-4-0',
      system: [{ type: 'text', text: 'C'.repeat(40), cache_control: { type: 'ephemeral' } }],
      messages: MESSAGES,
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ input_tokens: 13 });
  });

  it('answers Anthropic-shaped errors: invalid JSON, missing model, missing max_tokens, unknown path', async () => {
    const bad = await postJson(messagesUrl(), '{oops', HEADERS);
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect((bad.json as { request_id: string }).request_id).toMatch(/^req_/);

    const noModel = await postJson(messagesUrl(), { max_tokens: 10, messages: MESSAGES });
    expect(noModel.status).toBe(400);
    expect(noModel.json).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'model: Field required' },
    });

    const noMax = await postJson(messagesUrl(), { model: 'claude-sonnet-4-0', messages: MESSAGES });
    expect(noMax.status).toBe(400);
    expect(noMax.json).toMatchObject({ error: { message: 'max_tokens: Field required' } });

    const unknown = await postJson(`${up.url}/v1/messages/batches`, {}, HEADERS);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: 'Not Found' } });
  });
});
