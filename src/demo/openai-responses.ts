import { invalidInput } from '../errors.js';
import {
  eventFrame,
  optionalLimit,
  requireModel,
  rngFor,
  slotTemplate,
  type EngineWork,
  type RouteContext,
  type RouteResult,
} from './generation.js';
import { isReasoningModel, servedOpenAIModel } from './models.js';
import { openaiBill, planOpenAIAnswer } from './openai-common.js';
import { randomId } from './random.js';
import type { Frame } from './stream.js';
import { responsesAnswer } from './structured.js';
import { chunkTokens, collectText, countTokens, isRecord } from './text.js';

/**
 * POST /v1/responses. Reasoning models first emit a `reasoning` output item (no summary), then the
 * message, or a `function_call` item when the request's tools call for one (see structured.ts);
 * `text.format` json_schema / json_object makes the message text a JSON document. A response cut
 * short by `max_output_tokens` ends as `incomplete` (event `response.incomplete`) exactly like the
 * real API, still with usage.
 */
export function responses(body: Record<string, unknown>, ctx: RouteContext): RouteResult {
  const model = requireModel(body, 'openai');
  if (body.input === undefined && body.previous_response_id === undefined) {
    throw invalidInput('input', "Missing required parameter: 'input'.");
  }
  const limit = optionalLimit(body, 'max_output_tokens');
  if (limit !== null && limit < 16) {
    throw invalidInput(
      'max_output_tokens',
      `Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got ${limit} instead.`,
    );
  }
  const stream = body.stream === true;
  const reasoningModel = isReasoningModel(model);

  const answer = responsesAnswer(body);

  const segments = collectText(body.instructions ?? []);
  collectText(body.input ?? [], segments);
  const toolsText = body.tools === undefined ? null : JSON.stringify(body.tools);
  if (toolsText !== null) segments.push(toolsText);
  const inputTokens = segments.reduce((sum, text) => sum + countTokens(text), 0);
  const rng = rngFor(ctx.config, 'responses', model, segments.join('\n'));
  const served = servedOpenAIModel(model);
  const { cachedTokens, output } = planOpenAIAnswer(ctx, rng, {
    model,
    served,
    segments,
    toolsText,
    body,
    limit,
    answer,
  });
  const text = output.tokens.join('');
  const outputTokens = output.tokens.length + output.reasoningTokens;
  const usage = ctx.faults.noUsage
    ? null
    : {
        input_tokens: inputTokens,
        input_tokens_details: { cached_tokens: cachedTokens },
        output_tokens: outputTokens,
        output_tokens_details: { reasoning_tokens: output.reasoningTokens },
        total_tokens: inputTokens + outputTokens,
      };

  const work: EngineWork = {
    promptTokens: inputTokens,
    generationTokens: outputTokens,
    finishedReason: output.truncated ? 'length' : 'stop',
    bill: openaiBill(served, inputTokens, cachedTokens),
  };
  const final = output.truncated ? 'incomplete' : 'completed';
  const reasoningItem = reasoningModel ? { id: randomId('rs_', 48), type: 'reasoning', summary: [] } : null;
  const responseId = randomId('resp_', 48);
  const call = answer.kind === 'tool' ? { callId: randomId('call_', 24), name: answer.name } : null;
  const itemId = randomId(call ? 'fc_' : 'msg_', 48);
  const part = { type: 'output_text', annotations: [], logprobs: [], text };
  const message = (status: string, content: unknown[]): unknown => ({
    id: itemId,
    type: 'message',
    status,
    content,
    role: 'assistant',
  });
  const functionCall = (status: string, args: string): unknown => ({
    id: itemId,
    type: 'function_call',
    status,
    arguments: args,
    call_id: call?.callId,
    name: call?.name,
  });
  const mainItem = call ? functionCall(final, text) : message(final, [part]);
  const doneOutput = [...(reasoningItem ? [reasoningItem] : []), mainItem];
  const response = (status: string, out: unknown[], withUsage: boolean): Record<string, unknown> => ({
    id: responseId,
    object: 'response',
    created_at: ctx.now,
    status,
    background: false,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: limit,
    model: served,
    output: out,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: reasoningModel ? 'medium' : null, summary: null },
    service_tier: 'default',
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: { format: textFormat(body), verbosity: 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage: withUsage ? usage : null,
    user: null,
    metadata: body.metadata ?? {},
  });

  if (!stream) {
    const full = response(final, doneOutput, true);
    if (usage === null) delete full.usage;
    return { kind: 'json', status: 200, body: full, work };
  }

  let sequence = 0;
  const frames: Frame[] = [];
  const emit = (type: string, fields: Record<string, unknown>, content = false): void => {
    frames.push(eventFrame(type, { type, sequence_number: sequence++, ...fields }, content));
  };
  emit('response.created', { response: response('in_progress', [], false) });
  emit('response.in_progress', { response: response('in_progress', [], false) });
  let outputIndex = 0;
  if (reasoningItem) {
    emit('response.output_item.added', { output_index: 0, item: reasoningItem });
    emit('response.output_item.done', { output_index: 0, item: reasoningItem });
    outputIndex = 1;
  }
  const pieces = chunkTokens(output.tokens, ctx.config.tokensPerChunk);
  if (call) {
    const at = { item_id: itemId, output_index: outputIndex };
    emit('response.output_item.added', { output_index: outputIndex, item: functionCall('in_progress', '') });
    const deltaType = 'response.function_call_arguments.delta';
    const deltaEvent = slotTemplate(
      (slot) => eventFrame(deltaType, { type: deltaType, sequence_number: slot, ...at, delta: slot }, true).data,
    );
    for (const delta of pieces) frames.push({ data: deltaEvent(sequence++, delta), content: true });
    emit('response.function_call_arguments.done', { ...at, name: call.name, arguments: text });
  } else {
    const at = { item_id: itemId, output_index: outputIndex, content_index: 0 };
    emit('response.output_item.added', { output_index: outputIndex, item: message('in_progress', []) });
    emit('response.content_part.added', { ...at, part: { ...part, text: '' } });
    const deltaType = 'response.output_text.delta';
    const deltaEvent = slotTemplate(
      (slot) =>
        eventFrame(deltaType, { type: deltaType, sequence_number: slot, ...at, delta: slot, logprobs: [] }, true).data,
    );
    for (const delta of pieces) frames.push({ data: deltaEvent(sequence++, delta), content: true });
    emit('response.output_text.done', { ...at, text, logprobs: [] });
    emit('response.content_part.done', { ...at, part });
  }
  emit('response.output_item.done', { output_index: outputIndex, item: mainItem });
  emit(`response.${final}`, { response: response(final, doneOutput, true) });
  const malformedType = call ? 'response.function_call_arguments.delta' : 'response.output_text.delta';
  return { kind: 'stream', plan: { frames, malformed: `event: ${malformedType}\ndata: {not json\n\n` }, work };
}

/** The echoed `text.format`: what the request asked for, plain text by default. */
function textFormat(body: Record<string, unknown>): unknown {
  return isRecord(body.text) && isRecord(body.text.format) ? body.text.format : { type: 'text' };
}
