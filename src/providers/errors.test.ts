import { describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { anthropicErrorBody, ERROR_BODIES, openaiErrorBody } from './errors.js';
import { ADAPTERS } from './index.js';

describe('error bodies per wire', () => {
  it.each([
    ['invalid_request', 400, 'invalid_request_error'],
    ['unauthorized', 401, 'authentication_error'],
    ['budget_exceeded', 402, 'billing_error'],
    ['forbidden', 403, 'permission_error'],
    ['not_found', 404, 'not_found_error'],
    ['method_not_allowed', 405, 'invalid_request_error'],
    ['body_too_large', 413, 'request_too_large'],
    ['rate_limited', 429, 'rate_limit_error'],
    ['internal', 500, 'api_error'],
    ['upstream_unreachable', 502, 'api_error'],
    ['counters_unavailable', 503, 'overloaded_error'],
    ['upstream_timeout', 504, 'timeout_error'],
  ] as const)('Anthropic: %s (%i) is %s', (code, status, type) => {
    const error = new PertokenError(code, 'no');
    expect(error.status).toBe(status);
    expect(anthropicErrorBody(error)).toEqual({ type: 'error', error: { type, message: 'no' } });
  });

  it('Anthropic: an upstream 529 relayed as our error is overloaded; the field leads the message once', () => {
    expect(anthropicErrorBody(new PertokenError('upstream_error', 'busy', { status: 529 })).error.type).toBe(
      'overloaded_error',
    );
    const named = new PertokenError('invalid_request', 'must be a boolean', { param: 'stream' });
    expect(anthropicErrorBody(named).error.message).toBe('stream: must be a boolean');
    const already = new PertokenError('invalid_request', 'stream: must be a boolean', { param: 'stream' });
    expect(anthropicErrorBody(already).error.message).toBe('stream: must be a boolean');
  });

  it('OpenAI keeps its shape, with our code and param', () => {
    const error = new PertokenError('rate_limited', 'slow down', { param: null });
    expect(openaiErrorBody(error)).toEqual({
      error: { type: 'rate_limit_error', code: 'rate_limited', message: 'slow down', param: null },
    });
  });

  it('every adapter renders with its own wire', () => {
    for (const adapter of Object.values(ADAPTERS)) expect(adapter.errorBody).toBe(ERROR_BODIES[adapter.wire]);
  });
});
