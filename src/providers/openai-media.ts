import type { MediaUnits } from '../pricing/index.js';
import { invalidInput } from '../errors.js';
import { buildUsage, type Buckets, type Usage } from '../usage/index.js';
import { carve, count, isRecord, recordOrEmpty, stringOrNull } from './shape.js';

/**
 * The OpenAI media endpoints (images, speech, transcription, translation, moderation) as far as
 * metering needs them: what a request asks for and what a response reports. Everything else about
 * them is the upstream's to validate. Bodies are a JSON object or the text fields of a multipart
 * form (strings); file contents are never read.
 */

/** Units a media call is billed by when its response reports no tokens: pricing's own type. */
export type MediaUnit = MediaUnits;

/** What a media request says. */
export interface MediaRequest {
  model: string;
  /** Prompt or input text, for a budget's token estimate only; never stored. */
  promptText: string;
  /** Images or audio sent along (edits, variations, transcription). */
  hasNonTextInput: boolean;
  /** Most output tokens a token-billed model may produce for it; null: the model's own ceiling. */
  maxOutputTokens: number | null;
  /** Units the request fixes (images asked for, characters to speak); null when only the response tells. */
  units: MediaUnit | null;
}

/** What a response (or one event of its stream) reported. */
export interface MediaReading {
  /** Token usage, for token-billed models. */
  usage: Usage | null;
  /** Units to bill when there is no token usage (the request's, refined by the response). */
  units: MediaUnit | null;
  servedModel: string | null;
}

export interface MediaMeter {
  /** The model the endpoint uses when the body names none; null when `model` is required. */
  readonly defaultModel: string | null;
  /**
   * Reads the request. `complete` is false while later multipart fields may still arrive: what is
   * not seen yet counts at its maximum.
   */
  request(fields: Readonly<Record<string, unknown>>, complete: boolean): MediaRequest;
  /** A complete JSON response body. */
  readBody(body: unknown, request: MediaRequest): MediaReading;
  /** One event of a stream (its parsed `data`); null when it reports nothing. */
  readEvent(data: unknown, request: MediaRequest): MediaReading | null;
}

/** OpenAI's ceiling on `n` for image endpoints. */
const MAX_IMAGES = 10;
/**
 * Output tokens of one image at most: gpt-image-1 bills 6,240 at high quality and its largest size;
 * the generic ceiling leaves room for later models and partial images.
 */
const IMAGE_OUTPUT_CEILING = 16_384;

function text(fields: Readonly<Record<string, unknown>>, name: string): string | null {
  return stringOrNull(fields[name]);
}

/** A count given as a JSON number or a form string; anything else is left to the upstream to refuse. */
function positiveInt(fields: Readonly<Record<string, unknown>>, name: string): number | null {
  const value = fields[name];
  const n = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null;
}

function modelOf(fields: Readonly<Record<string, unknown>>, fallback: string | null): string {
  const model = fields['model'];
  if (typeof model === 'string' && model.trim().length > 0) return model;
  if (model === undefined && fallback !== null) return fallback;
  throw invalidInput('model', '`model` is required and must be a non-empty string');
}

function usageOf(buckets: Buckets, raw: unknown): Usage {
  return buildUsage(buckets, { source: 'provider', raw });
}

/**
 * Images API usage (gpt-image-*): `input_tokens` includes `input_tokens_details.image_tokens`; the
 * output is the image unless `output_tokens_details` splits off text.
 */
export function openaiImagesUsage(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  const input = carve(count(raw['input_tokens']), [count(recordOrEmpty(raw['input_tokens_details'])['image_tokens'])]);
  const output = count(raw['output_tokens']);
  const details = raw['output_tokens_details'];
  const split = isRecord(details) ? carve(output, [count(details['image_tokens'])]) : { parts: [output], rest: 0 };
  return usageOf(
    { input: input.rest, input_image: input.parts[0] ?? 0, output_image: split.parts[0] ?? 0, output: split.rest },
    raw,
  );
}

/**
 * Transcription usage: `{type: "tokens", input_tokens ⊇ input_token_details.audio_tokens,
 * output_tokens}` for token-billed models, `{type: "duration", seconds}` for the others.
 */
export function openaiTranscriptionUsage(raw: unknown): { usage: Usage | null; seconds: number | null } {
  if (!isRecord(raw)) return { usage: null, seconds: null };
  if (raw['type'] === 'duration' || (raw['seconds'] !== undefined && raw['input_tokens'] === undefined)) {
    const seconds = raw['seconds'];
    return { usage: null, seconds: typeof seconds === 'number' && seconds >= 0 ? seconds : null };
  }
  const total = count(raw['input_tokens']);
  const details = raw['input_token_details'];
  // Without details the input is the audio: the dearer reading, never an under-bill.
  const input = isRecord(details) ? carve(total, [count(details['audio_tokens'])]) : { parts: [total], rest: 0 };
  return {
    usage: usageOf({ input: input.rest, input_audio: input.parts[0] ?? 0, output: count(raw['output_tokens']) }, raw),
    seconds: null,
  };
}

/** Speech usage (only on `stream_format: "sse"`): the input is text, the output audio. */
export function openaiSpeechUsage(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  return usageOf({ input: count(raw['input_tokens']), output_audio: count(raw['output_tokens']) }, raw);
}

function imagesMeter(hasNonTextInput: boolean, defaultModel: string): MediaMeter {
  return {
    defaultModel,
    request(fields, complete) {
      const n = positiveInt(fields, 'n') ?? (complete ? 1 : MAX_IMAGES);
      return {
        model: modelOf(fields, defaultModel),
        promptText: text(fields, 'prompt') ?? '',
        hasNonTextInput,
        maxOutputTokens: n * IMAGE_OUTPUT_CEILING,
        units: { kind: 'images', count: n, size: text(fields, 'size'), quality: text(fields, 'quality') },
      };
    },
    readBody(body, request) {
      if (!isRecord(body)) return { usage: null, units: request.units, servedModel: null };
      const asked = request.units?.kind === 'images' ? request.units : null;
      const data = body['data'];
      return {
        usage: openaiImagesUsage(body['usage']),
        units: {
          kind: 'images',
          count: Array.isArray(data) ? data.length : (asked?.count ?? 1),
          size: stringOrNull(body['size']) ?? asked?.size ?? null,
          quality: stringOrNull(body['quality']) ?? asked?.quality ?? null,
        },
        servedModel: null,
      };
    },
    readEvent(data, request) {
      // image_generation.completed / image_edit.completed carry the usage of the image.
      if (!isRecord(data) || !isRecord(data['usage'])) return null;
      return { usage: openaiImagesUsage(data['usage']), units: request.units, servedModel: null };
    },
  };
}

const speechMeter: MediaMeter = {
  defaultModel: null,
  request(fields) {
    const input = fields['input'];
    if (typeof input !== 'string') throw invalidInput('input', '`input` is required and must be a string');
    return {
      model: modelOf(fields, null),
      promptText: input,
      hasNonTextInput: false,
      maxOutputTokens: null,
      // Billed per character (code point), not per UTF-16 unit.
      units: { kind: 'characters', count: [...input].length },
    };
  },
  readBody(_body, request) {
    return { usage: null, units: request.units, servedModel: null };
  },
  readEvent(data, request) {
    // speech.audio.done carries the usage of token-billed models.
    if (!isRecord(data) || !isRecord(data['usage'])) return null;
    return { usage: openaiSpeechUsage(data['usage']), units: request.units, servedModel: null };
  },
};

function transcriptionReading(body: unknown, request: MediaRequest): MediaReading {
  if (!isRecord(body)) return { usage: null, units: request.units, servedModel: null };
  const { usage, seconds } = openaiTranscriptionUsage(body['usage']);
  const duration = body['duration'];
  const audio = seconds ?? (typeof duration === 'number' && duration >= 0 ? duration : null);
  return {
    usage,
    units: audio === null ? request.units : { kind: 'audio_seconds', seconds: audio },
    servedModel: null,
  };
}

const transcriptionMeter: MediaMeter = {
  defaultModel: null,
  request(fields) {
    return {
      model: modelOf(fields, null),
      promptText: text(fields, 'prompt') ?? '',
      hasNonTextInput: true,
      maxOutputTokens: null,
      // The audio's duration is known only from the response: the file is never parsed.
      units: null,
    };
  },
  readBody: transcriptionReading,
  readEvent(data, request) {
    // transcript.text.done carries the usage of a streamed transcription.
    if (!isRecord(data) || data['usage'] === undefined) return null;
    return transcriptionReading(data, request);
  },
};

function moderationText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  return input
    .map((part) => (typeof part === 'string' ? part : isRecord(part) ? (stringOrNull(part['text']) ?? '') : ''))
    .join('\n');
}

const moderationMeter: MediaMeter = {
  defaultModel: 'omni-moderation-latest',
  request(fields) {
    return {
      model: modelOf(fields, 'omni-moderation-latest'),
      promptText: moderationText(fields['input']),
      hasNonTextInput:
        Array.isArray(fields['input']) && fields['input'].some((p) => isRecord(p) && p['type'] !== 'text'),
      maxOutputTokens: 0,
      units: { kind: 'call' },
    };
  },
  readBody(body, request) {
    return { usage: null, units: request.units, servedModel: isRecord(body) ? stringOrNull(body['model']) : null };
  },
  readEvent: () => null,
};

export const OPENAI_MEDIA = Object.freeze({
  imageGeneration: imagesMeter(false, 'dall-e-2'),
  imageEdit: imagesMeter(true, 'dall-e-2'),
  imageVariation: imagesMeter(true, 'dall-e-2'),
  speech: speechMeter,
  transcription: transcriptionMeter,
  moderation: moderationMeter,
});
