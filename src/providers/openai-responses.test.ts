import { describe, expect, it } from 'vitest';
import { loadWireBuffer, loadWireJson } from '../../test/fixtures/wire/index.js';
import { openaiResponsesAdapter, openaiResponsesUsage } from './index.js';
import { thrownBy } from '../testing/errors.js';
import { chunkings, feedChunks } from './testing/feed.js';

const request = () =>
  openaiResponsesAdapter.prepare({ model: 'o4-mini', input: 'What is the capital of France?', stream: true });
const sseEvent = (payload: { type: string } & Record<string, unknown>) =>
  `event: ${payload.type}\ndata: ${JSON.stringify(payload)}\n\n`;

describe('openai responses: usage mapping', () => {
  it('body: cached_tokens leave input_tokens, reasoning_tokens leave output_tokens', () => {
    const result = openaiResponsesAdapter.readBody(loadWireJson('openai-responses.json'));
    expect(result.usage?.buckets).toEqual({ input: 168, cache_read: 1152, output: 36, reasoning: 384 });
    expect(result.usage?.issues).toEqual([]);
    expect(result.usage?.raw).toMatchObject({ input_tokens: 1320, output_tokens: 420, total_tokens: 1740 });
    expect(result.servedModel).toBe('o4-mini-2025-04-16');
    expect(result.outputText).toBe('Paris is the capital of France.');
    expect(result.completed).toBe(true);
    expect(result.streamError).toBeNull();
  });

  it('hosted web search calls are counted per call', () => {
    const result = openaiResponsesAdapter.readBody(loadWireJson('openai-responses-web-search.json'));
    expect(result.usage?.buckets).toEqual({ input: 8412, output: 96, web_search: 1 });
    expect(result.outputText).toBe('A community garden opened in Lyon today.');
  });

  it('a failed or queued (background) body', () => {
    const failed = openaiResponsesAdapter.readBody({
      status: 'failed',
      model: 'gpt-4.1',
      error: { message: 'boom' },
      usage: null,
    });
    expect(failed).toMatchObject({ usage: null, completed: false, streamError: 'boom' });
    const queued = openaiResponsesAdapter.readBody({ status: 'queued', model: 'gpt-4.1', usage: null });
    expect(queued).toMatchObject({ usage: null, completed: false, streamError: null });
  });

  it('overshooting details are capped and reported', () => {
    const usage = openaiResponsesUsage({
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 12 },
      output_tokens: 3,
    });
    expect(usage?.buckets).toEqual({ cache_read: 10, output: 3 });
    expect(usage?.issues).toEqual(['input_tokens_details.cached_tokens (12) > input_tokens (10)']);
  });
});

describe('openai responses: stream tap', () => {
  const fixture = loadWireBuffer('openai-responses-stream.sse');

  it('reads usage from response.completed and forwards every byte, in every chunking', () => {
    for (const { name, chunks } of chunkings(fixture)) {
      const { forwarded, result } = feedChunks(openaiResponsesAdapter.createStreamTap(request()), chunks);
      expect(forwarded.equals(fixture), name).toBe(true);
      expect(result.usage?.buckets, name).toEqual({ input: 168, cache_read: 1152, output: 36, reasoning: 384 });
      expect(result.servedModel, name).toBe('o4-mini-2025-04-16');
      expect(result.outputText, name).toBe('Paris is the capital of France.');
      expect(result.completed, name).toBe(true);
      expect(result.streamError, name).toBeNull();
    }
  });

  it('a stream cut before response.completed has no usage and is not completed', () => {
    const text = fixture.toString();
    const cut = Buffer.from(text.slice(0, text.indexOf('event: response.completed') + 60));
    const { forwarded, result } = feedChunks(openaiResponsesAdapter.createStreamTap(request()), [cut]);
    expect(forwarded.equals(cut)).toBe(true);
    expect(result.usage).toBeNull();
    expect(result.completed).toBe(false);
    expect(result.outputText).toBe('Paris is the capital of France.');
    expect(result.servedModel).toBe('o4-mini-2025-04-16');
  });

  it('response.incomplete still ends the stream normally with its usage', () => {
    const sse = Buffer.from(
      sseEvent({
        type: 'response.incomplete',
        sequence_number: 9,
        response: {
          model: 'gpt-4.1-2025-04-14',
          status: 'incomplete',
          incomplete_details: { reason: 'max_output_tokens' },
          output: [],
          usage: {
            input_tokens: 20,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: 16,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: 36,
          },
        },
      }),
    );
    const { result } = feedChunks(openaiResponsesAdapter.createStreamTap(request()), [sse]);
    expect(result.completed).toBe(true);
    expect(result.usage?.buckets).toEqual({ input: 20, output: 16 });
  });

  it('response.failed and error events are stream errors', () => {
    const failed = Buffer.from(
      sseEvent({
        type: 'response.failed',
        sequence_number: 3,
        response: {
          model: 'o3-2025-04-16',
          status: 'failed',
          error: { code: 'server_error', message: 'The model failed to generate a response.' },
          output: [],
          usage: {
            input_tokens: 50,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: 0,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: 50,
          },
        },
      }),
    );
    const failedResult = feedChunks(openaiResponsesAdapter.createStreamTap(request()), [failed]).result;
    expect(failedResult.streamError).toBe('The model failed to generate a response.');
    expect(failedResult.completed).toBe(false);
    expect(failedResult.usage?.buckets).toEqual({ input: 50 });

    const error = Buffer.from(
      sseEvent({ type: 'error', sequence_number: 1, code: 'rate_limit_exceeded', message: 'Slow down', param: null }),
    );
    const errorResult = feedChunks(openaiResponsesAdapter.createStreamTap(request()), [error]).result;
    expect(errorResult.streamError).toBe('Slow down');
    expect(errorResult.usage).toBeNull();
  });
});

describe('openai responses: streamed tool calls', () => {
  it('collects function-call names and argument deltas, and counts web searches', () => {
    const sse = Buffer.from(
      [
        sseEvent({
          type: 'response.output_item.added',
          sequence_number: 2,
          output_index: 0,
          item: { type: 'web_search_call', id: 'ws_1', status: 'in_progress' },
        }),
        sseEvent({
          type: 'response.output_item.done',
          sequence_number: 3,
          output_index: 0,
          item: { type: 'web_search_call', id: 'ws_1', status: 'completed' },
        }),
        sseEvent({
          type: 'response.output_item.added',
          sequence_number: 4,
          output_index: 1,
          item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'get_weather', arguments: '' },
        }),
        sseEvent({
          type: 'response.function_call_arguments.delta',
          sequence_number: 5,
          item_id: 'fc_1',
          output_index: 1,
          delta: '{"city":',
        }),
        sseEvent({
          type: 'response.function_call_arguments.delta',
          sequence_number: 6,
          item_id: 'fc_1',
          output_index: 1,
          delta: '"Paris"}',
        }),
        sseEvent({
          type: 'response.completed',
          sequence_number: 7,
          response: {
            model: 'gpt-4.1-2025-04-14',
            status: 'completed',
            usage: { input_tokens: 300, output_tokens: 20, total_tokens: 320 },
          },
        }),
      ].join(''),
    );
    const { result } = feedChunks(openaiResponsesAdapter.createStreamTap(request()), [sse]);
    expect(result.outputText).toBe('get_weather{"city":"Paris"}');
    expect(result.usage?.buckets).toEqual({ input: 300, output: 20, web_search: 1 });
  });
});

describe('openai responses: prepare()', () => {
  it('extracts instructions, input text, tool outputs and flags images; passes bytes through', () => {
    const body = {
      model: 'gpt-4.1',
      instructions: 'Be brief.',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Describe this' },
            { type: 'input_image', image_url: 'https://x/y.png' },
          ],
        },
        { type: 'function_call', call_id: 'c1', name: 'lookup', arguments: '{"q":1}' },
        { type: 'function_call_output', call_id: 'c1', output: 'found it' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Earlier answer' }] },
        { type: 'reasoning', id: 'rs_1', encrypted_content: 'gAAAA' },
      ],
      max_output_tokens: 256,
    };
    const raw = Buffer.from(JSON.stringify(body));
    const request = openaiResponsesAdapter.prepare(body, raw);
    expect(request.body).toBe(raw);
    expect(request.promptText).toBe(
      ['Be brief.', 'Describe this', 'lookup', '{"q":1}', 'found it', 'Earlier answer'].join('\n'),
    );
    expect(request.hasNonTextInput).toBe(true);
    expect(request.messageCount).toBe(3);
    expect(request.maxOutputTokens).toBe(256);
    expect(request.stream).toBe(false);
    expect(request.clientWantsUsage).toBe(false);
  });

  it('accepts a stored prompt template without input', () => {
    const request = openaiResponsesAdapter.prepare({ model: 'gpt-4.1', prompt: { id: 'pmpt_123', version: '2' } });
    expect(request.promptText).toBe('');
  });

  it.each([
    ['a missing input', { model: 'gpt-4.1' }, 'input'],
    ['a numeric input', { model: 'gpt-4.1', input: 42 }, 'input'],
    ['a missing model', { input: 'hi' }, 'model'],
    ['a bad max_output_tokens', { model: 'gpt-4.1', input: 'hi', max_output_tokens: 2.5 }, 'max_output_tokens'],
    ['a bad stream', { model: 'gpt-4.1', input: 'hi', stream: 'true' }, 'stream'],
    ['a string body', 'hello', 'body'],
  ])('rejects %s naming the param', (_what, body, param) => {
    const error = thrownBy(() => openaiResponsesAdapter.prepare(body));
    expect(error.code).toBe('invalid_request');
    expect(error.param).toBe(param);
  });
});

describe('openai responses: stream tap, text deltas left unparsed', () => {
  const delta = (piece: string, type = 'response.output_text.delta') =>
    sseEvent({ type, sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: piece });
  const completed = sseEvent({
    type: 'response.completed',
    sequence_number: 9,
    response: {
      model: 'gpt-4.1-2025-04-14',
      status: 'completed',
      output: [],
      usage: { input_tokens: 10, output_tokens: 6, total_tokens: 16 },
    },
  });

  it('deltas that spell event names change nothing, and text keeps its order around parsed events', () => {
    const sse = Buffer.from(
      delta('The ') +
        delta('response') +
        delta(' had an ') +
        delta('error') +
        sseEvent({
          type: 'response.output_item.added',
          sequence_number: 2,
          output_index: 1,
          item: { type: 'function_call', name: 'lookup', arguments: '' },
        }) +
        delta('{"q":', 'response.function_call_arguments.delta') +
        delta('"response.completed"}', 'response.function_call_arguments.delta') +
        sseEvent({ type: 'response.output_text.done', sequence_number: 3, text: 'The response had an error' }) +
        completed,
    );
    for (const { name, chunks } of chunkings(sse)) {
      const { forwarded, result } = feedChunks(openaiResponsesAdapter.createStreamTap(request()), chunks);
      expect(forwarded.equals(sse), name).toBe(true);
      expect(result.outputText, name).toBe('The response had an errorlookup{"q":"response.completed"}');
      expect(result.usage?.buckets, name).toEqual({ input: 10, output: 6 });
      expect(result.servedModel, name).toBe('gpt-4.1-2025-04-14');
      expect(result.completed, name).toBe(true);
      expect(result.streamError, name).toBeNull();
    }
  });

  it('events spelled with escapes are still read', () => {
    const escaped = completed
      .replace('"type":"response.completed"', '"type":"response\\u002ecompleted"')
      .replace('"response":{', '"r\\u0065sponse":{');
    expect(escaped).not.toContain('"response"');
    const { result } = feedChunks(openaiResponsesAdapter.createStreamTap(request()), [
      Buffer.from(delta('Hi') + escaped),
    ]);
    expect(result.completed).toBe(true);
    expect(result.usage?.buckets).toEqual({ input: 10, output: 6 });
    expect(result.servedModel).toBe('gpt-4.1-2025-04-14');
    expect(result.outputText).toBe('Hi');

    const error = 'event: error\ndata: {"type":"\\u0065rror","code":"rate_limit_exceeded","message":"Slow down"}\n\n';
    const errorResult = feedChunks(openaiResponsesAdapter.createStreamTap(request()), [
      Buffer.from(delta('Hi') + error),
    ]).result;
    expect(errorResult.streamError).toBe('Slow down');
  });
});
