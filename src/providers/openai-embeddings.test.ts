import { describe, expect, it } from 'vitest';
import { loadWireJson } from '../../test/fixtures/wire/index.js';
import { openaiEmbeddingsAdapter, openaiEmbeddingsUsage } from './index.js';
import { thrownBy } from '../testing/errors.js';
import { feedChunks } from './testing/feed.js';

describe('openai embeddings', () => {
  it('maps prompt_tokens to input', () => {
    const result = openaiEmbeddingsAdapter.readBody(loadWireJson('openai-embeddings.json'));
    expect(result.usage).toEqual({
      buckets: { input: 12 },
      source: 'provider',
      raw: { prompt_tokens: 12, total_tokens: 12 },
      issues: [],
    });
    expect(result.servedModel).toBe('text-embedding-3-small');
    expect(result.outputText).toBe('');
    expect(result.completed).toBe(true);
  });

  it('falls back to total_tokens when prompt_tokens is missing', () => {
    expect(openaiEmbeddingsUsage({ total_tokens: 9 })?.buckets).toEqual({ input: 9 });
  });

  it('prepare: never streams, passes bytes through, counts token-id input exactly', () => {
    const raw = Buffer.from('{"model":"text-embedding-3-small","input":["hello world","bye"],"stream":true}');
    const request = openaiEmbeddingsAdapter.prepare(JSON.parse(raw.toString()), raw);
    expect(request.stream).toBe(false);
    expect(request.body).toBe(raw);
    expect(request.promptText).toBe('hello world\nbye');
    expect(request.maxOutputTokens).toBeNull();
    const ids = openaiEmbeddingsAdapter.prepare({ model: 'text-embedding-3-small', input: [[1, 2], [3]] });
    expect(ids.pretokenizedInputTokens).toBe(3);
  });

  it('prepare rejects a missing or malformed input naming the param', () => {
    expect(thrownBy(() => openaiEmbeddingsAdapter.prepare({ model: 'text-embedding-3-small' })).param).toBe('input');
    expect(thrownBy(() => openaiEmbeddingsAdapter.prepare({ model: 'text-embedding-3-small', input: 3 })).param).toBe(
      'input',
    );
    expect(thrownBy(() => openaiEmbeddingsAdapter.prepare({ input: 'x' })).param).toBe('model');
  });

  it('its stream tap passes bytes through untouched', () => {
    const request = openaiEmbeddingsAdapter.prepare({ model: 'text-embedding-3-small', input: 'x' });
    const bytes = Buffer.from('{"object":"list"}');
    const { forwarded, result } = feedChunks(openaiEmbeddingsAdapter.createStreamTap(request), [bytes]);
    expect(forwarded.equals(bytes)).toBe(true);
    expect(result.usage).toBeNull();
  });
});
