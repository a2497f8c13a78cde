import { describe, expect, it } from 'vitest';
import { anthropicCountTokensAdapter, anthropicMessagesAdapter } from './index.js';
import { thrownBy } from '../testing/errors.js';
import { feedChunks } from './testing/feed.js';

const valid = { model: 'claude-sonnet-4-5', max_tokens: 512, messages: [{ role: 'user', content: 'Hello' }] };

describe('anthropic messages: prepare()', () => {
  it('extracts system, text, tool use and results, text documents; flags images and PDFs', () => {
    const body = {
      ...valid,
      system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Plain doc.' } },
            { type: 'text', text: 'Summarize.' },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hidden', signature: 'sig' },
            { type: 'tool_use', id: 'toolu_1', name: 'search', input: { q: 'x' } },
          ],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'Result.' }] }],
        },
      ],
      tools: [{ name: 'search', input_schema: { type: 'object' } }],
    };
    const raw = Buffer.from(JSON.stringify(body));
    const request = anthropicMessagesAdapter.prepare(body, raw);
    expect(request.body).toBe(raw);
    expect(request.promptText).toBe(
      [
        'You are terse.',
        'Plain doc.',
        'Summarize.',
        'search',
        '{"q":"x"}',
        'Result.',
        '[{"name":"search","input_schema":{"type":"object"}}]',
      ].join('\n'),
    );
    expect(request.hasNonTextInput).toBe(true);
    expect(request.messageCount).toBe(4);
    expect(request.maxOutputTokens).toBe(512);
    expect(request.stream).toBe(false);
    const pdf = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } };
    expect(
      anthropicMessagesAdapter.prepare({ ...valid, messages: [{ role: 'user', content: [pdf] }] }).hasNonTextInput,
    ).toBe(true);
  });

  it('a plain string prompt', () => {
    const request = anthropicMessagesAdapter.prepare({ ...valid, system: 'Be kind.', stream: true });
    expect(request.promptText).toBe('Be kind.\nHello');
    expect(request.hasNonTextInput).toBe(false);
    expect(request.stream).toBe(true);
    expect(request.messageCount).toBe(2);
  });

  it.each([
    ['a missing model', { messages: valid.messages }, 'model'],
    ['missing messages', { model: 'claude-sonnet-4-5' }, 'messages'],
    ['messages not an array', { ...valid, messages: {} }, 'messages'],
    ['a bad max_tokens', { ...valid, max_tokens: 0 }, 'max_tokens'],
    ['a bad stream', { ...valid, stream: 'no' }, 'stream'],
    ['a non-object body', 'text', 'body'],
  ])('rejects %s naming the param', (_what, body, param) => {
    const error = thrownBy(() => anthropicMessagesAdapter.prepare(body));
    expect(error.code).toBe('invalid_request');
    expect(error.param).toBe(param);
  });
});

describe('anthropic count_tokens', () => {
  it('is validated like messages but not metered', () => {
    expect(anthropicCountTokensAdapter.metered).toBe(false);
    expect(anthropicCountTokensAdapter.upstreamPath).toBe('/v1/messages/count_tokens');
    const request = anthropicCountTokensAdapter.prepare({
      model: 'claude-sonnet-4-5',
      messages: valid.messages,
      stream: true,
    });
    expect(request.stream).toBe(false);
    expect(request.promptText).toBe('Hello');
    expect(thrownBy(() => anthropicCountTokensAdapter.prepare({ model: 'claude-sonnet-4-5' })).param).toBe('messages');
    expect(anthropicCountTokensAdapter.readBody({ input_tokens: 14 })).toEqual({
      usage: null,
      servedModel: null,
      outputText: '',
      completed: true,
      streamError: null,
    });
    const bytes = Buffer.from('{"input_tokens":14}');
    expect(feedChunks(anthropicCountTokensAdapter.createStreamTap(request), [bytes]).forwarded.equals(bytes)).toBe(
      true,
    );
  });
});
