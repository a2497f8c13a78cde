import { describe, expect, it } from 'vitest';
import { loadWireBuffer, loadWireJson } from '../../test/fixtures/wire/index.js';
import { countTokens } from '../usage/index.js';
import { anthropicMessagesAdapter, anthropicUsage, INCOMPLETE_STREAM_ISSUE } from './index.js';
import { chunkings, feedChunks } from './testing/feed.js';

const request = (model = 'claude-sonnet-4-5') =>
  anthropicMessagesAdapter.prepare({
    model,
    max_tokens: 1024,
    stream: true,
    messages: [{ role: 'user', content: 'What is 27 * 453?' }],
  });

describe('anthropic messages: usage mapping', () => {
  it('body: input excludes cache reads and writes; writes split by TTL', () => {
    const result = anthropicMessagesAdapter.readBody(loadWireJson('anthropic-messages-cache.json'));
    expect(result.usage?.buckets).toEqual({
      input: 21,
      cache_read: 14250,
      cache_write_5m: 1012,
      cache_write_1h: 2000,
      output: 393,
    });
    expect(result.usage?.issues).toEqual([]);
    expect(result.usage?.raw).toMatchObject({ input_tokens: 21, cache_creation_input_tokens: 3012 });
    expect(result.servedModel).toBe('claude-sonnet-4-20250514');
    expect(result.outputText).toBe(
      'Based on the contract you shared, the termination clause requires 90 days written notice.',
    );
    expect(result.completed).toBe(true);
  });

  it('body: server-side web searches are billed per request', () => {
    const result = anthropicMessagesAdapter.readBody(loadWireJson('anthropic-messages-web-search.json'));
    expect(result.usage?.buckets).toEqual({ input: 6039, output: 931, web_search: 1 });
    expect(result.outputText).toBe(
      'I\'ll search for that.\nweb_search\n{"query":"claude shannon birth date"}\nClaude Shannon was born on April 30, 1916, in Petoskey, Michigan.',
    );
  });

  it('without the cache_creation split every cache write is 5m', () => {
    const usage = anthropicUsage({
      input_tokens: 5,
      cache_creation_input_tokens: 700,
      cache_read_input_tokens: 0,
      output_tokens: 9,
    });
    expect(usage?.buckets).toEqual({ input: 5, cache_write_5m: 700, output: 9 });
  });

  it('a split that does not add up keeps the total: the 1h part as reported, the rest 5m', () => {
    const usage = anthropicUsage({
      input_tokens: 5,
      cache_creation_input_tokens: 700,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 },
      output_tokens: 9,
    });
    expect(usage?.buckets).toEqual({ input: 5, cache_write_5m: 500, cache_write_1h: 200, output: 9 });
    expect(usage?.issues).toEqual(['cache_creation 5m + 1h (300) != cache_creation_input_tokens (700)']);
  });

  it('thinking stays in output unless output_tokens_details reports it', () => {
    expect(anthropicUsage({ input_tokens: 1, output_tokens: 300 })?.buckets).toEqual({ input: 1, output: 300 });
    const detailed = anthropicUsage({
      input_tokens: 1,
      output_tokens: 300,
      output_tokens_details: { thinking_tokens: 220 },
    });
    expect(detailed?.buckets).toEqual({ input: 1, output: 80, reasoning: 220 });
  });
});

describe('anthropic messages: stream tap', () => {
  const fixture = loadWireBuffer('anthropic-stream-thinking.sse');

  it('takes the latest cumulative usage (never sums message_delta), in every chunking', () => {
    for (const { name, chunks } of chunkings(fixture)) {
      const { forwarded, result } = feedChunks(anthropicMessagesAdapter.createStreamTap(request()), chunks);
      expect(forwarded.equals(fixture), name).toBe(true);
      expect(result.usage?.buckets, name).toEqual({ input: 472, cache_read: 2048, output: 318 });
      expect(result.usage?.source, name).toBe('provider');
      expect(result.usage?.issues, name).toEqual([]);
      expect(result.usage?.raw, name).toEqual({
        input_tokens: 472,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 2048,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
        output_tokens: 318,
        service_tier: 'standard',
      });
      expect(result.servedModel, name).toBe('claude-sonnet-4-5-20250929');
      expect(result.outputText, name).toBe(
        'The user asks for 27 * 453. 27 * 453 = 27 * 400 + 27 * 53 = 10800 + 1431 = 12231.27 × 453 = **12,231**',
      );
      expect(result.completed, name).toBe(true);
      expect(result.streamError, name).toBeNull();
    }
  });

  it('an output-only message_delta keeps the input side from message_start', () => {
    const sse = Buffer.from(
      'event: message_start\ndata: {"type":"message_start","message":{"model":"claude-3-7-sonnet-20250219","usage":{"input_tokens":25,"cache_creation_input_tokens":10,"cache_read_input_tokens":0,"output_tokens":1}}}\n\n' +
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}\n\n' +
        'event: message_delta\ndata: {"type":"message_delta","delta":{},"usage":{"output_tokens":40,"input_tokens":null}}\n\n' +
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    );
    const { result } = feedChunks(anthropicMessagesAdapter.createStreamTap(request()), [sse]);
    expect(result.usage?.buckets).toEqual({ input: 25, cache_write_5m: 10, output: 40 });
  });

  it('an error event inside the 200 stream: stream error, exact input, output estimated', () => {
    const errorStream = loadWireBuffer('anthropic-stream-error.sse');
    for (const { name, chunks } of chunkings(errorStream)) {
      const { forwarded, result } = feedChunks(
        anthropicMessagesAdapter.createStreamTap(request('claude-3-5-haiku')),
        chunks,
      );
      expect(forwarded.equals(errorStream), name).toBe(true);
      expect(result.streamError, name).toBe('overloaded_error: Overloaded');
      expect(result.completed, name).toBe(false);
      expect(result.outputText, name).toBe('Here is a summary of the quarterly report: revenue grew');
      const streamed = countTokens(
        'Here is a summary of the quarterly report: revenue grew',
        'claude-3-5-haiku-20241022',
      );
      expect(streamed).toBe(16); // 55 characters / 3.5
      expect(result.usage, name).toMatchObject({
        buckets: { input: 1205, output: 16 },
        source: 'estimated',
        issues: [INCOMPLETE_STREAM_ISSUE],
      });
    }
  });

  it('a stream cut before message_start has no usage', () => {
    const { result } = feedChunks(anthropicMessagesAdapter.createStreamTap(request()), [
      Buffer.from('event: message_sta'),
    ]);
    expect(result.usage).toBeNull();
    expect(result.completed).toBe(false);
  });
});

describe('anthropic messages: streamed tool use', () => {
  it('collects the tool name and its partial_json input as output text', () => {
    const sse = Buffer.from(
      [
        '{"type":"message_start","message":{"model":"claude-opus-4-1-20250805","usage":{"input_tokens":400,"output_tokens":1}}}',
        '{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}',
        '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\": "}}',
        '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\\"Paris\\"}"}}',
        '{"type":"content_block_stop","index":0}',
        '{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":52}}',
        '{"type":"message_stop"}',
      ]
        .map((data) => `event: ${(JSON.parse(data) as { type: string }).type}\ndata: ${data}\n\n`)
        .join(''),
    );
    const { result } = feedChunks(anthropicMessagesAdapter.createStreamTap(request()), [sse]);
    expect(result.outputText).toBe('get_weather{"city": "Paris"}');
    expect(result.usage?.buckets).toEqual({ input: 400, output: 52 });
    expect(result.completed).toBe(true);
  });
});

describe('anthropic messages: stream tap, content events left unparsed', () => {
  const event = (data: { type: string } & Record<string, unknown>) =>
    `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
  const start = event({
    type: 'message_start',
    message: { model: 'claude-sonnet-4-5-20250929', usage: { input_tokens: 12, output_tokens: 1 } },
  });
  const text = (piece: string) =>
    event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } });
  const end =
    event({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }) +
    event({ type: 'message_stop' });

  it('text that names the state events changes nothing, and keeps its order', () => {
    const pieces = ['The ', 'error', ' said ', 'message_stop', ' and ', 'message_delta', '.'];
    const sse = Buffer.from(
      start +
        event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
        pieces.map(text).join('') +
        event({ type: 'ping' }) +
        event({ type: 'content_block_stop', index: 0 }) +
        end,
    );
    for (const { name, chunks } of chunkings(sse)) {
      const { forwarded, result } = feedChunks(anthropicMessagesAdapter.createStreamTap(request()), chunks);
      expect(forwarded.equals(sse), name).toBe(true);
      expect(result.outputText, name).toBe(pieces.join(''));
      expect(result.usage?.buckets, name).toEqual({ input: 12, output: 9 });
      expect(result.completed, name).toBe(true);
      expect(result.streamError, name).toBeNull();
    }
  });

  it('events spelled with escapes are still read; a partial output is estimated from the text', () => {
    const sse = Buffer.from(
      start +
        text('Hello') +
        text(' world') +
        'event: error\ndata: {"type":"\\u0065rror","\\u0065rror":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
    );
    const { result } = feedChunks(anthropicMessagesAdapter.createStreamTap(request()), [sse]);
    expect(result.streamError).toBe('overloaded_error: Overloaded');
    expect(result.completed).toBe(false);
    expect(result.outputText).toBe('Hello world');
    expect(result.usage?.source).toBe('estimated');
    expect(result.usage?.buckets.output).toBe(countTokens('Hello world', 'claude-sonnet-4-5-20250929'));

    const stop = 'event: message_stop\ndata: {"type":"message\\u005Fstop"}\n\n';
    expect(
      feedChunks(anthropicMessagesAdapter.createStreamTap(request()), [Buffer.from(start + text('Hi') + stop)]).result
        .completed,
    ).toBe(true);
  });

  it('the event: line does not decide: a message_delta under another name is still read', () => {
    const sse = Buffer.from(
      start +
        text('Hi') +
        'event: content_block_delta\ndata: {"type":"message_delta","delta":{},"usage":{"output_tokens":4}}\n\n' +
        'data: {"type":"message_stop"}\n\n',
    );
    const { result } = feedChunks(anthropicMessagesAdapter.createStreamTap(request()), [sse]);
    expect(result.usage?.buckets).toEqual({ input: 12, output: 4 });
    expect(result.completed).toBe(true);
    expect(result.outputText).toBe('Hi');
  });
});
