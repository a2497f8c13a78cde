import { invalidInput } from '../errors.js';
import {
  bodyBytes,
  optionalPositiveInt,
  optionalStream,
  prepared,
  requireModel,
  requireObjectBody,
} from './request.js';
import { openaiErrorBody } from './errors.js';
import { createOpenAIChunkTap, openaiChatUsage, withIncludeUsage } from './openai-chat.js';
import { emptyTapResult } from './sse.js';
import { arrayOrEmpty, isRecord, recordOrEmpty, stringOrNull, TextCollector, type JsonObject } from './shape.js';
import type { PreparedRequest, ProviderAdapter, TapResult } from './types.js';

/**
 * Legacy /completions: the same usage object and stream framing as chat, with `prompt` instead of
 * `messages` and `choices[].text` instead of a message.
 */

function prepareCompletions(input: unknown, raw?: Buffer): PreparedRequest {
  const body = requireObjectBody(input);
  const model = requireModel(body);
  const text = new TextCollector();
  const pretokenized = promptText(body['prompt'], text);
  const stream = optionalStream(body);
  const maxTokens = optionalPositiveInt(body, 'max_tokens');
  text.add(body['suffix']);
  const rewrite = withIncludeUsage(body, stream);
  return prepared({
    body: bodyBytes(rewrite.body, raw, rewrite.changed),
    model,
    stream,
    clientWantsUsage: rewrite.clientWantsUsage,
    maxOutputTokens: maxTokens,
    text,
    pretokenizedInputTokens: pretokenized,
  });
}

/**
 * `prompt` is a string, an array of strings, an array of token ids or an array of token-id arrays.
 * Token ids are counted exactly (returned), strings are collected as text.
 */
export function promptText(prompt: unknown, text: TextCollector, param = 'prompt'): number {
  if (typeof prompt === 'string') {
    text.add(prompt);
    return 0;
  }
  if (!Array.isArray(prompt)) throw invalidInput(param, `\`${param}\` is required: a string or an array`);
  let tokens = 0;
  prompt.forEach((item, index) => {
    if (typeof item === 'string') text.add(item);
    else if (typeof item === 'number') tokens++;
    else if (Array.isArray(item) && item.every((t) => typeof t === 'number')) tokens += item.length;
    else {
      throw invalidInput(
        `${param}[${index}]`,
        `\`${param}[${index}]\` must be a string, a token id or an array of token ids`,
      );
    }
  });
  return tokens;
}

function readCompletionsBody(body: unknown): TapResult {
  if (!isRecord(body)) return emptyTapResult();
  const out = new TextCollector();
  for (const choice of arrayOrEmpty(body['choices'])) out.add(recordOrEmpty(choice)['text']);
  return {
    usage: openaiChatUsage(body['usage']),
    servedModel: stringOrNull(body['model']),
    outputText: out.text(),
    completed: true,
    streamError: null,
  };
}

function completionDeltaText(choice: JsonObject): string {
  const text = choice['text'];
  return typeof text === 'string' ? text : '';
}

export const openaiCompletionsAdapter: ProviderAdapter = {
  route: 'openai.completions',
  wire: 'openai',
  clientPath: '/v1/completions',
  upstreamPath: '/completions',
  metered: true,
  scope: 'completions',
  terminalMarkers: ['data: [DONE]'],
  prepare: prepareCompletions,
  readBody: readCompletionsBody,
  createStreamTap: (request, options) => createOpenAIChunkTap(request, completionDeltaText, options),
  errorBody: openaiErrorBody,
};
