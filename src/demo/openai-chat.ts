import { invalidInput } from '../errors.js';
import {
  optionalLimit,
  requireArray,
  requireModel,
  rngFor,
  slotTemplate,
  type EngineWork,
  type RouteContext,
  type RouteResult,
} from './generation.js';
import { servedOpenAIModel } from './models.js';
import {
  chatUsage,
  DONE_FRAME,
  MALFORMED_DATA,
  planOpenAIAnswer,
  systemFingerprint,
  wantsStreamUsage,
  openaiBill,
} from './openai-common.js';
import { randomId } from './random.js';
import type { Frame } from './stream.js';
import { chatAnswer } from './structured.js';
import { chunkTokens, collectText, countTokens } from './text.js';

/** POST /v1/chat/completions (n = 1). */
export function chatCompletions(body: Record<string, unknown>, ctx: RouteContext): RouteResult {
  const model = requireModel(body, 'openai');
  const messages = requireArray(body, 'messages', 'openai');
  if (messages.length === 0) {
    throw invalidInput('messages', "Invalid 'messages': empty array. Expected an array with minimum length 1.");
  }
  const stream = body.stream === true;
  const includeUsage = wantsStreamUsage(body, stream) && !ctx.faults.noUsage;
  const limit = optionalLimit(body, 'max_completion_tokens') ?? optionalLimit(body, 'max_tokens');

  const answer = chatAnswer(body, messages);

  const segments = collectText(messages);
  const toolsText = body.tools === undefined ? null : JSON.stringify(body.tools);
  if (toolsText !== null) segments.push(toolsText);
  const promptTokens = segments.reduce((sum, text) => sum + countTokens(text), 0);
  const rng = rngFor(ctx.config, 'chat', model, segments.join('\n'));
  const base = {
    id: randomId('chatcmpl-', 29),
    created: ctx.now,
    model: servedOpenAIModel(model),
  };
  const { cachedTokens, output } = planOpenAIAnswer(ctx, rng, {
    model,
    served: base.model,
    segments,
    toolsText,
    body,
    limit,
    answer,
  });
  const call = answer.kind === 'tool' ? { id: randomId('call_', 24), name: answer.name } : null;
  // A tool named by tool_choice finishes with `stop`, not `tool_calls`: OpenAI's own quirk.
  const toolFinish = answer.kind === 'tool' && !answer.named ? 'tool_calls' : 'stop';
  const finishReason = output.truncated ? 'length' : toolFinish;
  const usage = chatUsage(promptTokens, cachedTokens, output.tokens.length, output.reasoningTokens);
  const fingerprint = systemFingerprint(base.model);
  const text = output.tokens.join('');
  const work: EngineWork = {
    promptTokens,
    generationTokens: output.tokens.length + output.reasoningTokens,
    finishedReason: output.truncated ? 'length' : 'stop',
    bill: openaiBill(base.model, promptTokens, cachedTokens),
  };

  if (!stream) {
    const message = call
      ? {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: text } }],
          refusal: null,
          annotations: [],
        }
      : { role: 'assistant', content: text, refusal: null, annotations: [] };
    const completion: Record<string, unknown> = {
      ...base,
      object: 'chat.completion',
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
      usage,
      service_tier: 'default',
      system_fingerprint: fingerprint,
    };
    if (ctx.faults.noUsage) delete completion.usage;
    return { kind: 'json', status: 200, body: completion, work };
  }

  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    `data: ${JSON.stringify({
      ...base,
      object: 'chat.completion.chunk',
      service_tier: 'default',
      system_fingerprint: fingerprint,
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    })}\n\n`;
  const choice = (delta: unknown, finish: string | null): unknown => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  // OpenAI names the call (id, type, name, empty arguments) in the role chunk, then streams only
  // argument pieces under the call's index.
  const opening = call
    ? {
        role: 'assistant',
        content: null,
        tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
        refusal: null,
      }
    : { role: 'assistant', content: '', refusal: null };
  const contentChunk = slotTemplate((slot) =>
    chunk([choice(call ? { tool_calls: [{ index: 0, function: { arguments: slot } }] } : { content: slot }, null)]),
  );

  const frames: Frame[] = [{ data: chunk([choice(opening, null)]), content: false }];
  for (const piece of chunkTokens(output.tokens, ctx.config.tokensPerChunk)) {
    frames.push({ data: contentChunk(piece), content: true });
  }
  frames.push({ data: chunk([choice({}, finishReason)]), content: false });
  if (includeUsage) frames.push({ data: chunk([], { usage }), content: false });
  frames.push(DONE_FRAME);
  return { kind: 'stream', plan: { frames, malformed: MALFORMED_DATA }, work };
}
