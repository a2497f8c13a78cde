import { PertokenError } from '../errors.js';
import { hashString } from './random.js';
import { isRecord } from './text.js';

/** Pieces shared by the OpenAI chat, completions and responses routes. */

/**
 * OpenAI caches prompt prefixes of at least 1024 tokens in 128-token increments. The demo reports
 * a hit on every such prompt, deterministically: the largest multiple of 128 not above the prompt.
 */
export function openaiCachedTokens(promptTokens: number): number {
  return promptTokens >= 1024 ? Math.floor(promptTokens / 128) * 128 : 0;
}

/** Chat Completions usage, field for field as OpenAI sends it. */
export function chatUsage(promptTokens: number, visibleTokens: number, reasoningTokens: number): unknown {
  const completion = visibleTokens + reasoningTokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    prompt_tokens_details: { cached_tokens: openaiCachedTokens(promptTokens), audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** `fp_` plus ten hex digits, stable per served model like the real backend fingerprint. */
export function systemFingerprint(model: string): string {
  return `fp_${hashString(model).toString(16).padStart(14, '0').slice(-10)}`;
}

/**
 * Whether the client asked for the usage chunk. OpenAI rejects `stream_options` on a non-stream
 * request, which catches a gateway that injects it unconditionally.
 */
export function wantsStreamUsage(body: Record<string, unknown>, stream: boolean): boolean {
  const options = body.stream_options;
  if (options === undefined || options === null) return false;
  if (!stream) {
    throw new PertokenError(
      'invalid_request',
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      { param: 'stream_options' },
    );
  }
  return isRecord(options) && options.include_usage === true;
}

/** The malformed line a `broken-sse` fault injects into `data:`-only streams. */
export const MALFORMED_DATA = 'data: {not json\n\n';

export const DONE_FRAME = { data: 'data: [DONE]\n\n', content: false };
