import { invalidInput } from '../errors.js';
import { buildUsage, type Usage } from '../usage/index.js';
import { openaiErrorBody } from './errors.js';
import { promptText } from './openai-completions.js';
import { bodyBytes, prepared, requireModel, requireObjectBody } from './request.js';
import { createPassthroughTap, emptyTapResult } from './sse.js';
import { count, isRecord, stringOrNull, TextCollector } from './shape.js';
import type { PreparedRequest, ProviderAdapter, TapResult } from './types.js';

/**
 * /embeddings: never streams. usage is `{prompt_tokens, total_tokens}` with the two equal; all of
 * it is input. total_tokens stands in when prompt_tokens is missing (some compatible servers).
 */
export function openaiEmbeddingsUsage(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  const input = raw['prompt_tokens'] !== undefined ? count(raw['prompt_tokens']) : count(raw['total_tokens']);
  return buildUsage({ input }, { source: 'provider', raw });
}

function prepareEmbeddings(input: unknown, raw?: Buffer): PreparedRequest {
  const body = requireObjectBody(input);
  const model = requireModel(body);
  if (body['input'] === undefined || body['input'] === null) {
    throw invalidInput('input', '`input` is required: a string or an array');
  }
  const text = new TextCollector();
  const pretokenized = promptText(body['input'], text, 'input');
  return prepared({
    body: bodyBytes(body, raw, false),
    model,
    stream: false,
    clientWantsUsage: false,
    maxOutputTokens: null,
    text,
    pretokenizedInputTokens: pretokenized,
  });
}

function readEmbeddingsBody(body: unknown): TapResult {
  if (!isRecord(body)) return emptyTapResult();
  return {
    usage: openaiEmbeddingsUsage(body['usage']),
    servedModel: stringOrNull(body['model']),
    outputText: '',
    completed: true,
    streamError: null,
  };
}

export const openaiEmbeddingsAdapter: ProviderAdapter = {
  route: 'openai.embeddings',
  wire: 'openai',
  clientPath: '/v1/embeddings',
  upstreamPath: '/embeddings',
  metered: true,
  scope: 'embeddings',
  terminalMarkers: null,
  prepare: prepareEmbeddings,
  readBody: readEmbeddingsBody,
  createStreamTap: () => createPassthroughTap(),
  errorBody: openaiErrorBody,
};
