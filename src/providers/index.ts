import { PertokenError } from '../errors.js';
import { anthropicCountTokensAdapter, anthropicMessagesAdapter } from './anthropic-messages.js';
import { openaiChatAdapter } from './openai-chat.js';
import { openaiCompletionsAdapter } from './openai-completions.js';
import { openaiEmbeddingsAdapter } from './openai-embeddings.js';
import { openaiResponsesAdapter } from './openai-responses.js';
import type { ProviderAdapter, RouteId } from './types.js';

export type * from './types.js';
export {
  anthropicCountTokensAdapter,
  anthropicMessagesAdapter,
  anthropicUsage,
  INCOMPLETE_STREAM_ISSUE,
} from './anthropic-messages.js';
export { anthropicErrorBody, anthropicErrorType, ERROR_BODIES, openaiErrorBody } from './errors.js';
export { openaiChatAdapter, openaiChatUsage } from './openai-chat.js';
export { openaiCompletionsAdapter } from './openai-completions.js';
export { openaiEmbeddingsAdapter, openaiEmbeddingsUsage } from './openai-embeddings.js';
export { openaiResponsesAdapter, openaiResponsesUsage } from './openai-responses.js';
export {
  OPENAI_MEDIA,
  openaiImagesUsage,
  openaiSpeechUsage,
  openaiTranscriptionUsage,
  type MediaMeter,
  type MediaReading,
  type MediaRequest,
  type MediaUnit,
} from './openai-media.js';
export {
  PASSTHROUGH_ROUTES,
  passthroughPath,
  passthroughWire,
  type ControlRoute,
  type MeteredRoute,
  type PassthroughRoute,
} from './passthrough.js';
export {
  createPassthroughTap,
  createSseTap,
  DEFAULT_MAX_EVENT_BYTES,
  emptyTapResult,
  SseReader,
  type EventVerdict,
  type SseBlock,
  type SseEvent,
  type SseEventHandler,
} from './sse.js';

export const ADAPTERS: Readonly<Record<RouteId, ProviderAdapter>> = Object.freeze({
  'openai.chat': openaiChatAdapter,
  'openai.responses': openaiResponsesAdapter,
  'openai.embeddings': openaiEmbeddingsAdapter,
  'openai.completions': openaiCompletionsAdapter,
  'anthropic.messages': anthropicMessagesAdapter,
  'anthropic.count_tokens': anthropicCountTokensAdapter,
});

export const ROUTE_IDS: readonly RouteId[] = Object.keys(ADAPTERS) as RouteId[];

export function adapterFor(route: RouteId): ProviderAdapter {
  const adapter = ADAPTERS[route] as ProviderAdapter | undefined;
  if (adapter === undefined) throw new PertokenError('internal', `no adapter for route ${String(route)}`);
  return adapter;
}
