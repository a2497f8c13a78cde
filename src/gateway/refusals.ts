import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { REFUSAL_CODES, type PertokenError } from '../errors.js';
import type { Attribution, UsageEvent } from '../ledger/index.js';
import type { PreparedRequest, ProviderAdapter } from '../providers/index.js';
import type { GatewayCall } from './call-log.js';
import { clientAddress } from './fingerprint.js';

/** Where a refused call would have gone: the first step of its routing plan. */
export interface RefusedTarget {
  upstream: string;
  provider: string;
}

export interface RefusalContext {
  call: GatewayCall;
  adapter: ProviderAdapter;
  prepared: PreparedRequest;
  attribution: Attribution;
  target: RefusedTarget;
  req: IncomingMessage;
}

/**
 * Refused demand is recorded: a metered call that governance refused (budget 402, scope or
 * model 403, rate limit 429, fail-closed counters 503) for a caller it could attribute becomes an
 * event of status `refused`, so reports show who was turned away and for what. A 401 never gets
 * here — it has no tenant to attribute, and an unauthenticated flood must not write to the ledger.
 *
 * The event is a known zero (cost 0, not unpriced; no tokens, nothing went upstream) with the
 * refusal's code and message in usage_issues. It carries the client address (a key refused from a
 * new address is still that key used from there) but no request fingerprint: a client retrying
 * after a 429 is what SDKs do, not a request loop.
 */
export function refusedEvent(context: RefusalContext, error: PertokenError): UsageEvent | null {
  if (!context.adapter.metered || !REFUSAL_CODES.has(error.code) || error.code === 'unauthorized') return null;
  const a = context.attribution;
  const model = context.prepared.model;
  return {
    tenant: a.tenant,
    project: a.project,
    user: a.user,
    feature: a.feature,
    key_id: a.key_id,
    trace_id: a.trace_id,
    tags: a.tags,
    id: context.call.id,
    // When it was refused: the refusal is the whole call.
    time: new Date(),
    origin: 'gateway',
    source: context.target.upstream,
    provider: context.target.provider,
    requested_model: model,
    // Nothing served it: the served model is unknown, hence the requested one (ledger/types.ts).
    model,
    route: context.adapter.route,
    status: 'refused',
    http_status: error.status,
    streamed: context.prepared.stream,
    latency_ms: Math.round(performance.now() - context.call.startedAt),
    ttft_ms: null,
    buckets: {},
    usage_source: 'provider',
    cost_nano: 0n,
    price_ref: 'not-billed',
    raw_usage: null,
    usage_issues: [`refused: ${error.code}: ${error.message}`],
    request_hash: null,
    client_address: clientAddress(context.req),
  };
}

/**
 * Commits the refused event before the refusal is answered (like every event, DESIGN §6). The
 * ledger side retries a failing store; a failure here is logged and the refusal still answered.
 */
export async function recordRefusal(
  ledger: { settle(event: UsageEvent): Promise<void> },
  log: Logger,
  context: RefusalContext,
  error: PertokenError,
): Promise<void> {
  const event = refusedEvent(context, error);
  if (event === null) return;
  try {
    await ledger.settle(event);
  } catch (err) {
    log.error({ err, event_id: event.id }, 'recording a refused call failed');
  }
}
