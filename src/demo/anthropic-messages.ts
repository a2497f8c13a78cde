import { PertokenError } from '../errors.js';
import { readAnthropicPrompt, type AnthropicPrompt } from './anthropic-prompt.js';
import {
  eventFrame,
  lengthControls,
  optionalLimit,
  planOutput,
  requireArray,
  requireModel,
  rngFor,
  slotTemplate,
  type RouteContext,
  type RouteResult,
} from './generation.js';
import { servedAnthropicModel } from './models.js';
import { randomId, type Rng } from './random.js';
import type { Frame } from './stream.js';
import { chunkTokens, generateTokens, isRecord } from './text.js';

/**
 * POST /v1/messages. Usage is Anthropic's: `input_tokens` excludes cache reads and writes; the
 * stream reports it in `message_start` and, cumulatively with the final output count, in
 * `message_delta`. With `thinking` enabled a thinking block (thinking_delta…, signature_delta)
 * precedes the text, and its tokens count in `output_tokens`.
 */
export function messages(body: Record<string, unknown>, ctx: RouteContext): RouteResult {
  const model = requireModel(body, 'anthropic');
  const maxTokens = optionalLimit(body, 'max_tokens');
  if (maxTokens === null)
    throw new PertokenError('invalid_request', 'max_tokens: Field required', { param: 'max_tokens' });
  requireMessages(body);
  const thinkingCap = readThinking(body.thinking, maxTokens);
  const stream = body.stream === true;

  const prompt = readAnthropicPrompt(body, model);
  const rng = rngFor(ctx.config, 'messages', model, prompt.text);
  const output = planOutput(rng, ctx.config, {
    limit: maxTokens,
    reasoning: thinkingCap === null ? null : { min: 48, max: 320, cap: thinkingCap },
    ...lengthControls(body),
  });
  const thinking =
    thinkingCap === null ? null : { tokens: generateTokens(rng, output.reasoningTokens), signature: signature(rng) };
  const outputTokens = output.tokens.length + output.reasoningTokens;
  const usage = ctx.faults.noUsage ? null : promptUsage(prompt, ctx);
  const stopReason = output.truncated ? 'max_tokens' : 'end_turn';
  const head = {
    id: randomId('msg_01', 22),
    type: 'message',
    role: 'assistant',
    model: servedAnthropicModel(model),
  };

  if (!stream) {
    const content: unknown[] = [];
    if (thinking) content.push({ type: 'thinking', thinking: thinking.tokens.join(''), signature: thinking.signature });
    if (output.tokens.length > 0 || !thinking) content.push({ type: 'text', text: output.tokens.join('') });
    const message: Record<string, unknown> = { ...head, content, stop_reason: stopReason, stop_sequence: null };
    if (usage) message.usage = { ...usage, output_tokens: outputTokens, service_tier: 'standard' };
    return { kind: 'json', status: 200, body: message, outputTokens };
  }

  const frames: Frame[] = [];
  const emit = (type: string, fields: Record<string, unknown>, content = false): void => {
    frames.push(eventFrame(type, { type, ...fields }, content));
  };
  const start: Record<string, unknown> = { ...head, content: [], stop_reason: null, stop_sequence: null };
  if (usage) start.usage = { ...usage, output_tokens: Math.min(1, outputTokens), service_tier: 'standard' };
  emit('message_start', { message: start });

  let index = 0;
  /** One content block; `field` is the delta's text field (`thinking` or `text`). */
  const block = (kind: 'thinking' | 'text', tokens: string[], closing: Array<Record<string, unknown>>): void => {
    const field = kind === 'thinking' ? 'thinking' : 'text';
    emit('content_block_start', {
      index,
      content_block:
        kind === 'thinking' ? { type: 'thinking', thinking: '', signature: '' } : { type: 'text', text: '' },
    });
    if (index === 0) emit('ping', {});
    const delta = slotTemplate(
      (slot) =>
        eventFrame(
          'content_block_delta',
          { type: 'content_block_delta', index, delta: { type: `${kind}_delta`, [field]: slot } },
          true,
        ).data,
    );
    for (const text of chunkTokens(tokens, ctx.config.tokensPerChunk))
      frames.push({ data: delta(text), content: true });
    for (const closer of closing) emit('content_block_delta', { index, delta: closer });
    emit('content_block_stop', { index });
    index += 1;
  };
  if (thinking) block('thinking', thinking.tokens, [{ type: 'signature_delta', signature: thinking.signature }]);
  if (output.tokens.length > 0 || !thinking) block('text', output.tokens, []);
  const delta: Record<string, unknown> = { delta: { stop_reason: stopReason, stop_sequence: null } };
  if (usage) {
    delta.usage = {
      input_tokens: usage.input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      output_tokens: outputTokens,
    };
  }
  emit('message_delta', delta);
  emit('message_stop', {});
  return { kind: 'stream', plan: { frames, malformed: 'event: content_block_delta\ndata: {not json\n\n' } };
}

/** POST /v1/messages/count_tokens: all input tokens, cached or not; nothing is cached by counting. */
export function countTokensRoute(body: Record<string, unknown>): RouteResult {
  const model = requireModel(body, 'anthropic');
  requireMessages(body);
  const prompt = readAnthropicPrompt(body, model);
  return { kind: 'json', status: 200, body: { input_tokens: prompt.totalTokens }, outputTokens: 0 };
}

interface InputUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

function promptUsage(prompt: AnthropicPrompt, ctx: RouteContext): InputUsage {
  const hit = prompt.prefixKey !== null && ctx.promptCache.touch(prompt.prefixKey, prompt.prefixTtl);
  const written = prompt.prefixKey !== null && !hit ? prompt.prefixTokens : 0;
  const written1h = written > 0 ? prompt.prefix1hTokens : 0;
  return {
    input_tokens: prompt.totalTokens - prompt.prefixTokens,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: hit ? prompt.prefixTokens : 0,
    cache_creation: { ephemeral_5m_input_tokens: written - written1h, ephemeral_1h_input_tokens: written1h },
  };
}

function requireMessages(body: Record<string, unknown>): void {
  if (requireArray(body, 'messages', 'anthropic').length === 0) {
    throw new PertokenError('invalid_request', 'messages: at least one message is required', { param: 'messages' });
  }
}

/** The thinking token cap, or null when thinking is off; enforces Anthropic's budget rules. */
function readThinking(value: unknown, maxTokens: number): number | null {
  if (!isRecord(value) || value.type === 'disabled') return null;
  if (value.type === 'adaptive') return Math.floor(maxTokens / 2);
  const budget = value.budget_tokens;
  if (typeof budget !== 'number' || !Number.isSafeInteger(budget) || budget < 1024) {
    throw new PertokenError(
      'invalid_request',
      'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024',
      {
        param: 'thinking',
      },
    );
  }
  if (budget >= maxTokens) {
    throw new PertokenError('invalid_request', '`max_tokens` must be greater than `thinking.budget_tokens`.', {
      param: 'max_tokens',
    });
  }
  return budget;
}

/** A base64 blob the length of a real signature; opaque to clients, like the real one. */
function signature(rng: Rng): string {
  return Buffer.from(Array.from({ length: 240 }, () => Math.floor(rng() * 256))).toString('base64');
}
