import { invalidInput } from '../errors.js';
import { buildUsage, type Usage } from '../usage/index.js';
import {
  bodyBytes,
  optionalPositiveInt,
  optionalStream,
  prepared,
  requireModel,
  requireObjectBody,
} from './request.js';
import { openaiErrorBody } from './errors.js';
import { DeferredText, streamTapResult } from './deferred-text.js';
import { hasEscapedNameChar, mentionPattern } from './raw-json.js';
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
 * Responses API usage: input_tokens INCLUDES input_tokens_details.cached_tokens; output_tokens
 * INCLUDES output_tokens_details.reasoning_tokens. Hosted web search is billed per call, and the
 * calls are the `web_search_call` items of the response output, not part of usage.
 */
export function openaiResponsesUsage(raw: unknown, webSearchCalls = 0): Usage | null {
  if (!isRecord(raw)) return null;
  const input = carve(count(raw['input_tokens']), [count(recordOrEmpty(raw['input_tokens_details'])['cached_tokens'])]);
  const output = carve(count(raw['output_tokens']), [
    count(recordOrEmpty(raw['output_tokens_details'])['reasoning_tokens']),
  ]);
  return buildUsage(
    {
      input: input.rest,
      cache_read: input.parts[0],
      output: output.rest,
      reasoning: output.parts[0],
      web_search: webSearchCalls,
    },
    { source: 'provider', raw },
  );
}

function prepareResponses(input: unknown, raw?: Buffer): PreparedRequest {
  const body = requireObjectBody(input);
  const model = requireModel(body);
  const items = body['input'];
  const hasInput = items !== undefined && items !== null;
  if (hasInput && typeof items !== 'string' && !Array.isArray(items)) {
    throw invalidInput('input', '`input` must be a string or an array of input items');
  }
  // A stored prompt template (`prompt: {id}`) may carry the whole input; otherwise input is needed.
  if (!hasInput && !isRecord(body['prompt'])) {
    throw invalidInput('input', '`input` is required: a string or an array of input items');
  }
  const stream = optionalStream(body);
  const maxOutputTokens = optionalPositiveInt(body, 'max_output_tokens');
  const text = new TextCollector();
  text.add(body['instructions']);
  let messageCount = typeof body['instructions'] === 'string' ? 1 : 0;
  if (typeof items === 'string') {
    text.add(items);
    messageCount++;
  }
  for (const item of arrayOrEmpty(items)) {
    if (isRecord(item) && collectInputItem(item, text)) messageCount++;
  }
  text.addJson(body['tools']);
  return prepared({
    body: bodyBytes(body, raw, false),
    model,
    stream,
    clientWantsUsage: false,
    maxOutputTokens,
    text,
    messageCount,
  });
}

const NON_TEXT_PARTS = new Set(['input_image', 'input_file', 'input_audio']);

/** Adds one input item's text; answers whether it was a message (for the framing overhead). */
function collectInputItem(item: JsonObject, text: TextCollector): boolean {
  const type = item['type'];
  if (type === 'function_call' || type === 'custom_tool_call') {
    text.add(item['name']);
    text.addJson(item['arguments'] ?? item['input']);
    return false;
  }
  if (type === 'function_call_output' || type === 'custom_tool_call_output') {
    collectContent(item['output'], text);
    return false;
  }
  if (type === 'message' || (type === undefined && 'role' in item)) {
    collectContent(item['content'], text);
    return true;
  }
  return false; // reasoning (encrypted), item_reference and the like carry no countable text
}

function collectContent(content: unknown, text: TextCollector): void {
  if (typeof content === 'string') text.add(content);
  for (const part of arrayOrEmpty(content)) {
    if (!isRecord(part)) continue;
    if (NON_TEXT_PARTS.has(String(part['type']))) text.nonText = true;
    else text.add(part['text'] ?? part['refusal']);
  }
}

function countWebSearchCalls(output: unknown): number {
  return arrayOrEmpty(output).filter((item) => isRecord(item) && item['type'] === 'web_search_call').length;
}

function outputTextOf(response: JsonObject): string {
  const out = new TextCollector();
  for (const item of arrayOrEmpty(response['output'])) {
    if (!isRecord(item)) continue;
    if (item['type'] === 'message') {
      for (const part of arrayOrEmpty(item['content'])) {
        if (isRecord(part)) out.add(part['text'] ?? part['refusal']);
      }
    } else if (item['type'] === 'function_call' || item['type'] === 'custom_tool_call') {
      out.add(item['name']);
      out.add(item['arguments'] ?? item['input']);
    }
  }
  return out.text();
}

/** Non-streaming bodies are Response objects; background ones (`queued`) carry no usage yet. */
function readResponsesBody(body: unknown): TapResult {
  if (!isRecord(body)) return emptyTapResult();
  const status = body['status'];
  return {
    usage: openaiResponsesUsage(body['usage'], countWebSearchCalls(body['output'])),
    servedModel: stringOrNull(body['model']),
    outputText: outputTextOf(body),
    completed: status === 'completed' || status === 'incomplete',
    streamError: status === 'failed' ? failureMessage(body) : null,
  };
}

function failureMessage(response: JsonObject): string {
  return stringOrNull(recordOrEmpty(response['error'])['message']) ?? 'response failed';
}

const TEXT_DELTAS = new Set([
  'response.output_text.delta',
  'response.refusal.delta',
  'response.function_call_arguments.delta',
  'response.custom_tool_call_input.delta',
]);
/** Other events add no text and are not kept (`response.output_text.done` repeats the whole text). */
const TEXT_DELTA = mentionPattern([...TEXT_DELTAS]);
/**
 * What an event must mention to change anything but text: a `response` object (model, usage,
 * terminal status), an `error` event, or an output item (a function call's name, a web search).
 */
const STATE_MARKER = mentionPattern(['response', 'error', 'response.output_item.added', 'response.output_item.done']);

function deltaText(event: unknown): string {
  if (!isRecord(event)) return '';
  const type = event['type'];
  const delta = event['delta'];
  return typeof type === 'string' && TEXT_DELTAS.has(type) && typeof delta === 'string' ? delta : '';
}

/**
 * Responses streams are typed events; usage arrives only in the terminal one
 * (`response.completed`, `response.incomplete` or `response.failed`) as `response.usage`.
 * Nothing is hidden from the client.
 *
 * The text deltas, most of a stream, are kept unparsed for the output text (only read to estimate
 * usage): a raw search of their data shows they mention none of STATE_MARKER. The rest is parsed.
 */
function createResponsesTap(_request: PreparedRequest, options?: StreamTapOptions): StreamTap {
  let usageRaw: unknown = null;
  let servedModel: string | null = null;
  let completed = false;
  let streamError: string | null = null;
  let webSearchCalls = 0;
  const outputText = new DeferredText((data) => deltaText(parseJsonData(data)));

  const onEvent = (data: string): EventVerdict => {
    if (!STATE_MARKER.test(data) && !hasEscapedNameChar(data)) {
      if (TEXT_DELTA.test(data)) outputText.defer(data);
      return 'forward';
    }
    const event = parseJsonData(data);
    if (!isRecord(event)) return 'forward';
    const type = event['type'];
    if (typeof type === 'string' && TEXT_DELTAS.has(type) && typeof event['delta'] === 'string') {
      outputText.append(event['delta']);
      return 'forward';
    }
    if (type === 'error') {
      streamError = stringOrNull(event['message']) ?? stringOrNull(event['code']) ?? 'upstream stream error';
      return 'forward';
    }
    const item = recordOrEmpty(event['item']);
    if (type === 'response.output_item.added' && item['type'] === 'function_call' && typeof item['name'] === 'string') {
      outputText.append(item['name']); // the arguments follow as deltas
    }
    if (type === 'response.output_item.done' && item['type'] === 'web_search_call') webSearchCalls++;
    const response = event['response'];
    if (!isRecord(response)) return 'forward';
    servedModel = stringOrNull(response['model']) ?? servedModel;
    if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
      if (isRecord(response['usage'])) usageRaw = response['usage'];
      if (Array.isArray(response['output'])) webSearchCalls = countWebSearchCalls(response['output']);
      if (type === 'response.failed') streamError = failureMessage(response);
      else completed = true;
    }
    return 'forward';
  };

  return createSseTap(
    {
      onEvent: (event) => onEvent(event.data),
      result: () => {
        const text = outputText.snapshot();
        return streamTapResult(
          { usage: openaiResponsesUsage(usageRaw, webSearchCalls), servedModel, completed, streamError },
          text,
        );
      },
    },
    options,
  );
}

export const openaiResponsesAdapter: ProviderAdapter = {
  route: 'openai.responses',
  wire: 'openai',
  clientPath: '/v1/responses',
  upstreamPath: '/responses',
  metered: true,
  scope: 'responses',
  terminalMarkers: ['"type":"response.completed"', '"type":"response.incomplete"', '"type":"response.failed"'],
  prepare: prepareResponses,
  readBody: readResponsesBody,
  createStreamTap: createResponsesTap,
  errorBody: openaiErrorBody,
};
