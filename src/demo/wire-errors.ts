import type { PertokenError } from '../errors.js';
import { randomId } from './random.js';

/**
 * Error bodies exactly as each provider shapes them, so that a gateway's error handling (and the
 * SDKs' exception mapping) meet the real thing. OpenAI: `{"error":{message,type,param,code}}`;
 * Anthropic: `{"type":"error","error":{type,message},"request_id"}`.
 */
/** Which provider's conventions a route follows. */
export type Wire = 'openai' | 'anthropic';

export interface WireReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Renders a validation failure (invalid JSON, missing field, unknown path) in the wire's shape. */
export function errorReply(wire: Wire, err: PertokenError): WireReply {
  if (wire === 'anthropic') {
    const type = err.status >= 500 ? 'api_error' : (ANTHROPIC_TYPES[err.status]?.[0] ?? 'invalid_request_error');
    return anthropicError(err.status, type, err.message);
  }
  return openaiError(
    err.status,
    err.status >= 500 ? 'server_error' : 'invalid_request_error',
    err.message,
    err.param,
    null,
  );
}

/** The reply of a `status:CODE` fault: the provider's body for that status, with retry hints. */
export function statusFaultReply(wire: Wire, status: number, model: string | null): WireReply {
  const reply = wire === 'anthropic' ? anthropicStatus(status) : openaiStatus(status, model ?? 'unknown');
  if (status === 429 || status === 503 || status === 529) reply.headers['retry-after'] = '1';
  if (wire === 'openai' && status === 429) {
    reply.headers['x-ratelimit-limit-requests'] = '500';
    reply.headers['x-ratelimit-remaining-requests'] = '0';
    reply.headers['x-ratelimit-reset-requests'] = '1s';
  }
  return reply;
}

function openaiStatus(status: number, model: string): WireReply {
  switch (status) {
    case 401:
      return openaiError(status, 'invalid_request_error', 'Incorrect API key provided.', null, 'invalid_api_key');
    case 404:
      return openaiError(
        status,
        'invalid_request_error',
        `The model \`${model}\` does not exist or you do not have access to it.`,
        null,
        'model_not_found',
      );
    case 429:
      return openaiError(
        status,
        'requests',
        `Rate limit reached for ${model} in organization org-demo on requests per min (RPM): ` +
          'Limit 500, Used 500, Requested 1. Please try again in 1s.',
        null,
        'rate_limit_exceeded',
      );
    case 500:
      return openaiError(
        status,
        'server_error',
        'The server had an error while processing your request. Sorry about that!',
        null,
        null,
      );
    case 503:
      return openaiError(
        status,
        'server_error',
        'The engine is currently overloaded, please try again later.',
        null,
        null,
      );
    default:
      return openaiError(
        status,
        status >= 500 ? 'server_error' : 'invalid_request_error',
        `Demo upstream fault: HTTP ${status}.`,
        null,
        null,
      );
  }
}

const ANTHROPIC_TYPES: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'There was an issue with the format or content of your request.'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'The requested resource could not be found.'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'],
  500: ['api_error', 'Internal server error'],
  504: ['timeout_error', 'Request timed out'],
  529: ['overloaded_error', 'Overloaded'],
};

function anthropicStatus(status: number): WireReply {
  const known = ANTHROPIC_TYPES[status];
  if (known) return anthropicError(status, known[0], known[1]);
  return anthropicError(
    status,
    status >= 500 ? 'api_error' : 'invalid_request_error',
    `Demo upstream fault: HTTP ${status}.`,
  );
}

function openaiError(
  status: number,
  type: string,
  message: string,
  param: string | null,
  code: string | null,
): WireReply {
  return { status, headers: {}, body: { error: { message, type, param, code } } };
}

function anthropicError(status: number, type: string, message: string): WireReply {
  return {
    status,
    headers: {},
    body: { type: 'error', error: { type, message }, request_id: randomId('req_011C', 20) },
  };
}
