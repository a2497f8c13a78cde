import { PertokenError } from '../errors.js';
import { anthropicCacheUsage, readAnthropicPrompt } from './anthropic-prompt.js';
import {
  eventFrame,
  lengthControls,
  optionalLimit,
  planFixedOutput,
  planOutput,
  requireArray,
  requireModel,
  rngFor,
  slotTemplate,
  type EngineWork,
  type RouteContext,
  type RouteResult,
} from './generation.js';
import { servedAnthropicModel } from './models.js';
import { randomId, type Rng } from './random.js';
import type { Frame } from './stream.js';
import { anthropicAnswer, structuredOutput } from './structured.js';
import { chunkTokens, generateTokens, isRecord } from './text.js';

/**
 * POST /v1/messages. Usage is Anthropic's: `input_tokens` excludes cache reads and writes; the
 * stream reports it in `message_start` and, cumulatively with the final output count, in
 * `message_delta`. With `thinking` enabled a thinking block (thinking_delta…, signature_delta)
 * precedes the text, and its tokens count in `output_tokens`. With tools a `tool_use` block takes
 * the text's place (stop_reason `tool_use`; streamed as input_json_delta), and
 * `output_config.format` json_schema makes the text a JSON document (see structured.ts).
 */
export function messages(body: Record<string, unknown>, ctx: RouteContext): RouteResult {
  const model = requireModel(body, 'anthropic');
  const maxTokens = optionalLimit(body, 'max_tokens');
  if (maxTokens === null)
    throw new PertokenError('invalid_request', 'max_tokens: Field required', { param: 'max_tokens' });
  requireMessages(body);
  const thinkingCap = readThinking(body.thinking, maxTokens);
  const stream = body.stream === true;

  const served = servedAnthropicModel(model);
  const answer = anthropicAnswer(body, thinkingCap !== null);
  const prompt = readAnthropicPrompt(body, served);
  const rng = rngFor(ctx.config, 'messages', model, prompt.text);
  const reasoning = thinkingCap === null ? null : { min: 48, max: 320, cap: thinkingCap };
  const structured = answer.kind === 'text' ? null : structuredOutput(answer, rng);
  const output = structured
    ? planFixedOutput(rng, { limit: maxTokens, reasoning }, structured.tokens)
    : planOutput(rng, ctx.config, { limit: maxTokens, reasoning, ...lengthControls(body) });
  const thinking =
    thinkingCap === null ? null : { tokens: generateTokens(rng, output.reasoningTokens), signature: signature(rng) };
  const outputTokens = output.tokens.length + output.reasoningTokens;
  // The cache is written and read whether or not the usage reaches the client.
  const inputUsage = anthropicCacheUsage(prompt, ctx.promptCache);
  const usage = ctx.faults.noUsage ? null : inputUsage;
  const tool = answer.kind === 'tool' ? { id: randomId('toolu_01', 22), name: answer.name } : null;
  const stopReason = output.truncated ? 'max_tokens' : tool ? 'tool_use' : 'end_turn';
  const work: EngineWork = {
    promptTokens: prompt.totalTokens,
    generationTokens: outputTokens,
    finishedReason: output.truncated ? 'length' : 'stop',
    bill: {
      wire: 'anthropic',
      model: served,
      uncached: inputUsage.input_tokens,
      cacheRead: inputUsage.cache_read_input_tokens,
      cacheWrite5m: inputUsage.cache_creation.ephemeral_5m_input_tokens,
      cacheWrite1h: inputUsage.cache_creation.ephemeral_1h_input_tokens,
    },
  };
  const head = {
    id: randomId('msg_01', 22),
    type: 'message',
    role: 'assistant',
    model: served,
  };
  const toolBlock = (input: unknown): Record<string, unknown> => ({
    type: 'tool_use',
    id: tool?.id,
    name: tool?.name,
    input,
    caller: { type: 'direct' },
  });

  if (!stream) {
    const content: unknown[] = [];
    if (thinking) content.push({ type: 'thinking', thinking: thinking.tokens.join(''), signature: thinking.signature });
    // A call cut by max_tokens has only half a JSON document: the demo shows {} rather than guess a parse.
    if (tool) content.push(toolBlock(output.truncated ? {} : structured?.value));
    else if (output.tokens.length > 0 || !thinking) content.push({ type: 'text', text: output.tokens.join('') });
    const message: Record<string, unknown> = { ...head, content, stop_reason: stopReason, stop_sequence: null };
    if (usage) message.usage = { ...usage, output_tokens: outputTokens, service_tier: 'standard' };
    return { kind: 'json', status: 200, body: message, work };
  }

  const frames: Frame[] = [];
  const emit = (type: string, fields: Record<string, unknown>, content = false): void => {
    frames.push(eventFrame(type, { type, ...fields }, content));
  };
  const start: Record<string, unknown> = { ...head, content: [], stop_reason: null, stop_sequence: null };
  if (usage) start.usage = { ...usage, output_tokens: Math.min(1, outputTokens), service_tier: 'standard' };
  emit('message_start', { message: start });

  let index = 0;
  /** One content block, streamed as deltas of its kind's field. */
  const block = (
    kind: 'thinking' | 'text' | 'tool_use',
    tokens: string[],
    closing: Array<Record<string, unknown>>,
  ): void => {
    const field = DELTA_FIELD[kind];
    const type = DELTA_TYPE[kind];
    const opening =
      kind === 'thinking'
        ? { type: 'thinking', thinking: '', signature: '' }
        : kind === 'tool_use'
          ? toolBlock({})
          : { type: 'text', text: '' };
    emit('content_block_start', { index, content_block: opening });
    if (index === 0) emit('ping', {});
    // Anthropic opens a tool's input with an empty partial_json before the first real piece.
    if (kind === 'tool_use') emit('content_block_delta', { index, delta: { type, partial_json: '' } });
    const delta = slotTemplate(
      (slot) =>
        eventFrame('content_block_delta', { type: 'content_block_delta', index, delta: { type, [field]: slot } }, true)
          .data,
    );
    for (const text of chunkTokens(tokens, ctx.config.tokensPerChunk))
      frames.push({ data: delta(text), content: true });
    for (const closer of closing) emit('content_block_delta', { index, delta: closer });
    emit('content_block_stop', { index });
    index += 1;
  };
  if (thinking) block('thinking', thinking.tokens, [{ type: 'signature_delta', signature: thinking.signature }]);
  if (tool) block('tool_use', output.tokens, []);
  else if (output.tokens.length > 0 || !thinking) block('text', output.tokens, []);
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
  return { kind: 'stream', plan: { frames, malformed: 'event: content_block_delta\ndata: {not json\n\n' }, work };
}

/** Each block kind's delta: its type and the field that carries the streamed piece. */
const DELTA_FIELD = { thinking: 'thinking', text: 'text', tool_use: 'partial_json' } as const;
const DELTA_TYPE = { thinking: 'thinking_delta', text: 'text_delta', tool_use: 'input_json_delta' } as const;

/** POST /v1/messages/count_tokens: all input tokens, cached or not; nothing is cached by counting. */
export function countTokensRoute(body: Record<string, unknown>): RouteResult {
  const model = requireModel(body, 'anthropic');
  requireMessages(body);
  const prompt = readAnthropicPrompt(body, servedAnthropicModel(model));
  return { kind: 'json', status: 200, body: { input_tokens: prompt.totalTokens }, work: null };
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
