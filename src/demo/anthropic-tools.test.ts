import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from './index.js';

/** Tool use and structured output on the Anthropic wire, read by the official SDK. */

const TOOLS: Anthropic.ToolUnion[] = [
  {
    name: 'get_weather',
    description: 'Weather by city',
    input_schema: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 2 }, hourly: { type: 'boolean' } },
      required: ['city', 'days'],
    },
  },
  { name: 'get_time', input_schema: { type: 'object', properties: {} } },
  // A server tool is Anthropic's to run, never the demo's to call.
  { type: 'web_search_20250305', name: 'web_search' },
];
const ASK: Anthropic.MessageParam[] = [{ role: 'user', content: 'weather in Paris?' }];

function expectWeatherInput(input: unknown): void {
  expect(input).toEqual({ city: expect.any(String), days: 2 });
}

let up: DemoUpstream;
let anthropic: Anthropic;
beforeAll(async () => {
  up = await startDemoUpstream({ seed: 17, ttftMs: 0, itlMs: 0, maxOutputTokens: 5 });
  anthropic = new Anthropic({ baseURL: up.url, apiKey: 'demo', maxRetries: 0 });
});
afterAll(() => up.close());

describe('messages with tools', () => {
  it('answers with a tool_use block and stop_reason tool_use', async () => {
    const message = await anthropic.messages.create({
      model: 'claude-sonnet-4-0',
      max_tokens: 200,
      tools: TOOLS,
      messages: ASK,
    });
    expect(message.stop_reason).toBe('tool_use');
    const block = message.content[0];
    if (block?.type !== 'tool_use') throw new Error('expected a tool_use block');
    expect(block.id).toMatch(/^toolu_01[A-Za-z0-9]{22}$/);
    expect(block.name).toBe('get_weather');
    expectWeatherInput(block.input);
    expect(message.usage.output_tokens).toBe(Math.ceil(JSON.stringify(block.input).length / 4));
  });

  it('streams the input as input_json_delta pieces that the SDK assembles into the same input', async () => {
    const stream = anthropic.messages.stream({
      model: 'claude-sonnet-4-0',
      max_tokens: 200,
      tools: TOOLS,
      messages: ASK,
    });
    const events: Anthropic.MessageStreamEvent[] = [];
    stream.on('streamEvent', (event) => events.push(event));
    const message = await stream.finalMessage();
    const block = message.content[0];
    if (block?.type !== 'tool_use') throw new Error('expected a tool_use block');
    expectWeatherInput(block.input);
    expect(message.stop_reason).toBe('tool_use');
    const start = events.find((e) => e.type === 'content_block_start');
    expect(start?.type === 'content_block_start' ? start.content_block : null).toMatchObject({
      type: 'tool_use',
      name: 'get_weather',
      input: {},
    });
    const pieces = events.flatMap((e) =>
      e.type === 'content_block_delta' && e.delta.type === 'input_json_delta' ? [e.delta.partial_json] : [],
    );
    expect(pieces[0]).toBe('');
    expect(JSON.parse(pieces.join('')) as unknown).toEqual(block.input);
  });

  it('follows tool_choice: a named tool, none, and any after a tool result', async () => {
    const named = await anthropic.messages.create({
      model: 'claude-sonnet-4-0',
      max_tokens: 200,
      tools: TOOLS,
      tool_choice: { type: 'tool', name: 'get_time' },
      messages: ASK,
    });
    expect(named.content[0]).toMatchObject({ type: 'tool_use', name: 'get_time', input: {} });

    const none = await anthropic.messages.create({
      model: 'claude-sonnet-4-0',
      max_tokens: 200,
      tools: TOOLS,
      tool_choice: { type: 'none' },
      messages: ASK,
    });
    expect(none.stop_reason).toBe('end_turn');
    expect(none.content.map((b) => b.type)).toEqual(['text']);

    const first = named.content[0];
    if (first?.type !== 'tool_use') throw new Error('expected a tool_use block');
    const afterResult: Anthropic.MessageParam[] = [
      ...ASK,
      { role: 'assistant', content: [{ type: 'tool_use', id: first.id, name: first.name, input: first.input }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: first.id, content: '12:00' }] },
    ];
    const auto = await anthropic.messages.create({
      model: 'claude-sonnet-4-0',
      max_tokens: 200,
      tools: TOOLS,
      messages: afterResult,
    });
    expect(auto.stop_reason).toBe('end_turn');
    const any = await anthropic.messages.create({
      model: 'claude-sonnet-4-0',
      max_tokens: 200,
      tools: TOOLS,
      tool_choice: { type: 'any' },
      messages: afterResult,
    });
    expect(any.stop_reason).toBe('tool_use');
  });

  it('puts thinking before the tool call, and refuses thinking with a forced tool like Anthropic', async () => {
    const message = await anthropic.messages.create({
      model: 'claude-sonnet-4-0',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      tools: TOOLS,
      messages: ASK,
    });
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'tool_use']);
    const failure = await anthropic.messages
      .create({
        model: 'claude-sonnet-4-0',
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        tools: TOOLS,
        tool_choice: { type: 'any' },
        messages: ASK,
      })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String(failure)).toContain('Thinking may not be enabled when tool_choice forces tool use.');
  });

  it('stops at max_tokens inside the call with stop_reason max_tokens', async () => {
    const message = await anthropic.messages.create({
      model: 'claude-sonnet-4-0',
      max_tokens: 2,
      tools: TOOLS,
      messages: ASK,
    });
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.content[0]).toMatchObject({ type: 'tool_use', input: {} });
    expect(message.usage.output_tokens).toBe(2);
  });
});

describe('messages with output_config.format', () => {
  it('json_schema: the text parses as JSON with the required keys', async () => {
    const schema = {
      type: 'object',
      properties: { answer: { type: 'string' }, confidence: { type: 'number', maximum: 1 } },
      required: ['answer', 'confidence'],
      additionalProperties: false,
    };
    const message = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      messages: ASK,
      output_config: { format: { type: 'json_schema', schema } },
    });
    expect(message.stop_reason).toBe('end_turn');
    const block = message.content[0];
    if (block?.type !== 'text') throw new Error('expected a text block');
    expect(JSON.parse(block.text) as unknown).toEqual({ answer: expect.any(String), confidence: 1 });
  });
});
