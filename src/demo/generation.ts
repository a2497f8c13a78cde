import { PertokenError } from '../errors.js';
import type { BilledInput } from './billing-ledger.js';
import type { Faults } from './faults.js';
import type { PromptCache } from './prompt-cache.js';
import { intBetween, requestRng, type Rng } from './random.js';
import type { Frame, StreamPlan } from './stream.js';
import { generateTokens, isRecord } from './text.js';

/** Resolved server options shared by every route. */
export interface DemoConfig {
  ttftMs: number;
  itlMs: number;
  tokensPerChunk: number;
  seed: number;
  /** The natural length of a generation; null draws 64..256 per request. */
  maxOutputTokens: number | null;
}

export interface RouteContext {
  config: DemoConfig;
  faults: Faults;
  /** Unix seconds at which the request arrived, for `created` fields. */
  now: number;
  /** Prompt prefixes this server has served, behind every cached-token count. */
  promptCache: PromptCache;
}

/** What a request puts through the simulated engine: its latency, and the engine's /metrics counters. */
export interface EngineWork {
  promptTokens: number;
  /** Output tokens, hidden reasoning included. */
  generationTokens: number;
  /** vLLM's `finished_reason` when the reply goes out whole: `length` when the output limit ended it. */
  finishedReason: 'stop' | 'length';
  /** The input side of the provider's bill; absent outside the Admin API's completions/messages reports. */
  bill?: BilledInput;
}

/** `work` is null for replies no engine computes (count_tokens). */
export type RouteResult =
  | { kind: 'json'; status: number; body: unknown; work: EngineWork | null }
  | { kind: 'stream'; plan: StreamPlan; work: EngineWork };

export interface OutputPlan {
  /** Visible output tokens (one word each). */
  tokens: string[];
  /** Hidden or thinking tokens generated before the visible ones. */
  reasoningTokens: number;
  /** True when the output limit ended the generation (finish_reason `length` / `max_tokens`). */
  truncated: boolean;
}

export interface OutputRequest {
  /** The client's output limit (max_tokens & co.), null when unset. */
  limit: number | null;
  /** Reasoning range and cap when the model reasons; null otherwise. */
  reasoning: { min: number; max: number; cap: number } | null;
  /** vLLM's `ignore_eos`: generate exactly `limit` tokens, as load generators ask. */
  ignoreEos: boolean;
  /** vLLM's `min_tokens`: never stop before this many visible tokens. */
  minTokens: number;
}

/**
 * Decides how much a request generates. The natural length is `maxOutputTokens` or 64..256; the
 * visible output is min(limit - reasoning, natural), so `output_tokens = min(max_tokens, generated)`.
 */
export function planOutput(rng: Rng, config: DemoConfig, request: OutputRequest): OutputPlan {
  const natural = config.maxOutputTokens ?? intBetween(rng, 64, 256);
  const reasoning = request.reasoning
    ? Math.min(intBetween(rng, request.reasoning.min, request.reasoning.max), request.reasoning.cap)
    : 0;
  const budget = request.limit === null ? Number.POSITIVE_INFINITY : Math.max(0, request.limit - reasoning);
  const target = request.ignoreEos && request.limit !== null ? budget : Math.max(request.minTokens, natural);
  const visible = Math.min(target, budget);
  const truncated = request.limit !== null && (target > budget || request.ignoreEos);
  return { tokens: generateTokens(rng, visible), reasoningTokens: reasoning, truncated };
}

/**
 * The plan of an answer whose text is fixed in advance (a tool call's arguments, a JSON document):
 * it ends when the text does, so only the output limit can cut it (finish_reason `length`), and
 * the length controls of load generators do not apply.
 */
export function planFixedOutput(
  rng: Rng,
  request: Pick<OutputRequest, 'limit' | 'reasoning'>,
  fixed: string[],
): OutputPlan {
  const reasoning = request.reasoning
    ? Math.min(intBetween(rng, request.reasoning.min, request.reasoning.max), request.reasoning.cap)
    : 0;
  const budget = request.limit === null ? Number.POSITIVE_INFINITY : Math.max(0, request.limit - reasoning);
  return { tokens: fixed.slice(0, budget), reasoningTokens: reasoning, truncated: fixed.length > budget };
}

/** The per-request generator: same seed, model and prompt give the same output, streamed or not. */
export function rngFor(config: DemoConfig, route: string, model: string, prompt: string): Rng {
  return requestRng(config.seed, route, model, prompt);
}

/** The `model` field; a missing or non-string model is the 400 both providers return. */
export function requireModel(body: Record<string, unknown>, wire: 'openai' | 'anthropic'): string {
  const model = body.model;
  if (typeof model === 'string' && model !== '') return model;
  throw new PertokenError(
    'invalid_request',
    wire === 'anthropic' ? 'model: Field required' : 'you must provide a model parameter',
    { param: 'model' },
  );
}

/** A required array field, e.g. `messages`, with the provider's wording. */
export function requireArray(body: Record<string, unknown>, field: string, wire: 'openai' | 'anthropic'): unknown[] {
  const value = body[field];
  if (Array.isArray(value)) return value;
  if (value === undefined) {
    throw new PertokenError(
      'invalid_request',
      wire === 'anthropic' ? `${field}: Field required` : `Missing required parameter: '${field}'.`,
      { param: field },
    );
  }
  throw new PertokenError(
    'invalid_request',
    wire === 'anthropic' ? `${field}: Input should be a valid list` : `Invalid type for '${field}': expected an array.`,
    { param: field },
  );
}

/** An optional positive integer limit such as `max_tokens`; null when absent. */
export function optionalLimit(body: Record<string, unknown>, field: string): number | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
  throw new PertokenError('invalid_request', `Invalid '${field}': expected an integer greater than or equal to 1.`, {
    param: field,
  });
}

/** vLLM extensions a load generator sends to fix the output length. */
export function lengthControls(body: Record<string, unknown>): { ignoreEos: boolean; minTokens: number } {
  const minTokens = typeof body.min_tokens === 'number' && body.min_tokens > 0 ? Math.floor(body.min_tokens) : 0;
  return { ignoreEos: body.ignore_eos === true, minTokens };
}

export function asRecord(value: unknown): Record<string, unknown> | null {
  return isRecord(value) ? value : null;
}

/** One SSE event with an `event:` line (Responses API and Anthropic). */
export function eventFrame(type: string, json: unknown, content: boolean): Frame {
  return { data: `event: ${type}\ndata: ${JSON.stringify(json)}\n\n`, content };
}

const SLOT = '\u0001demo-slot\u0001';

/**
 * Pre-serializes an event with placeholders so that each streamed chunk costs a string
 * concatenation instead of a JSON.stringify of the whole envelope: with hundreds of concurrent
 * streams, per-request CPU is queueing delay that would show up as TTFT the server never scheduled.
 * `build` receives the placeholder and returns the event's JSON text; the returned function fills
 * the placeholders in order with JSON-encoded values.
 */
export function slotTemplate(build: (slot: string) => string): (...values: unknown[]) => string {
  const pieces = build(SLOT).split(JSON.stringify(SLOT));
  return (...values) => {
    let out = pieces[0] ?? '';
    for (let i = 1; i < pieces.length; i++) out += JSON.stringify(values[i - 1]) + (pieces[i] ?? '');
    return out;
  };
}
