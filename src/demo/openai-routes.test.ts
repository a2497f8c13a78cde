import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from './index.js';
import { dataOf, postJson, postSse } from './testing/client.js';
import {
  nth,
  type EmbeddingList,
  type LegacyCompletion,
  type ResponseBody,
  type ResponsesEvent,
} from './testing/wire.js';

let up: DemoUpstream;
beforeAll(async () => {
  up = await startDemoUpstream({ seed: 11, ttftMs: 0, itlMs: 0, maxOutputTokens: 6 });
});
afterAll(() => up.close());

describe('POST /v1/completions (legacy)', () => {
  it('returns a text_completion with the three-field usage', async () => {
    const res = await postJson(`${up.url}/v1/completions`, {
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say hi',
      max_tokens: 50,
    });
    const body = res.json as LegacyCompletion;
    expect(res.status).toBe(200);
    expect(body.id).toMatch(/^cmpl-/);
    expect(body.object).toBe('text_completion');
    expect(body.model).toBe('gpt-3.5-turbo-instruct');
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.usage).toEqual({ prompt_tokens: 2, completion_tokens: 6, total_tokens: 8 });
  });

  it('applies the legacy default of 16 output tokens when max_tokens is unset', async () => {
    const server = await startDemoUpstream({ seed: 1, ttftMs: 0, itlMs: 0, maxOutputTokens: 100 });
    try {
      const res = await postJson(`${server.url}/v1/completions`, { model: 'gpt-3.5-turbo-instruct', prompt: 'x' });
      const body = res.json as LegacyCompletion;
      expect(body.usage?.completion_tokens).toBe(16);
      expect(body.choices[0].finish_reason).toBe('length');
    } finally {
      await server.close();
    }
  });

  it('counts token-id prompts by their length', async () => {
    const ids = Array.from({ length: 512 }, (_, i) => i);
    const res = await postJson(`${up.url}/v1/completions`, { model: 'm', prompt: ids, max_tokens: 4 });
    expect((res.json as LegacyCompletion).usage).toEqual({
      prompt_tokens: 512,
      completion_tokens: 4,
      total_tokens: 516,
    });
  });

  it('streams text chunks, a finish chunk, the usage chunk when asked, then [DONE]', async () => {
    const res = await postSse(`${up.url}/v1/completions`, {
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say hi',
      max_tokens: 50,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = dataOf(res.events) as unknown as LegacyCompletion[];
    expect(chunks).toHaveLength(6 + 1 + 1);
    expect(chunks.slice(0, 7).every((c) => c.usage === null && c.object === 'text_completion')).toBe(true);
    expect(nth(chunks, 6).choices[0]).toEqual({ text: '', index: 0, logprobs: null, finish_reason: 'stop' });
    expect(nth(chunks, 7).choices).toEqual([]);
    expect(nth(chunks, 7).usage).toEqual({ prompt_tokens: 2, completion_tokens: 6, total_tokens: 8 });
    expect(res.events.at(-1)?.data).toBe('[DONE]');

    const plain = await postSse(`${up.url}/v1/completions`, {
      model: 'm',
      prompt: 'Say hi',
      max_tokens: 50,
      stream: true,
    });
    expect(dataOf(plain.events).some((c) => 'usage' in c)).toBe(false);
  });

  it('requires a prompt', async () => {
    const res = await postJson(`${up.url}/v1/completions`, { model: 'm' });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: {
        message: "Missing required parameter: 'prompt'.",
        type: 'invalid_request_error',
        param: 'prompt',
        code: null,
      },
    });
  });
});

const RESPONSES_SEQUENCE = [
  'response.created',
  'response.in_progress',
  'response.output_item.added',
  'response.content_part.added',
  ...Array<string>(6).fill('response.output_text.delta'),
  'response.output_text.done',
  'response.content_part.done',
  'response.output_item.done',
  'response.completed',
];

describe('POST /v1/responses', () => {
  it('returns a full response object with Responses usage', async () => {
    const res = await postJson(`${up.url}/v1/responses`, {
      model: 'gpt-4o',
      instructions: 'be nice',
      input: 'hello there',
    });
    const body = res.json as ResponseBody;
    expect(res.status).toBe(200);
    expect(body.id).toMatch(/^resp_/);
    expect(body.object).toBe('response');
    expect(body.status).toBe('completed');
    expect(body.model).toBe('gpt-4o-2024-08-06');
    expect(body.output).toHaveLength(1);
    const message = nth(body.output, 0);
    expect(message.type).toBe('message');
    expect(message.id).toMatch(/^msg_/);
    expect(message.status).toBe('completed');
    expect(nth(message.content ?? [], 0).text.split(' ')).toHaveLength(6);
    expect(body.usage).toEqual({
      input_tokens: 5, // 'be nice' 2 + 'hello there' 3
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 6,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 11,
    });
  });

  it('streams the documented event sequence with increasing sequence numbers and final usage', async () => {
    const res = await postSse(`${up.url}/v1/responses`, {
      model: 'gpt-4o',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'hello there' }] }],
      stream: true,
    });
    expect(res.events.map((e) => e.event)).toEqual(RESPONSES_SEQUENCE);
    const events = dataOf(res.events) as unknown as ResponsesEvent[];
    expect(events.map((e) => e.type)).toEqual(RESPONSES_SEQUENCE);
    expect(events.map((e) => e.sequence_number)).toEqual(RESPONSES_SEQUENCE.map((_, i) => i));
    expect(nth(events, 0).response?.status).toBe('in_progress');
    expect(nth(events, 0).response?.usage).toBeNull();
    const deltas = events
      .filter((e) => e.type === 'response.output_text.delta')
      .map((e) => e.delta)
      .join('');
    const done = nth(events, -4);
    expect(done.text).toBe(deltas);
    const completed = nth(events, -1).response;
    expect(completed?.status).toBe('completed');
    expect(nth(completed?.output ?? [], 0).content).toEqual([
      { type: 'output_text', annotations: [], logprobs: [], text: deltas },
    ]);
    expect(completed?.usage).toEqual({
      input_tokens: 3,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 6,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 9,
    });
  });

  it('emits a reasoning item first and counts reasoning tokens for reasoning models', async () => {
    const res = await postSse(`${up.url}/v1/responses`, { model: 'o4-mini', input: 'hello there', stream: true });
    const events = dataOf(res.events) as unknown as ResponsesEvent[];
    expect(events.slice(0, 6).map((e) => [e.type, e.item?.type ?? null, e.output_index ?? null])).toEqual([
      ['response.created', null, null],
      ['response.in_progress', null, null],
      ['response.output_item.added', 'reasoning', 0],
      ['response.output_item.done', 'reasoning', 0],
      ['response.output_item.added', 'message', 1],
      ['response.content_part.added', null, 1],
    ]);
    const usage = nth(events, -1).response?.usage;
    expect(usage?.output_tokens_details.reasoning_tokens).toBeGreaterThanOrEqual(64);
    expect(usage?.output_tokens).toBe((usage?.output_tokens_details.reasoning_tokens ?? 0) + 6);
  });

  it('ends as incomplete with response.incomplete when max_output_tokens cuts the output', async () => {
    const res = await postSse(`${up.url}/v1/responses`, {
      model: 'gpt-4o',
      input: 'hello there',
      max_output_tokens: 16,
      ignore_eos: true,
      stream: true,
    });
    const final = nth(dataOf(res.events) as unknown as ResponsesEvent[], -1);
    expect(final.type).toBe('response.incomplete');
    expect(final.response?.status).toBe('incomplete');
    expect(final.response?.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(final.response?.usage?.output_tokens).toBe(16);
  });

  it('rejects max_output_tokens below 16 like OpenAI', async () => {
    const res = await postJson(`${up.url}/v1/responses`, { model: 'gpt-4o', input: 'x', max_output_tokens: 5 });
    expect(res.status).toBe(400);
    expect((res.json as { error: { param: string } }).error.param).toBe('max_output_tokens');
  });
});

describe('POST /v1/embeddings', () => {
  it('returns unit vectors of the model dimension with prompt_tokens/total_tokens usage', async () => {
    const res = await postJson(`${up.url}/v1/embeddings`, {
      model: 'text-embedding-3-small',
      input: ['hello there', 'abcd'],
    });
    const body = res.json as EmbeddingList;
    expect(body.object).toBe('list');
    expect(body.model).toBe('text-embedding-3-small');
    expect(body.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    expect(body.data.map((d) => [d.object, d.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
    ]);
    const vector = nth(body.data, 0).embedding as number[];
    expect(vector).toHaveLength(1536);
    expect(Math.max(...vector.map(Math.abs))).toBeLessThan(0.2);
    expect(Math.sqrt(vector.reduce((s, x) => s + x * x, 0))).toBeCloseTo(1, 6);
  });

  it('is deterministic per input, honours dimensions, sizes -3-large at 3072 and encodes base64 as float32', async () => {
    const a = (await postJson(`${up.url}/v1/embeddings`, { model: 'text-embedding-3-small', input: 'same' }))
      .json as EmbeddingList;
    const b = (await postJson(`${up.url}/v1/embeddings`, { model: 'text-embedding-3-small', input: ['other', 'same'] }))
      .json as EmbeddingList;
    expect(nth(a.data, 0).embedding).toEqual(nth(b.data, 1).embedding);

    const small = (
      await postJson(`${up.url}/v1/embeddings`, { model: 'text-embedding-3-large', input: 'x', dimensions: 256 })
    ).json as EmbeddingList;
    expect(nth(small.data, 0).embedding).toHaveLength(256);
    const large = (await postJson(`${up.url}/v1/embeddings`, { model: 'text-embedding-3-large', input: 'x' }))
      .json as EmbeddingList;
    expect(nth(large.data, 0).embedding).toHaveLength(3072);

    const encoded = (
      await postJson(`${up.url}/v1/embeddings`, {
        model: 'text-embedding-3-small',
        input: 'same',
        encoding_format: 'base64',
      })
    ).json as EmbeddingList;
    const bytes = Buffer.from(nth(encoded.data, 0).embedding as string, 'base64');
    const floats = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    expect(floats).toHaveLength(1536);
    expect(nth(floats, 0)).toBeCloseTo(nth(nth(a.data, 0).embedding as number[], 0), 6);
  });

  it('rejects dimensions for ada-002 and a missing input', async () => {
    const ada = await postJson(`${up.url}/v1/embeddings`, {
      model: 'text-embedding-ada-002',
      input: 'x',
      dimensions: 8,
    });
    expect(ada.status).toBe(400);
    const missing = await postJson(`${up.url}/v1/embeddings`, { model: 'text-embedding-3-small' });
    expect(missing.status).toBe(400);
    expect((missing.json as { error: { param: string } }).error.param).toBe('input');
  });
});

describe('GET /v1/models and errors', () => {
  it('lists models in OpenAI shape, or Anthropic shape when anthropic-version is sent', async () => {
    const openai = await request(`${up.url}/v1/models`);
    const list = (await openai.body.json()) as {
      object: string;
      data: Array<{ id: string; object: string; owned_by: string }>;
    };
    expect(list.object).toBe('list');
    expect(list.data.map((m) => m.id)).toContain('gpt-4o-2024-08-06');
    expect(nth(list.data, 0).object).toBe('model');

    const anthropic = await request(`${up.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } });
    const page = (await anthropic.body.json()) as { data: Array<{ type: string; id: string }>; has_more: boolean };
    expect(page.has_more).toBe(false);
    expect(page.data.map((m) => m.id)).toContain('claude-sonnet-4-20250514');
    expect(nth(page.data, 0).type).toBe('model');
  });

  it('answers invalid JSON with 400, a missing model with 400 and an unknown path with 404, OpenAI-shaped', async () => {
    const bad = await postJson(`${up.url}/v1/chat/completions`, '{"model": ');
    expect(bad.status).toBe(400);
    const badError = (bad.json as { error: { type: string; message: string; code: null } }).error;
    expect(badError.type).toBe('invalid_request_error');
    expect(badError.message).toMatch(/^We could not parse the JSON body of your request/);

    const noModel = await postJson(`${up.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'x' }] });
    expect(noModel.status).toBe(400);
    expect(noModel.json).toEqual({
      error: {
        message: 'you must provide a model parameter',
        type: 'invalid_request_error',
        param: 'model',
        code: null,
      },
    });

    const unknown = await postJson(`${up.url}/v1/nothing`, {});
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({
      error: { message: 'Invalid URL (POST /v1/nothing)', type: 'invalid_request_error', param: null, code: null },
    });

    const wrongMethod = await request(`${up.url}/v1/chat/completions`);
    expect(wrongMethod.statusCode).toBe(404);
    await wrongMethod.body.dump();
  });
});
