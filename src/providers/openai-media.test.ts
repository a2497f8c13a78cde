import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { OPENAI_MEDIA, openaiImagesUsage, openaiSpeechUsage, openaiTranscriptionUsage } from './openai-media.js';
import { PASSTHROUGH_ROUTES, passthroughPath, passthroughWire } from './passthrough.js';

describe('images', () => {
  it('maps gpt-image usage: image input inside input_tokens, output is the image unless split', () => {
    const raw = {
      input_tokens: 60,
      input_tokens_details: { text_tokens: 50, image_tokens: 10 },
      output_tokens: 4160,
      total_tokens: 4220,
    };
    expect(openaiImagesUsage(raw)?.buckets).toEqual({ input: 50, input_image: 10, output_image: 4160 });
    const split = { ...raw, output_tokens_details: { image_tokens: 4000, text_tokens: 160 } };
    expect(openaiImagesUsage(split)?.buckets).toEqual({ input: 50, input_image: 10, output: 160, output_image: 4000 });
    expect(openaiImagesUsage(split)?.raw).toBe(split);
  });

  it('reads n (a JSON number or a form string), size and quality; unknown n counts at the maximum', () => {
    const meter = OPENAI_MEDIA.imageGeneration;
    expect(meter.request({ prompt: 'a fox', model: 'dall-e-3', n: 2, size: '1024x1792', quality: 'hd' }, true)).toEqual(
      {
        model: 'dall-e-3',
        promptText: 'a fox',
        hasNonTextInput: false,
        maxOutputTokens: 2 * 16_384,
        units: { kind: 'images', count: 2, size: '1024x1792', quality: 'hd' },
      },
    );
    expect(OPENAI_MEDIA.imageEdit.request({ model: 'gpt-image-1', n: '3' }, true).units).toMatchObject({ count: 3 });
    expect(OPENAI_MEDIA.imageEdit.request({ model: 'gpt-image-1' }, false).units).toMatchObject({ count: 10 });
    // The endpoint's own default model when the body names none.
    expect(meter.request({ prompt: 'x' }, true).model).toBe('dall-e-2');
  });

  it('counts the images the response holds', () => {
    const request = OPENAI_MEDIA.imageGeneration.request({ model: 'dall-e-3', n: 3, quality: 'hd' }, true);
    expect(OPENAI_MEDIA.imageGeneration.readBody({ created: 1, data: [{ url: 'u' }, { url: 'v' }] }, request)).toEqual({
      usage: null,
      units: { kind: 'images', count: 2, size: null, quality: 'hd' },
      servedModel: null,
    });
  });
});

describe('audio and moderation', () => {
  it('speech is billed per character (code points, not UTF-16 units)', () => {
    expect(OPENAI_MEDIA.speech.request({ model: 'tts-1', input: 'héllo 👋', voice: 'alloy' }, true).units).toEqual({
      kind: 'characters',
      count: 7,
    });
    expect(openaiSpeechUsage({ input_tokens: 12, output_tokens: 300, total_tokens: 312 })?.buckets).toEqual({
      input: 12,
      output_audio: 300,
    });
  });

  it('transcription usage: tokens with an audio share, or a duration', () => {
    expect(
      openaiTranscriptionUsage({
        type: 'tokens',
        input_tokens: 120,
        input_token_details: { text_tokens: 20, audio_tokens: 100 },
        output_tokens: 40,
        total_tokens: 160,
      }).usage?.buckets,
    ).toEqual({ input: 20, input_audio: 100, output: 40 });
    expect(openaiTranscriptionUsage({ type: 'duration', seconds: 61 })).toEqual({ usage: null, seconds: 61 });
    const request = OPENAI_MEDIA.transcription.request({ model: 'whisper-1' }, true);
    expect(request.units).toBeNull();
    // verbose_json tells the duration even without usage.
    expect(OPENAI_MEDIA.transcription.readBody({ text: 'hi', duration: 8.47 }, request).units).toEqual({
      kind: 'audio_seconds',
      seconds: 8.47,
    });
    expect(OPENAI_MEDIA.transcription.readEvent({ type: 'transcript.text.delta', delta: 'h' }, request)).toBeNull();
  });

  it('moderation defaults its model and reports the served one', () => {
    const request = OPENAI_MEDIA.moderation.request(
      { input: ['a', { type: 'image_url', image_url: { url: 'x' } }] },
      true,
    );
    expect(request).toMatchObject({
      model: 'omni-moderation-latest',
      promptText: 'a\n',
      hasNonTextInput: true,
      units: { kind: 'call' },
    });
    expect(
      OPENAI_MEDIA.moderation.readBody({ model: 'omni-moderation-2024-09-26', results: [] }, request).servedModel,
    ).toBe('omni-moderation-2024-09-26');
  });

  it.each([
    ['speech without input', () => OPENAI_MEDIA.speech.request({ model: 'tts-1' }, true), 'input'],
    ['speech without model', () => OPENAI_MEDIA.speech.request({ input: 'x' }, true), 'model'],
    ['transcription with a numeric model', () => OPENAI_MEDIA.transcription.request({ model: 5 }, true), 'model'],
  ])('%s is a 400 naming the field', (_name, run, param) => {
    expect(run).toThrow(PertokenError);
    try {
      run();
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_request', param });
    }
  });
});

describe('pass-through route table', () => {
  const route = (id: string) => PASSTHROUGH_ROUTES.find((r) => r.id === id) ?? PASSTHROUGH_ROUTES[0]!;

  it('puts the client’s ids back encoded, so an id cannot reach another upstream path', () => {
    expect(passthroughPath(route('openai.responses.input_items'), 'openai', { id: 'resp_1' })).toBe(
      '/responses/resp_1/input_items',
    );
    expect(passthroughPath(route('openai.responses.retrieve'), 'openai', { id: 'a/../../b?x' })).toBe(
      '/responses/a%2F..%2F..%2Fb%3Fx',
    );
    expect(() => passthroughPath(route('openai.responses.retrieve'), 'openai', { id: '..' })).toThrow(
      '`id` must be an id',
    );
  });

  it('sends a model lookup to Anthropic when the caller speaks its wire', () => {
    const models = route('models.retrieve');
    expect(passthroughWire(models, {})).toBe('openai');
    expect(passthroughWire(models, { 'anthropic-version': '2023-06-01' })).toBe('anthropic');
    expect(passthroughPath(models, 'anthropic', { id: 'claude-sonnet-4-5' })).toBe('/v1/models/claude-sonnet-4-5');
    expect(passthroughWire(route('openai.images.generations'), { 'anthropic-version': '2023-06-01' })).toBe('openai');
  });
});
