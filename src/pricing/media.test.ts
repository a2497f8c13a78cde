import { describe, expect, it } from 'vitest';
import { createPriceBook } from './book.js';
import { priceMediaTokens, priceMediaUnits } from './media.js';

const book = createPriceBook();
const at = new Date('2026-03-01T12:00:00Z');
const q = (model: string) => ({ provider: 'openai', model, at });

describe('priceMediaUnits', () => {
  it('prices DALL·E per image by quality and size, defaults as the API applies them', () => {
    expect(
      priceMediaUnits(book, {
        ...q('dall-e-3'),
        units: { kind: 'images', count: 2, size: '1024x1792', quality: 'hd' },
      }),
    ).toMatchObject({
      cost_nano: 240_000_000n,
      price_ref: 'pertoken-media@2025-06:openai/dall-e-3@2023-11-06;image=hd/1024x1792',
      unpriced_reason: null,
    });
    expect(
      priceMediaUnits(book, { ...q('dall-e-3'), units: { kind: 'images', count: 1, size: null, quality: null } })
        .cost_nano,
    ).toBe(40_000_000n);
    expect(
      priceMediaUnits(book, { ...q('dall-e-2'), units: { kind: 'images', count: 3, size: '256x256', quality: null } })
        .cost_nano,
    ).toBe(48_000_000n);
  });

  it('leaves what it has no price for unpriced, with the reason', () => {
    expect(
      priceMediaUnits(book, { ...q('dall-e-3'), units: { kind: 'images', count: 1, size: '512x512', quality: null } }),
    ).toMatchObject({
      cost_nano: null,
      unpriced_reason: 'no per-image price for openai/dall-e-3 at quality/size standard/512x512',
    });
    expect(
      priceMediaUnits(book, { ...q('flux-pro'), units: { kind: 'images', count: 1, size: null, quality: null } })
        .cost_nano,
    ).toBeNull();
    expect(
      priceMediaUnits(book, {
        provider: 'azure',
        model: 'dall-e-3',
        at,
        units: { kind: 'images', count: 1, size: null, quality: null },
      }).cost_nano,
    ).toBeNull();
    const before = { provider: 'openai', model: 'tts-1', at: new Date('2023-01-01T00:00:00Z') };
    expect(priceMediaUnits(book, { ...before, units: { kind: 'characters', count: 10 } }).unpriced_reason).toBe(
      'no per-character price for openai/tts-1 before 2023-11-06',
    );
  });

  it('prices speech per character, the -hd model at its own rate', () => {
    expect(priceMediaUnits(book, { ...q('tts-1'), units: { kind: 'characters', count: 1000 } }).cost_nano).toBe(
      15_000_000n,
    );
    expect(priceMediaUnits(book, { ...q('tts-1-hd'), units: { kind: 'characters', count: 1000 } }).cost_nano).toBe(
      30_000_000n,
    );
    // 7 × $15/1M = $0.000105: exact, no float.
    expect(priceMediaUnits(book, { ...q('tts-1-1106'), units: { kind: 'characters', count: 7 } }).cost_nano).toBe(
      105_000n,
    );
    expect(
      priceMediaUnits(book, { ...q('gpt-4o-mini-tts'), units: { kind: 'characters', count: 7 } }).cost_nano,
    ).toBeNull();
  });

  it('prices audio per second from genai-prices audio_hours', () => {
    // whisper-1: $0.36/hour, 125 s = $0.0125.
    expect(priceMediaUnits(book, { ...q('whisper-1'), units: { kind: 'audio_seconds', seconds: 125 } })).toMatchObject({
      cost_nano: 12_500_000n,
      price_ref: 'genai-prices@0.1.8:openai/whisper-1;per=input_audio_hours',
    });
    // Billed to the nearest second.
    expect(priceMediaUnits(book, { ...q('whisper-1'), units: { kind: 'audio_seconds', seconds: 0.4 } }).cost_nano).toBe(
      0n,
    );
    expect(priceMediaUnits(book, { ...q('whisper-1'), units: { kind: 'audio_seconds', seconds: 1.6 } }).cost_nano).toBe(
      200_000n,
    );
    // A token-billed model has no hourly price: not $0.
    expect(
      priceMediaUnits(book, { ...q('gpt-4o-transcribe'), units: { kind: 'audio_seconds', seconds: 60 } }).cost_nano,
    ).toBeNull();
  });

  it('a call is free only when the data lists the model with no price at all', () => {
    expect(priceMediaUnits(book, { ...q('omni-moderation-latest'), units: { kind: 'call' } })).toMatchObject({
      cost_nano: 0n,
      price_ref: 'genai-prices@0.1.8:openai/moderation;free',
    });
    // The book prices whisper-1 with no tokens at $0 (its price is per hour): a call is not free.
    expect(book.price({ ...q('whisper-1'), buckets: {} }).cost_nano).toBe(0n);
    expect(priceMediaUnits(book, { ...q('whisper-1'), units: { kind: 'call' } }).cost_nano).toBeNull();
    expect(priceMediaUnits(book, { ...q('gpt-4o-mini'), units: { kind: 'call' } }).cost_nano).toBeNull();
    expect(priceMediaUnits(book, { ...q('nope-moderator-x'), units: { kind: 'call' } }).cost_nano).toBeNull();
  });
});

describe('priceMediaTokens', () => {
  it('prices image output at the output rate of a model that lists no image-output rate (gpt-image-1)', () => {
    const { result, buckets, folded } = priceMediaTokens(book, {
      ...q('gpt-image-1'),
      buckets: { input: 50, input_image: 10, output_image: 4160 },
    });
    // 50 × $5 + 10 × $10 + 4160 × $40 per 1M.
    expect(result.cost_nano).toBe(50n * 5000n + 10n * 10_000n + 4160n * 40_000n);
    expect(buckets).toEqual({ input: 50, input_image: 10, output: 4160 });
    expect(folded).toEqual(['output_image']);
  });

  it('keeps a model’s own image-output rate (gpt-image-1.5)', () => {
    const { result, buckets, folded } = priceMediaTokens(book, {
      ...q('gpt-image-1.5'),
      buckets: { input: 50, output_image: 1000, output: 20 },
    });
    expect(result.cost_nano).toBe(50n * 5000n + 1000n * 32_000n + 20n * 10_000n);
    expect(buckets).toEqual({ input: 50, output_image: 1000, output: 20 });
    expect(folded).toEqual([]);
  });

  it('folds speech audio output for gpt-4o-mini-tts, and leaves an unknown model unpriced', () => {
    expect(
      priceMediaTokens(book, { ...q('gpt-4o-mini-tts'), buckets: { input: 10, output_audio: 100 } }).result.cost_nano,
    ).toBe(10n * 600n + 100n * 12_000n);
    expect(
      priceMediaTokens(book, { ...q('mystery-image'), buckets: { output_image: 100 } }).result.cost_nano,
    ).toBeNull();
  });
});
