import { buildUsage, countTokens, type Buckets, type Usage } from '../usage/index.js';
import {
  bodyBytes,
  optionalPositiveInt,
  optionalStream,
  prepared,
  requireMessages,
  requireModel,
  requireObjectBody,
} from './request.js';
import { anthropicErrorBody } from './errors.js';
import { DeferredText, streamTapResult } from './deferred-text.js';
import { hasEscapedNameChar, mentionPattern } from './raw-json.js';
import { createPassthroughTap, createSseTap, emptyTapResult, parseJsonData, type EventVerdict } from './sse.js';
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
 * Anthropic usage into exclusive buckets. input_tokens EXCLUDES cache_read_input_tokens and
 * cache_creation_input_tokens (all three are disjoint and add up to the prompt). Cache writes are
 * split by TTL in `cache_creation` (ephemeral_5m/1h); without that object every write is 5m, the
 * default TTL. output_tokens INCLUDES thinking: when the API adds
 * `output_tokens_details.thinking_tokens` that part moves to `reasoning` (billed at the output rate,
 * so cost is unchanged); without it thinking stays in `output`, because it cannot be told apart.
 * server_tool_use.web_search_requests are billed per call.
 */
export function anthropicUsage(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  return buildUsage(anthropicBuckets(raw), { source: 'provider', raw });
}

function anthropicBuckets(raw: JsonObject): Buckets {
  const creation = count(raw['cache_creation_input_tokens']);
  const split = raw['cache_creation'];
  // The 1h figure is taken as reported (capped at the total); the rest of the writes are 5m.
  const writes = carve(creation, [isRecord(split) ? count(split['ephemeral_1h_input_tokens']) : 0]);
  const output = carve(count(raw['output_tokens']), [
    count(recordOrEmpty(raw['output_tokens_details'])['thinking_tokens']),
  ]);
  return {
    input: count(raw['input_tokens']),
    cache_read: count(raw['cache_read_input_tokens']),
    cache_write_5m: writes.rest,
    cache_write_1h: writes.parts[0],
    output: output.rest,
    reasoning: output.parts[0],
    web_search: count(recordOrEmpty(raw['server_tool_use'])['web_search_requests']),
  };
}

function prepareMessages(input: unknown, raw?: Buffer): PreparedRequest {
  const body = requireObjectBody(input);
  const model = requireModel(body);
  const messages = requireMessages(body);
  const stream = optionalStream(body);
  const maxTokens = optionalPositiveInt(body, 'max_tokens');
  const text = new TextCollector();
  const system = body['system'];
  collectBlocks(system, text);
  for (const message of messages) collectBlocks(message['content'], text);
  text.addJson(body['tools']);
  const hasSystem = typeof system === 'string' ? system.length > 0 : arrayOrEmpty(system).length > 0;
  return prepared({
    body: bodyBytes(body, raw, false),
    model,
    stream,
    clientWantsUsage: false,
    maxOutputTokens: maxTokens,
    text,
    messageCount: messages.length + (hasSystem ? 1 : 0),
  });
}

/**
 * Text of a content value (string or blocks). Thinking blocks of earlier turns are skipped: the API
 * strips them from the context, so they are not input tokens.
 */
function collectBlocks(content: unknown, text: TextCollector): void {
  if (typeof content === 'string') {
    text.add(content);
    return;
  }
  for (const block of arrayOrEmpty(content)) {
    if (!isRecord(block)) continue;
    switch (block['type']) {
      case 'text':
        text.add(block['text']);
        break;
      case 'image':
      case 'container_upload':
        text.nonText = true;
        break;
      case 'document':
        collectDocument(recordOrEmpty(block['source']), text);
        break;
      case 'tool_use':
      case 'server_tool_use':
        text.add(block['name']);
        text.addJson(block['input']);
        break;
      case 'tool_result':
      case 'search_result':
        collectBlocks(block['content'], text);
        break;
      default:
        break;
    }
  }
}

function collectDocument(source: JsonObject, text: TextCollector): void {
  if (source['type'] === 'text') text.add(source['data']);
  else if (source['type'] === 'content') collectBlocks(source['content'], text);
  else text.nonText = true; // base64/url PDFs: pages are also billed as images
}

function readMessagesBody(body: unknown): TapResult {
  if (!isRecord(body)) return emptyTapResult();
  const out = new TextCollector();
  for (const block of arrayOrEmpty(body['content'])) {
    if (!isRecord(block)) continue;
    out.add(block['text'] ?? block['thinking']);
    if (block['type'] === 'tool_use' || block['type'] === 'server_tool_use') {
      out.add(block['name']);
      out.addJson(block['input']);
    }
  }
  return {
    usage: anthropicUsage(body['usage']),
    servedModel: stringOrNull(body['model']),
    outputText: out.text(),
    completed: true,
    streamError: null,
  };
}

export const INCOMPLETE_STREAM_ISSUE =
  'stream ended before the final message_delta: output tokens estimated from the streamed text';

/** The event types that change usage, model, completion or error: these are parsed as they pass. */
const STATE_EVENT = mentionPattern(['message_start', 'message_delta', 'message_stop', 'error']);

/**
 * Anthropic streams: `message_start` carries message.usage (input side and an initial output
 * count); each `message_delta` carries CUMULATIVE usage, so the latest value of each field wins and
 * nothing is summed. An `error` event can arrive inside a 200 stream; `message_stop` ends it.
 *
 * Only those four are parsed as they pass. The rest is told apart by a raw search of the data (not
 * by the SSE `event:` name: the JSON `type` is what counts): content block events are kept
 * unparsed for the output text, which is only read to estimate usage; anything else adds nothing.
 */
function createMessagesTap(request: PreparedRequest, options?: StreamTapOptions): StreamTap {
  let merged: JsonObject | null = null;
  let finalUsageSeen = false;
  let servedModel: string | null = null;
  let completed = false;
  let streamError: string | null = null;
  const outputText = new DeferredText((data) => blockText(parseJsonData(data)));

  const mergeUsage = (usage: unknown): void => {
    if (!isRecord(usage)) return;
    merged ??= {};
    for (const [field, value] of Object.entries(usage)) {
      if (value !== null && value !== undefined) merged[field] = value;
    }
  };

  const onEvent = (data: string): EventVerdict => {
    if (!STATE_EVENT.test(data) && !hasEscapedNameChar(data)) {
      outputText.defer(data); // content blocks; a ping or block stop just adds no text
      return 'forward';
    }
    const event = parseJsonData(data);
    if (!isRecord(event)) return 'forward';
    switch (event['type']) {
      case 'message_start': {
        const message = recordOrEmpty(event['message']);
        servedModel = stringOrNull(message['model']) ?? servedModel;
        mergeUsage(message['usage']);
        break;
      }
      case 'content_block_start':
      case 'content_block_delta':
        outputText.append(blockText(event));
        break;
      case 'message_delta':
        if (isRecord(event['usage'])) {
          mergeUsage(event['usage']);
          finalUsageSeen = true;
        }
        break;
      case 'message_stop':
        completed = true;
        break;
      case 'error': {
        const error = recordOrEmpty(event['error']);
        const kind = stringOrNull(error['type']);
        const message = stringOrNull(error['message']) ?? 'upstream stream error';
        streamError = kind ? `${kind}: ${message}` : message;
        break;
      }
      default:
        break;
    }
    return 'forward';
  };

  const usage = (text: () => string): Usage | null => {
    if (merged === null) return null;
    if (finalUsageSeen) return anthropicUsage(merged);
    // Only message_start arrived: its input side is exact, its output count is a placeholder.
    // Keep the exact input and estimate the output from what was streamed.
    const buckets = anthropicBuckets(merged);
    const streamed = countTokens(text(), servedModel ?? request.model);
    buckets.output = Math.max(streamed, (buckets.output ?? 0) + (buckets.reasoning ?? 0));
    buckets.reasoning = 0;
    return buildUsage(buckets, { source: 'estimated', raw: merged, issues: [INCOMPLETE_STREAM_ISSUE] });
  };

  return createSseTap(
    {
      onEvent: (event) => onEvent(event.data),
      result: () => {
        const text = outputText.snapshot();
        return streamTapResult({ usage: usage(text), servedModel, completed, streamError }, text);
      },
    },
    options,
  );
}

/** Text a content block event adds: a tool call's name (its input follows as partial_json), or a delta. */
function blockText(event: unknown): string {
  if (!isRecord(event)) return '';
  if (event['type'] === 'content_block_start') {
    const block = recordOrEmpty(event['content_block']);
    if (block['type'] === 'tool_use' || block['type'] === 'server_tool_use') {
      return typeof block['name'] === 'string' ? block['name'] : '';
    }
    return '';
  }
  if (event['type'] === 'content_block_delta') {
    const delta = recordOrEmpty(event['delta']);
    const piece = delta['text'] ?? delta['thinking'] ?? delta['partial_json'];
    return typeof piece === 'string' ? piece : '';
  }
  return '';
}

export const anthropicMessagesAdapter: ProviderAdapter = {
  route: 'anthropic.messages',
  wire: 'anthropic',
  clientPath: '/v1/messages',
  upstreamPath: '/v1/messages',
  metered: true,
  scope: 'messages',
  terminalMarkers: ['event: message_stop', '"type":"message_stop"'],
  prepare: prepareMessages,
  readBody: readMessagesBody,
  createStreamTap: createMessagesTap,
  errorBody: anthropicErrorBody,
};

/** /v1/messages/count_tokens answers `{input_tokens}` for free: validated like messages, not metered. */
export const anthropicCountTokensAdapter: ProviderAdapter = {
  route: 'anthropic.count_tokens',
  wire: 'anthropic',
  clientPath: '/v1/messages/count_tokens',
  upstreamPath: '/v1/messages/count_tokens',
  metered: false,
  scope: 'messages',
  terminalMarkers: null,
  prepare: (input, raw) => ({ ...prepareMessages(input, raw), stream: false }),
  readBody: (body) => ({ ...emptyTapResult(), completed: isRecord(body) }),
  createStreamTap: () => createPassthroughTap(),
  errorBody: anthropicErrorBody,
};
