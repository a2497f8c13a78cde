import type { PertokenError } from '../errors.js';
import type { ErrorBodyRenderer, WireKind } from './types.js';

/**
 * The body of an error pertoken itself answers on a wire, in that wire's own shape, so the
 * official SDK of the wire raises its usual error class and finds its usual fields. Errors an
 * upstream answered are relayed as they are; these are only for the ones pertoken generates
 * (auth, scope, budget, rate limit, bad input, unreachable or timed-out upstream).
 */

/** OpenAI's shape: `{"error":{"type","code","message","param"}}` (errors.ts keeps the vocabulary). */
export const openaiErrorBody: ErrorBodyRenderer = (error) => error.toJSON();

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

/**
 * Anthropic's shape: `{"type":"error","error":{"type","message"}}`, typed by HTTP status as
 * Anthropic documents its errors. Anthropic has no `param`: like its own validation messages
 * (`messages.0.content: Field required`), the offending field leads the message.
 */
export const anthropicErrorBody = (error: PertokenError): AnthropicErrorBody => {
  const message =
    error.param && !error.message.startsWith(`${error.param}:`) ? `${error.param}: ${error.message}` : error.message;
  return { type: 'error', error: { type: anthropicErrorType(error.status), message } };
};

/** https://docs.anthropic.com/en/api/errors — the status decides, as it does for the SDK's classes. */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** The renderer of each wire, for routes that are not an adapter's (the model listing). */
export const ERROR_BODIES: Readonly<Record<WireKind, ErrorBodyRenderer>> = Object.freeze({
  openai: openaiErrorBody,
  anthropic: anthropicErrorBody,
});
