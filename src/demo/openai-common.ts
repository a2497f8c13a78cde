import { PertokenError } from '../errors.js';
import type { BilledInput } from './billing-ledger.js';
import { lengthControls, planFixedOutput, planOutput, type OutputPlan, type RouteContext } from './generation.js';
import { isReasoningModel } from './models.js';
import { PrefixHasher, type PromptCache } from './prompt-cache.js';
import { hashString, type Rng } from './random.js';
import { structuredOutput, type Answer } from './structured.js';
import { countTokens, isRecord } from './text.js';

/** Pieces shared by the OpenAI chat, completions and responses routes. */

/** OpenAI's prompt caching: prefixes of at least 1024 tokens, matched in 128-token steps. */
export const OPENAI_CACHE_MIN_TOKENS = 1024;
export const OPENAI_CACHE_STEP_TOKENS = 128;
/** In-memory retention is "5 to 10 minutes of inactivity"; the demo keeps the upper end. */
const IN_MEMORY_TTL_MS = 10 * 60_000;
const EXTENDED_TTL_MS = 24 * 3_600_000;

/**
 * The cached part of a prompt, read in cache order (tools first, then messages): the longest
 * 1024 + k*128 token prefix this server has served before for the same model, 0 for a prompt it
 * never saw or one under 1024 tokens. Every such prefix of this prompt is remembered (or
 * refreshed) for the next request, so the second identical request is the first to hit.
 */
export function openaiCachedTokens(
  cache: PromptCache,
  servedModel: string,
  segments: readonly string[],
  retention: unknown,
): number {
  // Most prompts are short: no hashing for the ones that cannot cache.
  if (segments.reduce((sum, text) => sum + countTokens(text), 0) < OPENAI_CACHE_MIN_TOKENS) return 0;
  const prefixes = openaiPrefixes(servedModel, segments);
  let cached = 0;
  for (let i = prefixes.length - 1; i >= 0; i--) {
    const prefix = prefixes[i];
    if (prefix && cache.has(prefix.key)) {
      cached = prefix.tokens;
      break;
    }
  }
  const ttl = retention === '24h' ? EXTENDED_TTL_MS : IN_MEMORY_TTL_MS;
  // Longest first, so that under LRU pressure the short prefixes other prompts share live longest.
  for (let i = prefixes.length - 1; i >= 0; i--) {
    const prefix = prefixes[i];
    if (prefix) cache.remember(prefix.key, ttl);
  }
  return cached;
}

export interface CachePrefix {
  tokens: number;
  key: string;
}

/**
 * The keys of a prompt's cacheable prefixes, shortest first. Token i of a segment is its characters
 * [4i, 4i+4), the same ceil(chars / 4) rule as {@link countTokens}, so a prefix of N tokens is an
 * exact piece of text and two prompts share it exactly when their first N tokens agree.
 */
export function openaiPrefixes(servedModel: string, segments: readonly string[]): CachePrefix[] {
  const hasher = new PrefixHasher(`openai\u0000${servedModel}`);
  const prefixes: CachePrefix[] = [];
  let next = OPENAI_CACHE_MIN_TOKENS;
  let before = 0;
  segments.forEach((text, index) => {
    if (index > 0) hasher.update('\u0000');
    const tokens = countTokens(text);
    let fed = 0;
    while (next <= before + tokens) {
      const end = Math.min(text.length, (next - before) * 4);
      hasher.update(text.slice(fed, end));
      fed = end;
      prefixes.push({ tokens: next, key: hasher.key() });
      next += OPENAI_CACHE_STEP_TOKENS;
    }
    hasher.update(text.slice(fed));
    before += tokens;
  });
  return prefixes;
}

/** Chat Completions usage, field for field as OpenAI sends it. */
export function chatUsage(
  promptTokens: number,
  cachedTokens: number,
  visibleTokens: number,
  reasoningTokens: number,
): unknown {
  const completion = visibleTokens + reasoningTokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
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

export interface OpenAIAnswerRequest {
  /** The requested model (reasoning families think) and the snapshot that serves it (cache key). */
  model: string;
  served: string;
  /** The prompt's text in order, tools last; `toolsText` is that last segment, or null. */
  segments: readonly string[];
  toolsText: string | null;
  body: Record<string, unknown>;
  limit: number | null;
  answer: Answer;
}

/** What chat completions and responses both decide: the prompt's cached part and the output plan. */
export function planOpenAIAnswer(
  ctx: RouteContext,
  rng: Rng,
  request: OpenAIAnswerRequest,
): { cachedTokens: number; output: OutputPlan } {
  const { segments, toolsText, limit, answer, body } = request;
  // Tools sit at the very start of the prompt OpenAI caches, so a changed tool list misses.
  const cacheOrder = toolsText === null ? segments : [toolsText, ...segments.slice(0, -1)];
  const cachedTokens = openaiCachedTokens(ctx.promptCache, request.served, cacheOrder, body.prompt_cache_retention);
  // Hidden reasoning never takes more than half the budget, so a reply always has some text.
  const reasoning = isReasoningModel(request.model)
    ? { min: 64, max: 512, cap: limit === null ? Number.POSITIVE_INFINITY : Math.floor(limit / 2) }
    : null;
  const output =
    answer.kind === 'text'
      ? planOutput(rng, ctx.config, { limit, reasoning, ...lengthControls(body) })
      : planFixedOutput(rng, { limit, reasoning }, structuredOutput(answer, rng).tokens);
  return { cachedTokens, output };
}

/** OpenAI bills prompt tokens inclusive of the cached ones (trap T1), and writes its cache at no charge. */
export function openaiBill(served: string, promptTokens: number, cachedTokens: number): BilledInput {
  return {
    wire: 'openai',
    model: served,
    uncached: promptTokens - cachedTokens,
    cacheRead: cachedTokens,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
  };
}
