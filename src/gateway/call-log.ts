import type { Logger } from 'pino';
import { REFUSAL_CODES, type PertokenError } from '../errors.js';
import { ContextKey } from '../http/index.js';
import type { ErrorBodyRenderer } from '../providers/index.js';

/**
 * One gateway call as its log line sees it, filled in as the call learns who sent it, which
 * model it asked for and which upstream it went to. The line names those and the outcome; it
 * never holds a payload (prompt, completion, upstream error body) nor a secret (key, header).
 */
export class GatewayCall {
  readonly startedAt = performance.now();
  tenant: string | null = null;
  keyId: string | null = null;
  model: string | null = null;
  upstream: string | null = null;

  constructor(
    readonly id: string,
    /** Route id (`openai.chat`) or, for routes without an adapter, a name such as `models`. */
    readonly route: string,
    /** Renders pertoken's own errors on this route (the wire's shape: providers/errors.ts). */
    public errorBody: ErrorBodyRenderer,
  ) {}
}

/** The call of the request being served, set by the gateway's route wrapper (routes.ts). */
export const GATEWAY_CALL = new ContextKey<GatewayCall>('gateway call');

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface FailureFacts {
  /** HTTP status the client got (or the upstream's, relayed); null when none was sent. */
  status: number | null;
  /** pertoken's error code, or what happened (`upstream_status`, `stream_cut`, `client_closed`). */
  code: string;
  /** A short sentence of pertoken's own; never text taken from a request or response body. */
  reason?: string;
}

/** A transport failure or timeout pertoken answers (502, 504), with what it adds (`not sent, not billed`). */
export function failureFacts(error: PertokenError, note = ''): FailureFacts {
  return { status: error.status, code: error.code, reason: note ? `${error.message} (${note})` : error.message };
}

/** An upstream's own error status, relayed as it is (its body, a payload, is not logged). */
export function upstreamStatusFacts(status: number): FailureFacts {
  return { status, code: 'upstream_status', reason: `the upstream answered ${status}` };
}

/** A provider error inside a successful answer (Anthropic `error` event, a failed response). */
export function errorEventFacts(status: number): FailureFacts {
  return { status, code: 'upstream_error_event', reason: 'the upstream reported an error inside its answer' };
}

export const CLIENT_CLOSED: FailureFacts = Object.freeze({
  status: null,
  code: 'client_closed',
  reason: 'the client went away before the answer ended',
});

/** Writes the one structured line of a failed, refused or cut call. */
export function logCall(log: Logger, call: GatewayCall, level: LogLevel, message: string, facts: FailureFacts): void {
  if (!log.isLevelEnabled(level)) return;
  log[level](
    {
      request_id: call.id,
      route: call.route,
      tenant: call.tenant,
      key_id: call.keyId,
      model: call.model,
      upstream: call.upstream,
      status: facts.status,
      code: facts.code,
      ...(facts.reason === undefined ? {} : { reason: facts.reason }),
      latency_ms: Math.round(performance.now() - call.startedAt),
    },
    message,
  );
}

/**
 * The line of an error thrown out of a gateway handler, by what it is:
 * - a policy refusal (401, 402, 403, 429) is pertoken working as configured: `info`, so that an
 *   unauthenticated flood does not read as an incident, yet every refusal is on record;
 * - fail-closed counters (503) are an outage of ours: `warn`;
 * - an upstream failure: `warn`; any other 5xx of ours: `error`, with the error for its stack;
 * - bad input (400, 404, 413, …) is the caller's mistake: `debug`, code only (parser messages
 *   can quote the body).
 */
export function logThrown(log: Logger, call: GatewayCall, error: PertokenError): void {
  const facts = { status: error.status, code: error.code };
  if (REFUSAL_CODES.has(error.code)) {
    const level = error.code === 'counters_unavailable' ? 'warn' : 'info';
    logCall(log, call, level, 'request refused', { ...facts, reason: error.message });
  } else if (error.code.startsWith('upstream_')) {
    logCall(log, call, 'warn', 'upstream failed', { ...facts, reason: error.message });
  } else if (error.status >= 500) {
    if (log.isLevelEnabled('error')) log.error({ err: error, request_id: call.id, route: call.route }, error.message);
  } else {
    logCall(log, call, 'debug', 'request rejected', facts);
  }
}
