import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from './index.js';
import { dataOf, postJson, postSse } from './testing/client.js';
import { nth, type ChatChunk, type ChatCompletion } from './testing/wire.js';

const MESSAGES = [
  { role: 'system', content: 'be brief' }, // 8 chars -> 2 tokens
  { role: 'user', content: 'hello there' }, // 11 chars -> 3 tokens
];

/** OpenAI usage of the reply to MESSAGES: 5 prompt tokens, 7 completion tokens (the server's maxOutputTokens). */
const USAGE_OF_MESSAGES = {
  prompt_tokens: 5,
  completion_tokens: 7,
  total_tokens: 12,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 0,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  },
};

let up: DemoUpstream;
beforeAll(async () => {
  up = await startDemoUpstream({ seed: 7, ttftMs: 0, itlMs: 0, maxOutputTokens: 7 });
});
afterAll(() => up.close());

const chatUrl = (): string => `${up.url}/v1/chat/completions`;

describe('POST /v1/chat/completions (non-stream)', () => {
  it('returns a chat.completion with OpenAI usage, the dated snapshot and a chatcmpl id', async () => {
    const res = await postJson(chatUrl(), { model: 'gpt-4o', messages: MESSAGES });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-request-id']).toMatch(/^req_/);
    const body = res.json as ChatCompletion;
    expect(body.id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(body.object).toBe('chat.completion');
    expect(body.model).toBe('gpt-4o-2024-08-06');
    expect(body.system_fingerprint).toMatch(/^fp_[0-9a-f]{10}$/);
    expect(body.choices).toHaveLength(1);
    expect(body.choices[0].message.role).toBe('assistant');
    expect(body.choices[0].message.content.split(' ')).toHaveLength(7);
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.usage).toEqual(USAGE_OF_MESSAGES);
  });

  it('cuts output at max_tokens with finish_reason length', async () => {
    const res = await postJson(chatUrl(), { model: 'gpt-4o-mini', messages: MESSAGES, max_tokens: 3 });
    const body = res.json as ChatCompletion;
    expect(body.model).toBe('gpt-4o-mini-2024-07-18');
    expect(body.choices[0].finish_reason).toBe('length');
    expect(body.choices[0].message.content.split(' ')).toHaveLength(3);
    expect(body.usage.completion_tokens).toBe(3);
  });

  it('reports cached tokens only for a prompt seen before, in multiples of 128 from 1024 tokens', async () => {
    const long = { model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(4 * 1300) }] }; // 1300 tokens
    const first = (await postJson(chatUrl(), long)).json as ChatCompletion;
    expect(first.usage.prompt_tokens).toBe(1300);
    expect(first.usage.prompt_tokens_details.cached_tokens).toBe(0);
    const again = (await postJson(chatUrl(), long)).json as ChatCompletion;
    expect(again.usage.prompt_tokens_details.cached_tokens).toBe(1280);

    const short = { model: 'gpt-4o', messages: [{ role: 'user', content: 'y'.repeat(4 * 1023) }] };
    for (let i = 0; i < 2; i++) {
      const res = (await postJson(chatUrl(), short)).json as ChatCompletion;
      expect(res.usage.prompt_tokens_details.cached_tokens).toBe(0);
    }
  });

  it('reports reasoning tokens inside completion_tokens for reasoning models', async () => {
    for (const model of ['o1', 'o3-mini', 'o4-mini', 'gpt-5-nano']) {
      const res = await postJson(chatUrl(), { model, messages: MESSAGES, max_completion_tokens: 400 });
      const usage = (res.json as ChatCompletion).usage;
      const reasoning = usage.completion_tokens_details.reasoning_tokens;
      expect(reasoning).toBeGreaterThanOrEqual(64);
      expect(reasoning).toBeLessThanOrEqual(200); // never more than half the budget
      expect(usage.completion_tokens).toBe(reasoning + 7);
    }
  });

  it('counts message parts, tool calls and tool definitions', async () => {
    const res = await postJson(chatUrl(), {
      model: 'gpt-4o',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'abcd' },
            { type: 'image_url', image_url: { url: 'x' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
        },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
    });
    // 'abcd' = 1, name 'f' = 1, arguments (7 chars) = 2, tools JSON (44 chars) = 11
    const tools = JSON.stringify([{ type: 'function', function: { name: 'f' } }]);
    expect((res.json as ChatCompletion).usage.prompt_tokens).toBe(1 + 1 + 2 + Math.ceil(tools.length / 4));
  });
});

describe('POST /v1/chat/completions (stream)', () => {
  it('sends the usage chunk with choices: [] before [DONE] when include_usage is set', async () => {
    const res = await postSse(chatUrl(), {
      model: 'gpt-4o',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.error).toBeNull();
    expect(res.events.at(-1)?.data).toBe('[DONE]');
    const chunks = dataOf(res.events) as unknown as ChatChunk[];
    expect(chunks).toHaveLength(1 + 7 + 1 + 1); // role, content x7, finish, usage
    const id = chunks[0]?.id;
    for (const chunk of chunks) {
      expect(chunk.id).toBe(id);
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.model).toBe('gpt-4o-2024-08-06');
      expect(chunk).toHaveProperty('usage');
    }
    expect(nth(nth(chunks, 0).choices, 0).delta).toEqual({ role: 'assistant', content: '', refusal: null });
    const contents = chunks.slice(1, 8).map((c) => nth(c.choices, 0).delta.content);
    expect(contents.join('').split(' ')).toHaveLength(7);
    expect(chunks.slice(0, 9).every((c) => c.usage === null)).toBe(true);
    expect(chunks[8]?.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
    const last = nth(chunks, 9);
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(USAGE_OF_MESSAGES); // the same counts as without streaming
  });

  it('sends no usage chunk and no usage field when include_usage is not set', async () => {
    for (const streamOptions of [undefined, { include_usage: false }]) {
      const res = await postSse(chatUrl(), {
        model: 'gpt-4o',
        messages: MESSAGES,
        stream: true,
        stream_options: streamOptions,
      });
      const chunks = dataOf(res.events);
      expect(chunks).toHaveLength(1 + 7 + 1);
      expect(chunks.some((c) => 'usage' in c)).toBe(false);
      expect(res.events.at(-1)?.data).toBe('[DONE]');
    }
  });

  it('rejects stream_options on a non-stream request like OpenAI does', async () => {
    const res = await postJson(chatUrl(), {
      model: 'gpt-4o',
      messages: MESSAGES,
      stream_options: { include_usage: true },
    });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: {
        message: "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        type: 'invalid_request_error',
        param: 'stream_options',
        code: null,
      },
    });
  });

  it('streams the same text and counts as the non-stream reply', async () => {
    const plain = (await postJson(chatUrl(), { model: 'gpt-4o', messages: MESSAGES })).json as ChatCompletion;
    const streamed = await postSse(chatUrl(), {
      model: 'gpt-4o',
      messages: MESSAGES,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = dataOf(streamed.events) as unknown as ChatChunk[];
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe(plain.choices[0].message.content);
    expect(chunks.at(-1)?.usage).toEqual(plain.usage);
  });
});

describe('determinism', () => {
  it('gives the same text and counts for the same seed, and different ones for another seed', async () => {
    const request = { model: 'gpt-4o', messages: [{ role: 'user', content: 'tell me a story' }] };
    const a = await startDemoUpstream({ seed: 42, ttftMs: 0, itlMs: 0 });
    const b = await startDemoUpstream({ seed: 42, ttftMs: 0, itlMs: 0 });
    const c = await startDemoUpstream({ seed: 43, ttftMs: 0, itlMs: 0 });
    try {
      const [ra, rb, rc] = await Promise.all(
        [a, b, c].map(async (s) => (await postJson(`${s.url}/v1/chat/completions`, request)).json as ChatCompletion),
      );
      expect(ra?.choices[0].message.content).toBe(rb?.choices[0].message.content);
      expect(ra?.usage).toEqual(rb?.usage);
      const length = ra?.usage.completion_tokens as number;
      expect(length).toBeGreaterThanOrEqual(64);
      expect(length).toBeLessThanOrEqual(256);
      expect(rc?.choices[0].message.content).not.toBe(ra?.choices[0].message.content);
      expect(ra?.id).not.toBe(rb?.id);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('generates exactly max_tokens with ignore_eos or min_tokens (load-generator extensions)', async () => {
    const ignore = await postJson(chatUrl(), { model: 'gpt-4o', messages: MESSAGES, max_tokens: 50, ignore_eos: true });
    expect((ignore.json as ChatCompletion).usage.completion_tokens).toBe(50);
    const min = await postJson(chatUrl(), { model: 'gpt-4o', messages: MESSAGES, max_tokens: 50, min_tokens: 20 });
    expect((min.json as ChatCompletion).usage.completion_tokens).toBe(20);
  });
});
