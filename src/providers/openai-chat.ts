import { invalidInput } from '../errors.js';
import { buildUsage, type Usage } from '../usage/index.js';
import {
  bodyBytes,
  optionalPositiveInt,
  optionalStream,
  prepared,
  requireMessages,
  requireModel,
  requireObjectBody,
} from './request.js';
import { openaiErrorBody } from './errors.js';
import { DeferredText, streamTapResult } from './deferred-text.js';
import { hasEscapedNameChar, keyIsAbsentOrString, nonNullKeyPattern } from './raw-json.js';
import { createSseTap, emptyTapResult, parseJsonData, type EventVerdict } from './sse.js';
import {
  arrayOrEmpty,
  carve,
  count,
  isRecord,
  recordOrEmpty,
  stringOrNull,
  TextCollector,
  type JsonObject,
} from './shape.js';
import type { PreparedRequest, ProviderAdapter, StreamTap, StreamTapOptions, TapResult } from './types.js';

/**
 * OpenAI usage (chat and legacy completions) into exclusive buckets. prompt_tokens INCLUDES
 * cached_tokens and audio_tokens; completion_tokens INCLUDES reasoning_tokens, audio_tokens and
 * accepted/rejected prediction tokens (rejected ones are billed as output, so they stay in
 * `output`). Chat reports no image-token split: image tokens stay in `input`, at the text rate.
 */
export function openaiChatUsage(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  const promptDetails = recordOrEmpty(raw['prompt_tokens_details']);
  const completionDetails = recordOrEmpty(raw['completion_tokens_details']);
  const prompt = carve(count(raw['prompt_tokens']), [
    count(promptDetails['cached_tokens']),
    count(promptDetails['audio_tokens']),
  ]);
  const completion = carve(count(raw['completion_tokens']), [
    count(completionDetails['reasoning_tokens']),
    count(completionDetails['audio_tokens']),
  ]);
  return buildUsage(
    {
      input: prompt.rest,
      cache_read: prompt.parts[0],
      input_audio: prompt.parts[1],
      output: completion.rest,
      reasoning: completion.parts[0],
      output_audio: completion.parts[1],
    },
    { source: 'provider', raw },
  );
}

/**
 * Streams only carry usage when `stream_options.include_usage` is set: set it, remembering whether
 * the client asked, so the tap can hide the extra chunk from a client that did not.
 */
export function withIncludeUsage(
  body: JsonObject,
  stream: boolean,
): {
  body: JsonObject;
  changed: boolean;
  clientWantsUsage: boolean;
} {
  if (!stream) return { body, changed: false, clientWantsUsage: false };
  const options = body['stream_options'];
  if (options !== undefined && options !== null && !isRecord(options)) {
    throw invalidInput('stream_options', '`stream_options` must be an object');
  }
  if (isRecord(options) && options['include_usage'] === true) {
    return { body, changed: false, clientWantsUsage: true };
  }
  const rewritten = { ...body, stream_options: { ...(options ?? {}), include_usage: true } };
  return { body: rewritten, changed: true, clientWantsUsage: false };
}

function prepareChat(input: unknown, raw?: Buffer): PreparedRequest {
  const body = requireObjectBody(input);
  const model = requireModel(body);
  const messages = requireMessages(body);
  const stream = optionalStream(body);
  const maxTokens = optionalPositiveInt(body, 'max_tokens');
  const maxCompletionTokens = optionalPositiveInt(body, 'max_completion_tokens');
  const rewrite = withIncludeUsage(body, stream);
  return prepared({
    body: bodyBytes(rewrite.body, raw, rewrite.changed),
    model,
    stream,
    clientWantsUsage: rewrite.clientWantsUsage,
    maxOutputTokens: maxCompletionTokens ?? maxTokens,
    text: chatPromptText(body, messages),
    messageCount: messages.length,
  });
}

const NON_TEXT_PARTS = new Set(['image_url', 'input_audio', 'file']);

function chatPromptText(body: JsonObject, messages: JsonObject[]): TextCollector {
  const text = new TextCollector();
  for (const message of messages) {
    const content = message['content'];
    if (typeof content === 'string') text.add(content);
    for (const part of arrayOrEmpty(content)) {
      if (!isRecord(part)) continue;
      if (NON_TEXT_PARTS.has(String(part['type']))) text.nonText = true;
      else text.add(part['text'] ?? part['refusal']);
    }
    if (message['audio'] !== undefined && message['audio'] !== null) text.nonText = true;
    for (const call of arrayOrEmpty(message['tool_calls'])) {
      const fn = recordOrEmpty(recordOrEmpty(call)['function']);
      text.add(fn['name']);
      text.addJson(fn['arguments']);
    }
    const legacyCall = recordOrEmpty(message['function_call']);
    text.add(legacyCall['name']);
    text.addJson(legacyCall['arguments']);
  }
  text.addJson(body['tools']);
  text.addJson(body['functions']);
  return text;
}

function readChatBody(body: unknown): TapResult {
  if (!isRecord(body)) return emptyTapResult();
  const out = new TextCollector();
  for (const choice of arrayOrEmpty(body['choices'])) {
    const message = recordOrEmpty(recordOrEmpty(choice)['message']);
    out.add(message['content']);
    out.add(message['refusal']);
    out.add(recordOrEmpty(message['audio'])['transcript']);
    for (const call of arrayOrEmpty(message['tool_calls'])) {
      const fn = recordOrEmpty(recordOrEmpty(call)['function']);
      out.add(fn['name']);
      out.add(fn['arguments']);
    }
  }
  return {
    usage: openaiChatUsage(body['usage']),
    servedModel: stringOrNull(body['model']),
    outputText: out.text(),
    completed: true,
    streamError: null,
  };
}

/** Text a chat chunk's choice adds: content, refusal, audio transcript and tool-call pieces. */
function chatDeltaText(choice: JsonObject): string {
  const delta = recordOrEmpty(choice['delta']);
  let text = '';
  for (const value of [delta['content'], delta['refusal'], recordOrEmpty(delta['audio'])['transcript']]) {
    if (typeof value === 'string') text += value;
  }
  for (const call of arrayOrEmpty(delta['tool_calls'])) {
    const fn = recordOrEmpty(recordOrEmpty(call)['function']);
    if (typeof fn['name'] === 'string') text += fn['name'];
    if (typeof fn['arguments'] === 'string') text += fn['arguments'];
  }
  return text;
}

/** A chunk that may carry usage or an error: OpenAI sends `"usage":null` on every chunk. */
const USAGE_OR_ERROR = nonNullKeyPattern(['usage', 'error']);

/**
 * Tap for OpenAI chunk streams (chat and legacy completions): `data: {chunk}` events ending with
 * `data: [DONE]`. Usage is the latest non-null `usage` seen (the include_usage chunk, or any
 * compatible server that reports it on every chunk). The include_usage chunk (`choices: []` with
 * usage) is dropped when the client did not ask for it.
 *
 * Only chunks that can change usage, model or error are parsed as they pass: one with a non-null
 * `usage` or an `error` key, or a `model` other than the one already known (the first chunk).
 * Content chunks are kept unparsed for the output text, which is only read to estimate usage.
 */
export function createOpenAIChunkTap(
  request: PreparedRequest,
  deltaText: (choice: JsonObject) => string,
  options?: StreamTapOptions,
): StreamTap {
  let usageRaw: unknown = null;
  let servedModel: string | null = null;
  let completed = false;
  let streamError: string | null = null;

  const textOfChunk = (chunk: unknown): string => {
    if (!isRecord(chunk)) return '';
    let text = '';
    for (const choice of arrayOrEmpty(chunk['choices'])) if (isRecord(choice)) text += deltaText(choice);
    return text;
  };
  const outputText = new DeferredText((data) => textOfChunk(parseJsonData(data)));

  /** True when the chunk cannot change usage, model or error: only its text matters. */
  const onlyText = (data: string): boolean =>
    !USAGE_OR_ERROR.test(data) && keyIsAbsentOrString(data, 'model', servedModel) && !hasEscapedNameChar(data);

  const onEvent = (data: string): EventVerdict => {
    // A JSON chunk starts with `{`: only other data can be the [DONE] sentinel (trim allocates).
    if (data.charCodeAt(0) !== 0x7b && data.trim() === '[DONE]') {
      completed = true;
      return 'forward';
    }
    if (onlyText(data)) {
      outputText.defer(data);
      return 'forward';
    }
    const chunk = parseJsonData(data);
    if (!isRecord(chunk)) return 'forward';
    servedModel = stringOrNull(chunk['model']) ?? servedModel;
    if (isRecord(chunk['error'])) {
      streamError = stringOrNull(chunk['error']['message']) ?? 'upstream stream error';
    }
    outputText.append(textOfChunk(chunk));
    if (isRecord(chunk['usage'])) {
      usageRaw = chunk['usage'];
      if (arrayOrEmpty(chunk['choices']).length === 0 && !request.clientWantsUsage) return 'drop';
    }
    return 'forward';
  };

  return createSseTap(
    {
      onEvent: (event) => onEvent(event.data),
      result: () => {
        const text = outputText.snapshot();
        return streamTapResult({ usage: openaiChatUsage(usageRaw), servedModel, completed, streamError }, text);
      },
    },
    options,
  );
}

export const openaiChatAdapter: ProviderAdapter = {
  route: 'openai.chat',
  wire: 'openai',
  clientPath: '/v1/chat/completions',
  upstreamPath: '/chat/completions',
  metered: true,
  scope: 'chat',
  terminalMarkers: ['data: [DONE]'],
  prepare: prepareChat,
  readBody: readChatBody,
  createStreamTap: (request, options) => createOpenAIChunkTap(request, chatDeltaText, options),
  errorBody: openaiErrorBody,
};
