import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from './index.js';

/** The official SDKs parse the demo's wire as they parse the real APIs. */

let up: DemoUpstream;
let openai: OpenAI;
let anthropic: Anthropic;
beforeAll(async () => {
  up = await startDemoUpstream({ seed: 9, ttftMs: 0, itlMs: 0, maxOutputTokens: 5 });
  openai = new OpenAI({ baseURL: `${up.url}/v1`, apiKey: 'demo', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: up.url, apiKey: 'demo', maxRetries: 0 });
});
afterAll(() => up.close());

describe('openai SDK', () => {
  it('streams chat with include_usage', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hello there' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.split(' ')).toHaveLength(5);
    expect(usage?.completion_tokens).toBe(5);
    expect(usage?.prompt_tokens).toBe(3);
  });

  it('reads a Responses stream and a full response', async () => {
    const stream = await openai.responses.create({ model: 'gpt-4o', input: 'hello there', stream: true });
    const types: string[] = [];
    let total = 0;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.completed') total = event.response.usage?.total_tokens ?? 0;
    }
    expect(types.at(-1)).toBe('response.completed');
    expect(total).toBe(8);
    const full = await openai.responses.create({ model: 'gpt-4o', input: 'hello there' });
    expect(full.output_text.split(' ')).toHaveLength(5);
  });

  it('decodes base64 embeddings (the SDK default) and maps a 429 to RateLimitError', async () => {
    const result = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(result.data[0]?.embedding).toHaveLength(1536);
    await expect(
      openai.chat.completions.create(
        { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-demo-fault': 'status:429' } },
      ),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });
});

describe('@anthropic-ai/sdk', () => {
  it('accumulates a streamed message with thinking and reports usage', async () => {
    const message = await anthropic.messages
      .stream({
        model: 'claude-sonnet-4-0',
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: 'hello there' }],
      })
      .finalMessage();
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
    expect(message.usage.input_tokens).toBe(3);
    expect(message.usage.output_tokens).toBeGreaterThan(5);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('counts tokens and maps a 529 to an overloaded error', async () => {
    const counted = await anthropic.messages.countTokens({
      model: 'claude-sonnet-4-0',
      messages: [{ role: 'user', content: 'hello there' }],
    });
    expect(counted.input_tokens).toBe(3);
    const failure = await anthropic.messages
      .create(
        { model: 'claude-sonnet-4-0', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-demo-fault': 'status:529' } },
      )
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    expect((failure as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
  });
});
