import { PertokenError } from '../errors.js';
import {
  lengthControls,
  optionalLimit,
  planOutput,
  requireModel,
  rngFor,
  slotTemplate,
  type EngineWork,
  type RouteContext,
  type RouteResult,
} from './generation.js';
import { servedOpenAIModel } from './models.js';
import { DONE_FRAME, MALFORMED_DATA, openaiBill, wantsStreamUsage } from './openai-common.js';
import { randomId } from './random.js';
import type { Frame } from './stream.js';
import { chunkTokens, countTokens } from './text.js';

/** The legacy endpoint's own default, which surprises people: 16 tokens when max_tokens is unset. */
const LEGACY_DEFAULT_MAX_TOKENS = 16;

/** POST /v1/completions (legacy). A prompt may be text, texts, or token ids (as load testers send). */
export function completions(body: Record<string, unknown>, ctx: RouteContext): RouteResult {
  const model = requireModel(body, 'openai');
  const prompt = readPrompt(body.prompt);
  const stream = body.stream === true;
  const includeUsage = wantsStreamUsage(body, stream) && !ctx.faults.noUsage;
  const limit = optionalLimit(body, 'max_tokens') ?? LEGACY_DEFAULT_MAX_TOKENS;

  const rng = rngFor(ctx.config, 'completions', model, prompt.key);
  const output = planOutput(rng, ctx.config, { limit, reasoning: null, ...lengthControls(body) });
  const finishReason = output.truncated ? 'length' : 'stop';
  const usage = {
    prompt_tokens: prompt.tokens,
    completion_tokens: output.tokens.length,
    total_tokens: prompt.tokens + output.tokens.length,
  };
  const work: EngineWork = {
    promptTokens: prompt.tokens,
    generationTokens: output.tokens.length,
    finishedReason: output.truncated ? 'length' : 'stop',
    bill: openaiBill(servedOpenAIModel(model), prompt.tokens, 0),
  };
  const base = {
    id: randomId('cmpl-', 29),
    object: 'text_completion',
    created: ctx.now,
    model: servedOpenAIModel(model),
  };

  if (!stream) {
    const completion: Record<string, unknown> = {
      ...base,
      choices: [{ text: output.tokens.join(''), index: 0, logprobs: null, finish_reason: finishReason }],
      usage,
    };
    if (ctx.faults.noUsage) delete completion.usage;
    return { kind: 'json', status: 200, body: completion, work };
  }

  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    `data: ${JSON.stringify({ ...base, choices, ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`;
  const contentChunk = slotTemplate((slot) => chunk([{ text: slot, index: 0, logprobs: null, finish_reason: null }]));
  const frames: Frame[] = [];
  for (const text of chunkTokens(output.tokens, ctx.config.tokensPerChunk)) {
    frames.push({ data: contentChunk(text), content: true });
  }
  frames.push({ data: chunk([{ text: '', index: 0, logprobs: null, finish_reason: finishReason }]), content: false });
  if (includeUsage) frames.push({ data: chunk([], { usage }), content: false });
  frames.push(DONE_FRAME);
  return { kind: 'stream', plan: { frames, malformed: MALFORMED_DATA }, work };
}

interface Prompt {
  tokens: number;
  /** What seeds the generator. */
  key: string;
}

function readPrompt(value: unknown): Prompt {
  if (typeof value === 'string') return { tokens: countTokens(value), key: value };
  if (Array.isArray(value) && value.length > 0) {
    if (value.every((item) => typeof item === 'string')) {
      return { tokens: value.reduce((sum: number, text: string) => sum + countTokens(text), 0), key: value.join('\n') };
    }
    if (value.every((item) => typeof item === 'number')) return { tokens: value.length, key: value.join(',') };
    if (value.every((item) => Array.isArray(item) && item.every((id) => typeof id === 'number'))) {
      const lists = value as number[][];
      return {
        tokens: lists.reduce((sum, ids) => sum + ids.length, 0),
        key: lists.map((ids) => ids.join(',')).join('\n'),
      };
    }
  }
  throw new PertokenError(
    'invalid_request',
    value === undefined
      ? "Missing required parameter: 'prompt'."
      : "Invalid 'prompt': expected a string, an array of strings, or an array of token ids.",
    { param: 'prompt' },
  );
}
