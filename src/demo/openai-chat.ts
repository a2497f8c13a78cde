import { PertokenError } from '../errors.js';
import {
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
import { isReasoningModel, servedOpenAIModel } from './models.js';
import { chatUsage, DONE_FRAME, MALFORMED_DATA, systemFingerprint, wantsStreamUsage } from './openai-common.js';
import { randomId } from './random.js';
import type { Frame } from './stream.js';
import { chunkTokens, collectText, countTokens } from './text.js';

/** POST /v1/chat/completions (n = 1). */
export function chatCompletions(body: Record<string, unknown>, ctx: RouteContext): RouteResult {
  const model = requireModel(body, 'openai');
  const messages = requireArray(body, 'messages', 'openai');
  if (messages.length === 0) {
    throw new PertokenError(
      'invalid_request',
      "Invalid 'messages': empty array. Expected an array with minimum length 1.",
      {
        param: 'messages',
      },
    );
  }
  const stream = body.stream === true;
  const includeUsage = wantsStreamUsage(body, stream) && !ctx.faults.noUsage;
  const limit = optionalLimit(body, 'max_completion_tokens') ?? optionalLimit(body, 'max_tokens');

  const segments = collectText(messages);
  if (body.tools !== undefined) segments.push(JSON.stringify(body.tools));
  const promptTokens = segments.reduce((sum, text) => sum + countTokens(text), 0);
  const rng = rngFor(ctx.config, 'chat', model, segments.join('\n'));
  const output = planOutput(rng, ctx.config, {
    limit,
    // Hidden reasoning never takes more than half the budget, so a reply always has some text.
    reasoning: isReasoningModel(model)
      ? { min: 64, max: 512, cap: limit === null ? Number.POSITIVE_INFINITY : Math.floor(limit / 2) }
      : null,
    ...lengthControls(body),
  });
  const finishReason = output.truncated ? 'length' : 'stop';
  const usage = chatUsage(promptTokens, output.tokens.length, output.reasoningTokens);
  const base = {
    id: randomId('chatcmpl-', 29),
    created: ctx.now,
    model: servedOpenAIModel(model),
  };
  const fingerprint = systemFingerprint(base.model);

  if (!stream) {
    const completion: Record<string, unknown> = {
      ...base,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: output.tokens.join(''), refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage,
      service_tier: 'default',
      system_fingerprint: fingerprint,
    };
    if (ctx.faults.noUsage) delete completion.usage;
    return { kind: 'json', status: 200, body: completion, outputTokens: output.tokens.length + output.reasoningTokens };
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
  const contentChunk = slotTemplate((slot) => chunk([choice({ content: slot }, null)]));

  const frames: Frame[] = [
    { data: chunk([choice({ role: 'assistant', content: '', refusal: null }, null)]), content: false },
  ];
  for (const text of chunkTokens(output.tokens, ctx.config.tokensPerChunk)) {
    frames.push({ data: contentChunk(text), content: true });
  }
  frames.push({ data: chunk([choice({}, finishReason)]), content: false });
  if (includeUsage) frames.push({ data: chunk([], { usage }), content: false });
  frames.push(DONE_FRAME);
  return { kind: 'stream', plan: { frames, malformed: MALFORMED_DATA } };
}
