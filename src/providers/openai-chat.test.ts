import { describe, expect, it } from 'vitest';
import { loadWireBuffer, loadWireJson } from '../../test/fixtures/wire/index.js';
import { countTokens, estimateUsage } from '../usage/index.js';
import { openaiChatAdapter, openaiChatUsage } from './index.js';
import { withoutBlocks } from './testing/errors.js';
import { chunkings, feedChunks } from './testing/feed.js';

const USAGE_CHUNK = '"choices":[],"usage":{';

function streamRequest(clientWantsUsage: boolean) {
  const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true };
  const stream_options = clientWantsUsage ? { include_usage: true } : undefined;
  return openaiChatAdapter.prepare({ ...body, stream_options });
}

describe('openai chat: usage mapping', () => {
  it('o-series body: cached_tokens leave input, reasoning_tokens leave output', () => {
    const result = openaiChatAdapter.readBody(loadWireJson('openai-chat-o-series.json'));
    expect(result.usage?.buckets).toEqual({ input: 384, cache_read: 1920, output: 162, reasoning: 1024 });
    expect(result.usage?.source).toBe('provider');
    expect(result.usage?.issues).toEqual([]);
    expect(result.usage?.raw).toEqual((loadWireJson('openai-chat-o-series.json') as { usage: unknown }).usage);
    expect(result.servedModel).toBe('o4-mini-2025-04-16');
    expect(result.outputText).toBe(
      "The capital of France is Paris. It has been the country's capital since the 10th century",
    );
    expect(result.completed).toBe(true);
    expect(result.streamError).toBeNull();
  });

  it('audio body: audio tokens get their own buckets on both sides', () => {
    const result = openaiChatAdapter.readBody(loadWireJson('openai-chat-audio.json'));
    expect(result.usage?.buckets).toEqual({ input: 40, input_audio: 47, output: 44, output_audio: 152 });
    expect(result.outputText).toBe('Sure, the weather in Paris is mild today.');
  });

  it('predicted outputs: accepted and rejected prediction tokens stay billed as output', () => {
    const result = openaiChatAdapter.readBody(loadWireJson('openai-chat-prediction.json'));
    expect(result.usage?.buckets).toEqual({ input: 151, output: 95 });
  });

  it('details that overshoot the total are capped to it and reported', () => {
    const raw = { prompt_tokens: 100, completion_tokens: 10, prompt_tokens_details: { cached_tokens: 120 } };
    const usage = openaiChatUsage(raw);
    expect(usage?.buckets).toEqual({ cache_read: 100, output: 10 });
    expect(usage?.issues).toEqual(['prompt_tokens_details.cached_tokens (120) > prompt_tokens (100)']);
    expect(usage?.raw).toBe(raw);
  });

  it('a body without usage yields no usage, never zeros', () => {
    expect(openaiChatAdapter.readBody({ model: 'gpt-4o', choices: [] }).usage).toBeNull();
    expect(openaiChatAdapter.readBody('not json').usage).toBeNull();
    expect(openaiChatUsage(null)).toBeNull();
  });
});

describe('openai chat: stream tap', () => {
  const fixture = loadWireBuffer('openai-chat-stream-usage.sse');

  it('hides the include_usage chunk from a client that did not ask, in every chunking', () => {
    const expectedBytes = withoutBlocks(fixture, USAGE_CHUNK);
    expect(expectedBytes.length).toBeLessThan(fixture.length);
    for (const { name, chunks } of chunkings(fixture)) {
      const { forwarded, result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(false)), chunks);
      expect(forwarded.equals(expectedBytes), name).toBe(true);
      expect(result.usage?.buckets, name).toEqual({ input: 222, cache_read: 1280, output: 9 });
      expect(result.usage?.raw, name).toMatchObject({ prompt_tokens: 1502, completion_tokens: 9 });
      expect(result.outputText, name).toBe('Hello! How can I help you today?');
      expect(result.servedModel, name).toBe('gpt-4o-mini-2024-07-18');
      expect(result.completed, name).toBe(true);
      expect(result.streamError, name).toBeNull();
    }
  });

  it('keeps the usage chunk for a client that asked for it: bytes unchanged', () => {
    for (const { name, chunks } of chunkings(fixture)) {
      const { forwarded, result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(true)), chunks);
      expect(forwarded.equals(fixture), name).toBe(true);
      expect(result.usage?.buckets, name).toEqual({ input: 222, cache_read: 1280, output: 9 });
    }
  });

  it('reads CRLF-framed streams the same way', () => {
    const crlf = Buffer.from(fixture.toString().replaceAll('\n', '\r\n'));
    for (const { name, chunks } of chunkings(crlf)) {
      const { forwarded, result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(false)), chunks);
      expect(forwarded.equals(withoutBlocks(crlf, USAGE_CHUNK, '\r\n\r\n')), name).toBe(true);
      expect(result.usage?.buckets, name).toEqual({ input: 222, cache_read: 1280, output: 9 });
      expect(result.completed, name).toBe(true);
    }
  });

  it('collects streamed tool-call names and arguments as output text', () => {
    const { result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(false)), [
      loadWireBuffer('openai-chat-stream-tool-call.sse'),
    ]);
    expect(result.outputText).toBe('get_weather{"city":"Paris","unit":"celsius"}');
    expect(result.usage?.buckets).toEqual({ input: 82, output: 17 });
    expect(result.servedModel).toBe('gpt-4.1-2025-04-14');
  });

  it('a stream cut mid-way: no usage, not completed, the partial text, the same bytes', () => {
    const cut = loadWireBuffer('openai-chat-stream-cut.sse');
    for (const { name, chunks } of chunkings(cut)) {
      const { forwarded, result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(false)), chunks);
      expect(forwarded.equals(cut), name).toBe(true);
      expect(result.usage, name).toBeNull();
      expect(result.completed, name).toBe(false);
      expect(result.outputText, name).toBe('The capital of France is Paris.');
      expect(result.servedModel, name).toBe('gpt-4o-2024-08-06');
    }
  });

  it('the cut stream is then estimated from the prompt and the partial text', () => {
    const request = openaiChatAdapter.prepare({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'What is the capital of France?' }],
    });
    const { result } = feedChunks(openaiChatAdapter.createStreamTap(request), [
      loadWireBuffer('openai-chat-stream-cut.sse'),
    ]);
    const usage = estimateUsage({
      model: result.servedModel ?? request.model,
      promptText: request.promptText,
      outputText: result.outputText,
      hasNonTextInput: request.hasNonTextInput,
      messageCount: request.messageCount,
    });
    expect(usage.source).toBe('estimated');
    expect(usage.buckets).toEqual({
      input: countTokens('What is the capital of France?', 'gpt-4o') + 3 + 3,
      output: countTokens('The capital of France is Paris.', 'gpt-4o'),
    });
  });

  it('reports an error object sent inside the stream', () => {
    const sse = Buffer.from(
      'data: {"id":"x","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n' +
        'data: {"error":{"message":"The server had an error while processing your request.","type":"server_error"}}\n\n',
    );
    const { forwarded, result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(false)), [sse]);
    expect(forwarded.equals(sse)).toBe(true);
    expect(result.streamError).toBe('The server had an error while processing your request.');
    expect(result.completed).toBe(false);
    expect(result.outputText).toBe('Hi');
  });

  it('takes the latest usage from servers that report it on every chunk, and never drops content chunks', () => {
    const chunk = (content: string, completion: number) =>
      `data: {"model":"grok-3","choices":[{"index":0,"delta":{"content":"${content}"}}],"usage":{"prompt_tokens":38,"completion_tokens":${completion},"total_tokens":${38 + completion}}}\n\n`;
    const sse = Buffer.from(chunk('Coca', 1) + chunk('-Cola', 2) + 'data: [DONE]\n\n');
    const { forwarded, result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(false)), [sse]);
    expect(forwarded.equals(sse)).toBe(true);
    expect(result.usage?.buckets).toEqual({ input: 38, output: 2 });
  });
});

describe('openai chat: stream tap, content chunks left unparsed', () => {
  const data = (chunk: Record<string, unknown>) => `data: ${JSON.stringify(chunk)}\n\n`;
  const content = (text: string, model = 'gpt-4o-2024-08-06') =>
    data({
      id: 'c',
      object: 'chat.completion.chunk',
      model,
      choices: [{ index: 0, delta: { content: text }, finish_reason: null }],
      usage: null,
    });
  const usageChunk = (model = 'gpt-4o-2024-08-06') =>
    data({ id: 'c', model, choices: [], usage: { prompt_tokens: 30, completion_tokens: 7, total_tokens: 37 } });
  const DONE = 'data: [DONE]\n\n';

  it('a stream without the usage chunk: no usage, and the full text for the estimate, in every chunking', () => {
    const fixture = loadWireBuffer('openai-chat-stream-usage.sse');
    const noUsage = withoutBlocks(fixture, USAGE_CHUNK);
    for (const { name, chunks } of chunkings(noUsage)) {
      const { forwarded, result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(false)), chunks);
      expect(forwarded.equals(noUsage), name).toBe(true);
      expect(result.usage, name).toBeNull();
      expect(result.completed, name).toBe(true);
      expect(result.servedModel, name).toBe('gpt-4o-mini-2024-07-18');
      expect(result.outputText, name).toBe('Hello! How can I help you today?');
    }
    const request = streamRequest(false);
    const { result } = feedChunks(openaiChatAdapter.createStreamTap(request), [noUsage]);
    const estimate = estimateUsage({
      model: result.servedModel ?? request.model,
      promptText: request.promptText,
      outputText: result.outputText,
      hasNonTextInput: false,
    });
    expect(estimate.buckets.output).toBe(countTokens('Hello! How can I help you today?', 'gpt-4o-mini-2024-07-18'));
  });

  it('content and tool arguments that spell "usage", "error" or "model" change nothing', () => {
    const pieces = [
      'usage',
      '"usage": {"prompt_tokens": 1}',
      'error',
      '{"error":{"message":"x"}}',
      'model',
      '"model":"other"',
    ];
    const toolCall = data({
      model: 'gpt-4o-2024-08-06',
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              { index: 0, function: { name: 'usage', arguments: '{"usage":{"a":1},"model":"x","error":{}}' } },
            ],
          },
        },
      ],
      usage: null,
    });
    const sse = Buffer.from(pieces.map((piece) => content(piece)).join('') + toolCall + usageChunk() + DONE);
    for (const { name, chunks } of chunkings(sse)) {
      const { forwarded, result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(false)), chunks);
      expect(forwarded.equals(withoutBlocks(sse, USAGE_CHUNK)), name).toBe(true);
      expect(result.usage?.buckets, name).toEqual({ input: 30, output: 7 });
      expect(result.servedModel, name).toBe('gpt-4o-2024-08-06');
      expect(result.streamError, name).toBeNull();
      expect(result.outputText, name).toBe(pieces.join('') + 'usage{"usage":{"a":1},"model":"x","error":{}}');
    }
  });

  it('an error object mid-stream sets the stream error; the text around it stays in order', () => {
    const sse = Buffer.from(
      content('Hello') +
        content(' there') +
        data({
          model: 'gpt-4o-2024-08-06',
          choices: [{ index: 0, delta: { content: ',' } }],
          error: { message: 'partial outage', type: 'server_error' },
        }) +
        content(' friend') +
        DONE,
    );
    for (const { name, chunks } of chunkings(sse)) {
      const { forwarded, result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(false)), chunks);
      expect(forwarded.equals(sse), name).toBe(true);
      expect(result.streamError, name).toBe('partial outage');
      expect(result.outputText, name).toBe('Hello there, friend');
      expect(result.usage, name).toBeNull();
    }
  });

  it('the served model is the latest one sent, even when it changes mid-stream', () => {
    const sse = Buffer.from(
      content('a', 'gpt-4o') + content('b', 'gpt-4o') + content('c', 'gpt-4o-2024-08-06') + content('d', '') + DONE,
    );
    const { result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(false)), [sse]);
    expect(result.servedModel).toBe('gpt-4o-2024-08-06');
    expect(result.outputText).toBe('abcd');
  });

  it('a usage key spelled with escapes is still read, and its chunk still hidden', () => {
    const escaped =
      'data: {"model":"gpt-4o-2024-08-06","choices":[],"\\u0075sage":{"prompt_tokens":30,"completion_tokens":7}}\n\n';
    const sse = Buffer.from(content('Hi') + escaped + DONE);
    const { forwarded, result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(false)), [sse]);
    expect(result.usage?.buckets).toEqual({ input: 30, output: 7 });
    expect(forwarded.toString()).toBe(content('Hi') + DONE);
  });

  it('reads pretty-printed chunks the same way', () => {
    const pretty = (chunk: Record<string, unknown>) =>
      `data: ${JSON.stringify(chunk, null, 1).replaceAll('\n', ' ')}\n\n`;
    const sse = Buffer.from(
      pretty({ model: 'grok-3', choices: [{ index: 0, delta: { content: 'Coca' } }], usage: null }) +
        pretty({ model: 'grok-3', choices: [{ index: 0, delta: { content: '-Cola' } }], usage: null }) +
        pretty({ model: 'grok-3', choices: [], usage: { prompt_tokens: 38, completion_tokens: 2 } }) +
        DONE,
    );
    const { result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(true)), [sse]);
    expect(result.usage?.buckets).toEqual({ input: 38, output: 2 });
    expect(result.outputText).toBe('Coca-Cola');
    expect(result.servedModel).toBe('grok-3');
  });

  it('a long stream keeps its whole text', () => {
    const words = Array.from({ length: 600 }, (_, i) => ` w${i}`);
    const sse = Buffer.from(words.map((word) => content(word)).join('') + DONE);
    const { result } = feedChunks(openaiChatAdapter.createStreamTap(streamRequest(false)), [sse]);
    expect(result.outputText).toBe(words.join(''));
    expect({ ...result }.outputText).toBe(words.join(''));
  });
});
