import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { PertokenError } from '../errors.js';
import { sendError } from '../http/index.js';
import type { Reservation, UsageEvent } from '../ledger/index.js';
import { formatUsd } from '../pricing/index.js';
import type { ProviderAdapter } from '../providers/index.js';
import { failureFacts, logCall, upstreamStatusFacts, type GatewayCall } from './call-log.js';
import type { GatewayDeps } from './deps.js';
import { clientResponseHeaders, upstreamFailure, upstreamRequestHeaders, type UpstreamTarget } from './upstream.js';

/** Steps every gateway call shares, metered model calls (proxy.ts) and pass-through routes alike. */

/** Largest non-streaming upstream body read into memory to find its usage. */
const MAX_UPSTREAM_BODY = 64 * 1024 * 1024;

/**
 * A reservation only protects against a crash mid-call; when the ledger cannot take it the call
 * still goes ahead, because its settlement is retried until it lands.
 */
export async function reserve(deps: GatewayDeps, reservation: Reservation): Promise<void> {
  try {
    await deps.ledger.reserve(reservation);
  } catch (err) {
    deps.observer.ledgerWriteFailed();
    deps.log.error({ err, event_id: reservation.id }, 'ledger reservation failed; continuing');
  }
}

export function costHeaders(event: UsageEvent): Record<string, string> {
  const headers: Record<string, string> = {};
  if (event.cost_nano !== null) headers['x-pertoken-cost-usd'] = formatUsd(event.cost_nano);
  else headers['x-pertoken-price-status'] = 'unpriced';
  if (event.usage_source === 'estimated') headers['x-pertoken-usage-source'] = 'estimated';
  return headers;
}

export async function readUpstreamBody(body: Dispatcher.ResponseData['body']): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_UPSTREAM_BODY)
      throw new PertokenError('upstream_error', `upstream body is larger than ${MAX_UPSTREAM_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Unmetered calls (count_tokens, model lists): forwarded and relayed as they are. */
export async function passThrough(
  deps: Pick<GatewayDeps, 'log'>,
  call: GatewayCall,
  upstream: UpstreamTarget,
  adapter: Pick<ProviderAdapter, 'upstreamPath'>,
  body: Buffer | null,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  call.upstream = upstream.config.name;
  let response: Dispatcher.ResponseData;
  try {
    response = await upstream.pool.request({
      method: body === null ? 'GET' : 'POST',
      path: upstream.basePath + adapter.upstreamPath,
      headers: upstreamRequestHeaders(req.headers, upstream.config),
      body,
    });
  } catch (err) {
    const failure = upstreamFailure(err, upstream.config.name);
    logCall(deps.log, call, 'warn', 'upstream failed', failureFacts(failure));
    sendError(res, failure, {}, call.errorBody);
    return;
  }
  if (response.statusCode >= 500)
    logCall(deps.log, call, 'warn', 'upstream answered an error', upstreamStatusFacts(response.statusCode));
  const payload = await readUpstreamBody(response.body);
  res
    .writeHead(response.statusCode, {
      ...clientResponseHeaders(response.headers),
      'content-length': String(payload.length),
    })
    .end(payload);
}
