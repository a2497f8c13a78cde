import { describe, expect, it } from 'vitest';
import { hasEscapedNameChar, keyIsAbsentOrString, mentionPattern, nonNullKeyPattern } from './raw-json.js';

describe('raw JSON checks', () => {
  const usageOrError = nonNullKeyPattern(['usage', 'error']);

  it('finds a non-null usage or error key at any depth, whatever the spacing', () => {
    expect(usageOrError.test('{"choices":[],"usage":{"prompt_tokens":1}}')).toBe(true);
    expect(usageOrError.test('{"usage" :\n {"prompt_tokens":1}}')).toBe(true);
    expect(usageOrError.test('{"error":{"message":"boom"}}')).toBe(true);
    expect(usageOrError.test('{"x":{"usage":0}}')).toBe(true);
  });

  it('lets null usage, and the words as string values, through', () => {
    expect(usageOrError.test('{"model":"m","choices":[{"delta":{"content":"Hi"}}],"usage":null}')).toBe(false);
    expect(usageOrError.test('{"usage" : null, "error":\tnull}')).toBe(false);
    expect(usageOrError.test('{"content":"usage"}')).toBe(false);
    expect(usageOrError.test('{"content":"the \\"usage\\": {\\"prompt_tokens\\": 5} field"}')).toBe(false);
    expect(usageOrError.test('{"arguments":"{\\"error\\":{\\"message\\":\\"x\\"}}"}')).toBe(false);
  });

  it('mentions: a name as a whole string token, key or value', () => {
    const state = mentionPattern(['message_stop', 'error']);
    expect(state.test('{"type":"message_stop"}')).toBe(true);
    expect(state.test('{"delta":{"text":"error"}}')).toBe(true); // a false alarm: costs a parse
    expect(state.test('{"delta":{"text":" error"}}')).toBe(false);
    expect(state.test('{"type":"content_block_delta","delta":{"text":"message_stops"}}')).toBe(false);
    expect(mentionPattern(['response.output_text.delta']).test('{"type":"response.output_textXdelta"}')).toBe(false);
  });

  it('a name spelled with escapes is noticed, so that text gets parsed', () => {
    expect(JSON.parse('{"\\u0075sage":1}')).toEqual({ usage: 1 });
    expect(hasEscapedNameChar('{"\\u0075sage":{"prompt_tokens":1}}')).toBe(true);
    expect(hasEscapedNameChar('{"type":"message\\u005Fstop"}')).toBe(true);
    expect(hasEscapedNameChar('{"type":"response\\u002eoutput_text.delta"}')).toBe(true);
    expect(hasEscapedNameChar('{"content":"a \\u003cb\\u003e caf\\u00e9 \\ud83d\\ude00"}')).toBe(false);
    expect(hasEscapedNameChar('{"content":"plain"}')).toBe(false);
  });

  it('model: every model key must hold the known name, spelled plainly', () => {
    const chunk = (model: string) => `{"id":"x","model":${model},"choices":[]}`;
    expect(keyIsAbsentOrString(chunk('"gpt-4o"'), 'model', 'gpt-4o')).toBe(true);
    expect(keyIsAbsentOrString('{"model" : "gpt-4o"}', 'model', 'gpt-4o')).toBe(true);
    expect(keyIsAbsentOrString('{"choices":[]}', 'model', null)).toBe(true);
    expect(keyIsAbsentOrString('{"content":"model"}', 'model', null)).toBe(true);
    expect(keyIsAbsentOrString(chunk('"gpt-4o"'), 'model', null)).toBe(false);
    expect(keyIsAbsentOrString(chunk('"gpt-4o-mini"'), 'model', 'gpt-4o')).toBe(false);
    expect(keyIsAbsentOrString(chunk('"gpt"'), 'model', 'gpt-4o')).toBe(false);
    expect(keyIsAbsentOrString(chunk('""'), 'model', 'gpt-4o')).toBe(false);
    expect(keyIsAbsentOrString(chunk('null'), 'model', 'gpt-4o')).toBe(false);
    expect(keyIsAbsentOrString(chunk('"a\\/b"'), 'model', 'a/b')).toBe(false);
    expect(keyIsAbsentOrString('{"model":"gpt-4o","x":{"model":"other"}}', 'model', 'gpt-4o')).toBe(false);
  });
});
