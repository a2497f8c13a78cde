import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type Harness } from '../testing/harness.js';

/**
 * The official SDKs, unchanged, pointed at the gateway: they must parse every response, and the
 * ledger must hold the cost that their own usage numbers imply at list price.
 */
let demo: DemoUpstream;
let gateway: Harness;
let openai: OpenAI;
let anthropic: Anthropic;

// Nano-USD per token at list price (USD/MTok × 1000).
const GPT_4O_MINI = { input: 150n, cache_read: 75n, output: 600n };
const CLAUDE_HAIKU_35 = { input: 800n, cache_read: 80n, cache_write_5m: 1000n, output: 4000n };

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 2, itlMs: 1, seed: 11 });
  gateway = await startHarness({ upstream: demo.url });
  openai = new OpenAI({
    baseURL: `${gateway.url}/v1`,
    apiKey: 'sk-client',
    maxRetries: 0,
    defaultHeaders: { 'x-pertoken-tenant': 'sdk-tests' },
  });
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-ant-client', maxRetries: 0 });
});
afterAll(async () => {
  await gateway.close();
  await demo.close();
});

function openaiCost(usage: {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}): bigint {
  const cached = BigInt(usage.prompt_tokens_details?.cached_tokens ?? 0);
  return (
    (BigInt(usage.prompt_tokens) - cached) * GPT_4O_MINI.input +
    cached * GPT_4O_MINI.cache_read +
    BigInt(usage.completion_tokens) * GPT_4O_MINI.output
  );
}

describe('openai SDK through the gateway', () => {
  it('chat completion: parsed response, cost header and ledger agree', async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', max_tokens: 30, messages: [{ role: 'user', content: 'Say hello to the sea' }] })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const usage = data.usage;
    if (!usage) throw new Error('usage missing');
    const id = response.headers.get('x-pertoken-request-id') ?? '';
    const event = await gateway.store.getEvent(id);
    expect(event?.tenant).toBe('sdk-tests');
    expect(event?.cost_nano).toBe(openaiCost(usage));
    expect(response.headers.get('x-pertoken-cost-usd')).toBe(`0.${openaiCost(usage).toString().padStart(9, '0')}`);
  });

  it('streamed chat: chunks arrive, no usage chunk unless asked, ledger priced from the hidden one', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      max_tokens: 25,
      stream: true,
      messages: [{ role: 'user', content: 'Count waves' }],
    });
    let text = '';
    let sawUsage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) sawUsage = true;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(sawUsage).toBe(false);
    const [event] = (await gateway.store.listEvents({ filter: { tenant: 'sdk-tests' }, limit: 1 })).events;
    expect(event).toMatchObject({ streamed: true, status: 'ok', usage_source: 'provider' });
    expect(event?.buckets.output).toBe(25);
  });

  it('streamed chat with include_usage: the SDK sees the same usage the ledger priced', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'x '.repeat(3000) }],
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    if (!usage) throw new Error('usage missing');
    const [event] = (await gateway.store.listEvents({ filter: { tenant: 'sdk-tests' }, limit: 1 })).events;
    expect(event?.cost_nano).toBe(openaiCost(usage));
    // A prompt this long is served partly from the (simulated) prompt cache.
    expect(event?.buckets.cache_read ?? 0).toBe(usage.prompt_tokens_details?.cached_tokens ?? 0);
  });

  it('responses and embeddings parse and are metered', async () => {
    const response = await openai.responses.create({
      model: 'gpt-4o-mini',
      input: 'Describe a lighthouse',
      max_output_tokens: 20,
    });
    expect(response.output_text.length).toBeGreaterThan(0);
    const embedding = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['tide', 'moon'] });
    expect(embedding.data).toHaveLength(2);
    const costs = await gateway.store.queryCosts({
      from: new Date(Date.now() - 60_000),
      to: new Date(Date.now() + 60_000),
      groupBy: ['model'],
      filter: { tenant: 'sdk-tests' },
    });
    expect(costs.find((r) => r.keys.model === 'text-embedding-3-small')?.tokens.input).toBe(
      embedding.usage.prompt_tokens,
    );
  });

  it('an error from the gateway surfaces as the SDK error class with our code', async () => {
    const err = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: 'nope' as never })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_request');
  });
});

describe('@anthropic-ai/sdk through the gateway', () => {
  it('message: parsed and priced from its own usage', async () => {
    const { data, response } = await anthropic.messages
      .create({ model: 'claude-3-5-haiku-latest', max_tokens: 30, messages: [{ role: 'user', content: 'Hello' }] })
      .withResponse();
    expect(data.type).toBe('message');
    const u = data.usage;
    const expected =
      BigInt(u.input_tokens) * CLAUDE_HAIKU_35.input +
      BigInt(u.cache_read_input_tokens ?? 0) * CLAUDE_HAIKU_35.cache_read +
      BigInt(u.cache_creation_input_tokens ?? 0) * CLAUDE_HAIKU_35.cache_write_5m +
      BigInt(u.output_tokens) * CLAUDE_HAIKU_35.output;
    const event = await gateway.store.getEvent(response.headers.get('x-pertoken-request-id') ?? '');
    expect(event?.cost_nano).toBe(expected);
  });

  it('streamed message with prompt caching: final usage matches the ledger', async () => {
    const stream = anthropic.messages.stream({
      model: 'claude-3-5-haiku-latest',
      max_tokens: 40,
      system: [{ type: 'text', text: 'You are a sailor. '.repeat(300), cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'Tell me about knots' }],
    });
    const final = await stream.finalMessage();
    const u = final.usage;
    const [event] = (
      await gateway.store.listEvents({ filter: { requested_model: 'claude-3-5-haiku-latest' }, limit: 1 })
    ).events;
    expect(event?.buckets).toEqual(
      Object.fromEntries(
        Object.entries({
          input: u.input_tokens,
          cache_read: u.cache_read_input_tokens ?? 0,
          cache_write_5m: u.cache_creation?.ephemeral_5m_input_tokens ?? 0,
          cache_write_1h: u.cache_creation?.ephemeral_1h_input_tokens ?? 0,
          output: u.output_tokens,
        }).filter(([, n]) => n > 0),
      ),
    );
    expect((u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0)).toBeGreaterThan(0);
  });

  it('count_tokens is forwarded and not metered', async () => {
    const before = (await gateway.store.listEvents({ filter: {}, limit: 1000 })).events.length;
    const counted = await anthropic.messages.countTokens({
      model: 'claude-3-5-haiku-latest',
      messages: [{ role: 'user', content: 'How many?' }],
    });
    expect(counted.input_tokens).toBeGreaterThan(0);
    expect((await gateway.store.listEvents({ filter: {}, limit: 1000 })).events.length).toBe(before);
  });
});
