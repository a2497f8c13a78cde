import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from './index.js';

/** Tool calls and structured output on the OpenAI wire, read by the official SDK. */

const WEATHER = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
    detail: { type: 'boolean' },
  },
  required: ['city', 'unit', 'days'],
  additionalProperties: false,
};
const TOOLS: OpenAI.Chat.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: WEATHER } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
];
const ASK: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'weather in Paris?' }];

function expectWeatherArgs(args: string | undefined): void {
  const parsed = JSON.parse(args ?? '') as Record<string, unknown>;
  expect(Object.keys(parsed).sort()).toEqual(['city', 'days', 'unit']);
  expect(typeof parsed.city).toBe('string');
  expect(parsed.unit).toBe('celsius');
  expect(parsed.days).toBe(1);
}

let up: DemoUpstream;
let openai: OpenAI;
beforeAll(async () => {
  up = await startDemoUpstream({ seed: 21, ttftMs: 0, itlMs: 0, maxOutputTokens: 6 });
  openai = new OpenAI({ baseURL: `${up.url}/v1`, apiKey: 'demo', maxRetries: 0 });
});
afterAll(() => up.close());

describe('chat completions with tools', () => {
  it('answers with a tool call whose arguments parse and fit the schema', async () => {
    const res = await openai.chat.completions.create({ model: 'gpt-4o', messages: ASK, tools: TOOLS });
    const choice = res.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    expect(call?.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expectWeatherArgs(call.function.arguments);
    // Output tokens are the arguments' demo token count (4 characters each).
    expect(res.usage?.completion_tokens).toBe(Math.ceil(call.function.arguments.length / 4));
  });

  it('streams the call as OpenAI does, and the SDK accumulates the same arguments', async () => {
    const runner = openai.chat.completions.stream({
      model: 'gpt-4o',
      messages: ASK,
      tools: TOOLS,
      stream_options: { include_usage: true },
    });
    const deltas: OpenAI.Chat.ChatCompletionChunk.Choice.Delta[] = [];
    runner.on('chunk', (chunk) => {
      const delta = chunk.choices[0]?.delta;
      if (delta) deltas.push(delta);
    });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expectWeatherArgs(call.function.arguments);
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    // The first delta names the call; later ones carry only argument pieces under index 0.
    expect(deltas[0]?.tool_calls?.[0]).toMatchObject({ index: 0, id: call.id, type: 'function' });
    expect(deltas[0]?.tool_calls?.[0]?.function).toEqual({ name: 'get_weather', arguments: '' });
    const pieces = deltas.slice(1).flatMap((d) => d.tool_calls ?? []);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every((p) => p.index === 0 && p.id === undefined && p.function?.name === undefined)).toBe(true);
    expect(pieces.map((p) => p.function?.arguments).join('')).toBe(call.function.arguments);
    expect(final.usage?.completion_tokens).toBe(pieces.length);
  });

  it('calls the tool tool_choice names (finishing with stop, as OpenAI does) and none when told none', async () => {
    const named = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: ASK,
      tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    const call = named.choices[0]?.message.tool_calls?.[0];
    const nameAndArgs = call?.type === 'function' ? [call.function.name, call.function.arguments] : null;
    expect(nameAndArgs).toEqual(['get_time', '{}']);
    expect(named.choices[0]?.finish_reason).toBe('stop');

    const none = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: ASK,
      tools: TOOLS,
      tool_choice: 'none',
    });
    expect(none.choices[0]?.message.tool_calls).toBeUndefined();
    expect(none.choices[0]?.message.content?.split(' ')).toHaveLength(6);

    await expect(
      openai.chat.completions.create({
        model: 'gpt-4o',
        messages: ASK,
        tools: TOOLS,
        tool_choice: { type: 'function', function: { name: 'missing' } },
      }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('answers a tool result in words under auto choice, but calls again when required', async () => {
    const first = await openai.chat.completions.create({ model: 'gpt-4o', messages: ASK, tools: TOOLS });
    const assistant = first.choices[0]?.message;
    const call = assistant?.tool_calls?.[0];
    if (!assistant || !call) throw new Error('expected a tool call');
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      ...ASK,
      assistant,
      { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' },
    ];
    const auto = await openai.chat.completions.create({ model: 'gpt-4o', messages, tools: TOOLS });
    expect(auto.choices[0]?.finish_reason).toBe('stop');
    expect(auto.choices[0]?.message.content).toMatch(/\w/);
    const required = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages,
      tools: TOOLS,
      tool_choice: 'required',
    });
    expect(required.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('cuts the arguments at max_tokens with finish_reason length', async () => {
    const res = await openai.chat.completions.create({ model: 'gpt-4o', messages: ASK, tools: TOOLS, max_tokens: 3 });
    const call = res.choices[0]?.message.tool_calls?.[0];
    expect(res.choices[0]?.finish_reason).toBe('length');
    expect(call?.type === 'function' ? call.function.arguments.length : 0).toBe(12);
    expect(res.usage?.completion_tokens).toBe(3);
  });
});

describe('chat completions with response_format', () => {
  it('json_schema: the content parses as JSON with the required keys, streamed or not', async () => {
    const response_format = {
      type: 'json_schema' as const,
      json_schema: { name: 'forecast', strict: true, schema: WEATHER },
    };
    const res = await openai.chat.completions.create({ model: 'gpt-4o', messages: ASK, response_format });
    expect(res.choices[0]?.finish_reason).toBe('stop');
    const content = res.choices[0]?.message.content ?? '';
    expectWeatherArgs(content);
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: ASK,
      response_format,
      stream: true,
    });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe(content);
  });

  it('json_object: a JSON object, and the 400 OpenAI gives when the prompt never says JSON', async () => {
    const res = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Reply in JSON please' }],
      response_format: { type: 'json_object' },
    });
    const parsed = JSON.parse(res.choices[0]?.message.content ?? '') as unknown;
    expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)).toBe(true);
    await expect(
      openai.chat.completions.create({ model: 'gpt-4o', messages: ASK, response_format: { type: 'json_object' } }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe('responses API with tools and text.format', () => {
  const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: WEATHER, strict: true }];

  it('returns a function_call output item, non-stream and streamed', async () => {
    const res = await openai.responses.create({ model: 'gpt-4o', input: 'weather in Paris?', tools });
    const item = res.output[0];
    if (item?.type !== 'function_call') throw new Error('expected a function_call item');
    expect(item).toMatchObject({ name: 'get_weather', status: 'completed' });
    expect(item.call_id).toMatch(/^call_/);
    expect(item.id).toMatch(/^fc_/);
    expectWeatherArgs(item.arguments);
    expect(res.status).toBe('completed');

    const stream = openai.responses.stream({ model: 'gpt-4o', input: 'weather in Paris?', tools });
    let deltas = '';
    const types = new Set<string>();
    stream.on('event', (event) => {
      types.add(event.type);
      if (event.type === 'response.function_call_arguments.delta') deltas += event.delta;
    });
    const final = await stream.finalResponse();
    const streamed = final.output[0];
    if (streamed?.type !== 'function_call') throw new Error('expected a function_call item');
    expectWeatherArgs(streamed.arguments);
    expect(deltas).toBe(streamed.arguments);
    expect(types).toContain('response.function_call_arguments.done');
    expect(types).not.toContain('response.output_text.delta');
  });

  it('answers a function_call_output in words', async () => {
    const res = await openai.responses.create({
      model: 'gpt-4o',
      tools,
      input: [
        { role: 'user', content: 'weather in Paris?' },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: '{"temp":21}' },
      ],
    });
    expect(res.output[0]?.type).toBe('message');
    expect(res.output_text.split(' ')).toHaveLength(6);
  });

  it('text.format json_schema: output_text parses as JSON with the required keys', async () => {
    const res = await openai.responses.create({
      model: 'gpt-4o',
      input: 'weather in Paris?',
      text: { format: { type: 'json_schema', name: 'forecast', schema: WEATHER, strict: true } },
    });
    expectWeatherArgs(res.output_text);
    expect(res.text?.format?.type).toBe('json_schema');
  });
});
