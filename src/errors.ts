/**
 * The one error class of pertoken. Every failure that reaches a caller is a PertokenError with a
 * code from the literal union below; HTTP renders it as OpenAI-shaped JSON, the CLI as one line.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'invalid_header'
  | 'body_too_large'
  | 'not_found'
  | 'conflict'
  | 'method_not_allowed'
  | 'unauthorized'
  | 'forbidden'
  | 'budget_exceeded'
  | 'unpriced_model'
  | 'rate_limited'
  | 'no_route'
  | 'upstream_error'
  | 'upstream_timeout'
  | 'upstream_unreachable'
  | 'store_unavailable'
  | 'counters_unavailable'
  | 'config_invalid'
  | 'unknown_model'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_header: 400,
  body_too_large: 413,
  not_found: 404,
  conflict: 409,
  method_not_allowed: 405,
  unauthorized: 401,
  forbidden: 403,
  budget_exceeded: 402,
  unpriced_model: 402,
  rate_limited: 429,
  no_route: 404,
  upstream_error: 502,
  upstream_timeout: 504,
  upstream_unreachable: 502,
  store_unavailable: 503,
  counters_unavailable: 503,
  config_invalid: 500,
  unknown_model: 400,
  internal: 500,
};

/**
 * Pertoken saying no to a caller on policy (key, scope, budget, rate limit) or because the
 * counters that enforce it are down (fail-closed): counted as refusals in metrics, recorded as
 * refused demand in the ledger, logged as refusals. Bad input is the caller's mistake, not these.
 */
export const REFUSAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'unauthorized',
  'forbidden',
  'budget_exceeded',
  'unpriced_model',
  'rate_limited',
  'counters_unavailable',
]);

/** OpenAI's error `type` vocabulary, which SDKs use to pick an exception class. */
const TYPE: Partial<Record<ErrorCode, string>> = {
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  budget_exceeded: 'insufficient_quota',
  unpriced_model: 'insufficient_quota',
  rate_limited: 'rate_limit_error',
  not_found: 'not_found_error',
  no_route: 'not_found_error',
  upstream_error: 'api_error',
  upstream_timeout: 'api_error',
  upstream_unreachable: 'api_error',
  store_unavailable: 'api_error',
  counters_unavailable: 'api_error',
  config_invalid: 'api_error',
  internal: 'api_error',
};

export interface ErrorOptions {
  /** The offending field, header or parameter, surfaced as `param` in JSON. */
  param?: string | null;
  /** Overrides the status implied by the code (e.g. an upstream's own status). */
  status?: number;
  /** Extra response headers such as `retry-after`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class PertokenError extends Error {
  override readonly name = 'PertokenError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? STATUS[code];
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  get type(): string {
    return TYPE[this.code] ?? 'invalid_request_error';
  }

  toJSON(): OpenAIErrorBody {
    return { error: { type: this.type, code: this.code, message: this.message, param: this.param } };
  }

  /** One line for the CLI: the message, naming the field when there is one. */
  toLine(): string {
    return this.param ? `error: ${this.param}: ${this.message}` : `error: ${this.message}`;
  }
}

export interface OpenAIErrorBody {
  error: { type: string; code: string; message: string; param: string | null };
}

/**
 * The one way to reject bad input: names the offending field first (`--from`, `prices[0].to`,
 * `tokens.input`), so the CLI prints "error: prices[0].to: must be after …" and HTTP puts it in
 * `param`. Configuration errors keep their own code (500 at start, not a client's 400).
 */
export function invalidInput(
  param: string,
  message: string,
  code: 'invalid_request' | 'invalid_header' | 'config_invalid' = 'invalid_request',
): PertokenError {
  return new PertokenError(code, message, { param });
}

/** Wraps anything thrown into a PertokenError without losing the original as `cause`. */
export function toPertokenError(err: unknown): PertokenError {
  if (err instanceof PertokenError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PertokenError('internal', message, { cause: err });
}
