import { describe, expect, it } from 'vitest';
import { loadWireBuffer, loadWireJson } from '../../test/fixtures/wire/index.js';
import { openaiCompletionsAdapter } from './index.js';
import { thrownBy } from '../testing/errors.js';
import { withoutBlocks } from './testing/errors.js';
import { chunkings, feedChunks } from './testing/feed.js';

describe('openai legacy completions', () => {
  it('maps the body usage and reads choices[].text', () => {
    const result = openaiCompletionsAdapter.readBody(loadWireJson('openai-completions.json'));
    expect(result.usage?.buckets).toEqual({ input: 5, output: 8 });
    expect(result.usage?.issues).toEqual([]);
    expect(result.outputText).toBe('\n\nThis is indeed a test of the');
    expect(result.servedModel).toBe('gpt-3.5-turbo-instruct');
    expect(result.completed).toBe(true);
  });

  it('stream: hides the usage chunk unless asked, in every chunking', () => {
    const fixture = loadWireBuffer('openai-completions-stream.sse');
    const hidden = withoutBlocks(fixture, '"choices":[],"usage":{');
    for (const wants of [false, true]) {
      const request = openaiCompletionsAdapter.prepare({
        model: 'gpt-3.5-turbo-instruct',
        prompt: 'Say this is a test',
        stream: true,
        ...(wants ? { stream_options: { include_usage: true } } : {}),
      });
      for (const { name, chunks } of chunkings(fixture)) {
        const { forwarded, result } = feedChunks(openaiCompletionsAdapter.createStreamTap(request), chunks);
        expect(forwarded.equals(wants ? fixture : hidden), name).toBe(true);
        expect(result.usage?.buckets, name).toEqual({ input: 5, output: 8 });
        expect(result.outputText, name).toBe('\n\nThis is indeed a test of the');
        expect(result.completed, name).toBe(true);
      }
    }
  });

  it('prepare: injects include_usage for streams and counts token-id prompts exactly', () => {
    const request = openaiCompletionsAdapter.prepare({
      model: 'gpt-3.5-turbo-instruct',
      prompt: ['Say this', [1, 2, 3], 'is a test'],
      stream: true,
      max_tokens: 7,
      suffix: 'end',
    });
    expect(JSON.parse(request.body.toString()).stream_options).toEqual({ include_usage: true });
    expect(request.clientWantsUsage).toBe(false);
    expect(request.promptText).toBe('Say this\nis a test\nend');
    expect(request.pretokenizedInputTokens).toBe(3);
    expect(request.maxOutputTokens).toBe(7);
    expect(request.hasNonTextInput).toBe(false);
    const ids = openaiCompletionsAdapter.prepare({ model: 'davinci-002', prompt: [5, 6, 7, 8] });
    expect(ids.pretokenizedInputTokens).toBe(4);
    expect(ids.promptText).toBe('');
  });

  it.each([
    ['a missing prompt', { model: 'gpt-3.5-turbo-instruct' }, 'prompt'],
    ['a numeric prompt', { model: 'gpt-3.5-turbo-instruct', prompt: 5 }, 'prompt'],
    ['a bad prompt item', { model: 'gpt-3.5-turbo-instruct', prompt: ['ok', { text: 'no' }] }, 'prompt[1]'],
    ['a missing model', { prompt: 'hi' }, 'model'],
    ['a bad max_tokens', { model: 'gpt-3.5-turbo-instruct', prompt: 'hi', max_tokens: 0 }, 'max_tokens'],
    ['a bad stream', { model: 'gpt-3.5-turbo-instruct', prompt: 'hi', stream: 1 }, 'stream'],
  ])('prepare rejects %s naming the param', (_what, body, param) => {
    const error = thrownBy(() => openaiCompletionsAdapter.prepare(body));
    expect(error.code).toBe('invalid_request');
    expect(error.param).toBe(param);
  });
});
