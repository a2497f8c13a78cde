import { describe, expect, it } from 'vitest';
import { openaiChatAdapter } from './index.js';
import { thrownBy } from '../testing/errors.js';

const valid = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] };

describe('openai chat: prepare() validation', () => {
  it.each([
    ['a non-object body', [1, 2], 'body'],
    ['a null body', null, 'body'],
    ['a missing model', { messages: valid.messages }, 'model'],
    ['an empty model', { ...valid, model: '  ' }, 'model'],
    ['a numeric model', { ...valid, model: 4 }, 'model'],
    ['missing messages', { model: 'gpt-4o' }, 'messages'],
    ['empty messages', { ...valid, messages: [] }, 'messages'],
    ['messages as a string', { ...valid, messages: 'hi' }, 'messages'],
    ['a message that is not an object', { ...valid, messages: [valid.messages[0], 'oops'] }, 'messages[1]'],
    ['a non-boolean stream', { ...valid, stream: 'yes' }, 'stream'],
    ['max_tokens of 0', { ...valid, max_tokens: 0 }, 'max_tokens'],
    ['a fractional max_tokens', { ...valid, max_tokens: 1.5 }, 'max_tokens'],
    ['a string max_tokens', { ...valid, max_tokens: '10' }, 'max_tokens'],
    ['a negative max_completion_tokens', { ...valid, max_completion_tokens: -1 }, 'max_completion_tokens'],
    ['stream_options that is not an object', { ...valid, stream: true, stream_options: true }, 'stream_options'],
  ])('rejects %s naming the param', (_what, body, param) => {
    const error = thrownBy(() => openaiChatAdapter.prepare(body));
    expect(error.code).toBe('invalid_request');
    expect(error.status).toBe(400);
    expect(error.param).toBe(param);
  });
});

describe('openai chat: prepare() rewrite', () => {
  it('injects include_usage into a stream, keeping other stream options', () => {
    const raw = Buffer.from(JSON.stringify({ ...valid, stream: true, stream_options: { include_obfuscation: false } }));
    const request = openaiChatAdapter.prepare(JSON.parse(raw.toString()), raw);
    expect(request.stream).toBe(true);
    expect(request.clientWantsUsage).toBe(false);
    expect(JSON.parse(request.body.toString())).toEqual({
      ...valid,
      stream: true,
      stream_options: { include_obfuscation: false, include_usage: true },
    });
  });

  it('overrides include_usage: false and remembers that the client did not want it', () => {
    const request = openaiChatAdapter.prepare({ ...valid, stream: true, stream_options: { include_usage: false } });
    expect(request.clientWantsUsage).toBe(false);
    expect(JSON.parse(request.body.toString()).stream_options).toEqual({ include_usage: true });
  });

  it('forwards the original bytes when nothing changes', () => {
    const asked = Buffer.from(`{ "model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
      "messages": [{"role": "user", "content": "Hello"}] }`);
    const request = openaiChatAdapter.prepare(JSON.parse(asked.toString()), asked);
    expect(request.body).toBe(asked);
    expect(request.clientWantsUsage).toBe(true);

    const plain = Buffer.from(JSON.stringify(valid) + '\n');
    const nonStream = openaiChatAdapter.prepare(valid, plain);
    expect(nonStream.body).toBe(plain);
    expect(nonStream.stream).toBe(false);
    expect(nonStream.clientWantsUsage).toBe(false);
  });

  it('serializes the body when no raw bytes are given', () => {
    expect(JSON.parse(openaiChatAdapter.prepare(valid).body.toString())).toEqual(valid);
  });

  it('does not mutate the client body', () => {
    const body = { ...valid, stream: true };
    openaiChatAdapter.prepare(body);
    expect(body).toEqual({ ...valid, stream: true });
  });

  it('takes max_completion_tokens over max_tokens as the output bound', () => {
    expect(openaiChatAdapter.prepare({ ...valid, max_tokens: 100 }).maxOutputTokens).toBe(100);
    expect(openaiChatAdapter.prepare({ ...valid, max_tokens: 100, max_completion_tokens: 50 }).maxOutputTokens).toBe(
      50,
    );
    expect(openaiChatAdapter.prepare(valid).maxOutputTokens).toBeNull();
  });

  it('extracts all prompt text, tool calls and tool results, and flags images and audio', () => {
    const request = openaiChatAdapter.prepare({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"cat"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'A cat.' }] },
      ],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
    });
    expect(request.promptText).toBe(
      [
        'Be brief.',
        'What is in this image?',
        'lookup',
        '{"q":"cat"}',
        'A cat.',
        '[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}]',
      ].join('\n'),
    );
    expect(request.hasNonTextInput).toBe(true);
    expect(request.messageCount).toBe(4);
    expect(request.model).toBe('gpt-4o');
  });

  it('text-only prompts are not flagged as non-text', () => {
    const request = openaiChatAdapter.prepare(valid);
    expect(request.promptText).toBe('Hello');
    expect(request.hasNonTextInput).toBe(false);
  });

  it('input_audio and file parts are non-text', () => {
    const audio = { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAA=', format: 'wav' } }] };
    const file = { role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] };
    expect(openaiChatAdapter.prepare({ ...valid, messages: [audio] }).hasNonTextInput).toBe(true);
    expect(openaiChatAdapter.prepare({ ...valid, messages: [file] }).hasNonTextInput).toBe(true);
  });
});
