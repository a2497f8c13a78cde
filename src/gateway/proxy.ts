import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { PertokenError } from '../errors.js';
import type { Admission, AdmitRequest, Authenticator, Identity, RouteCandidate } from '../governance/index.js';
import { parseJsonBody, readBody, sendError, writeChunk } from '../http/index.js';
import type { Attribution, Reservation, UsageEvent } from '../ledger/index.js';
import { formatUsd, type PriceBook } from '../pricing/index.js';
import type { ProviderAdapter, RouteId, TapResult } from '../providers/index.js';
import { resolveAttribution } from './attribution.js';
import { clientAddress, requestHash } from './fingerprint.js';
import { buildEvent, usageFor, type CallState, type Outcome } from './metered-call.js';
import { priceUsage } from './pricing-step.js';
import { withModel } from './model-rewrite.js';
import type { ModelRouter, PlanStep } from './routing.js';
import { splitAtTerminal, terminalMarkers } from './stream-end.js';
import {
  clientResponseHeaders,
  neverReachedUpstream,
  upstreamFailure,
  upstreamRequestHeaders,
  type UpstreamPools,
  type UpstreamTarget,
} from './upstream.js';

/** What the gateway reports to metrics; implemented by metrics/, kept structural to avoid a cycle. */
export interface GatewayObserver {
  requestStarted(route: string): void;
  requestFinished(route: string): void;
  eventRecorded(event: UsageEvent): void;
  ledgerWriteFailed(): void;
  /** An error of pertoken's own answered to a caller (bad input, auth, scope, budget, rate limit). */
  callRejected(error: PertokenError): void;
}

/** What the gateway asks of governance (keys' scopes, budgets, rate limits). */
export interface GatewayGovernance {
  authorize(
    identity: Identity,
    attribution: Attribution,
    route: RouteId,
    requested: string,
    resolved: string,
  ): Promise<void>;
  allowsModel(identity: Identity, model: string): boolean;
  admit(request: AdmitRequest): Promise<Admission>;
}

export interface GatewayDeps {
  router: ModelRouter;
  pools: UpstreamPools;
  authenticate: Authenticator;
  priceBook: PriceBook;
  /** settle() must keep the event even when the store fails (see SettleRetrier). */
  ledger: { reserve(reservation: Reservation): Promise<void>; settle(event: UsageEvent): Promise<void> };
  observer: GatewayObserver;
  log: Logger;
  maxBodyBytes: number;
  newId(): string;
  /** Absent: open mode without budgets or limits (the gateway of a bare install). */
  governance?: GatewayGovernance;
  /** Upstream statuses that move a request to its next fallback model. */
  fallbackOn?: readonly number[];
}

/** Largest non-streaming upstream body read into memory to find its usage. */
const MAX_UPSTREAM_BODY = 64 * 1024 * 1024;

/**
 * One metered model call: validate, reserve in the ledger, forward, tap usage from the response,
 * price it, and commit the event before the response ends.
 */
export async function handleModelCall(
  deps: GatewayDeps,
  adapter: ProviderAdapter,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const startedAt = performance.now();
  const id = deps.newId();
  res.setHeader('x-pertoken-request-id', id);

  const raw = await readBody(req, deps.maxBodyBytes);
  const prepared = adapter.prepare(parseJsonBody(raw), raw);
  const identity = await deps.authenticate(req.headers);
  const attribution = resolveAttribution(req.headers, identity);
  const planned = deps.router.plan(prepared.model, adapter.wire);
  const primary = planned[0] as PlanStep;
  await deps.governance?.authorize(identity, attribution, adapter.route, prepared.model, primary.model);

  if (!adapter.metered) {
    const body = primary.model === prepared.model ? prepared.body : withModel(prepared.body, primary.model);
    return passThrough(deps.pools.get(primary.upstream.name), adapter, body, req, res);
  }

  const started = new Date();
  let chain = [primary, ...planned.slice(1).filter((s) => deps.governance?.allowsModel(identity, s.model) ?? true)].map(
    candidate,
  );
  let admission: Admission | null = null;
  if (deps.governance) {
    admission = await deps.governance.admit({
      id,
      route: adapter.route,
      identity,
      attribution,
      chain,
      replan: (model) => {
        try {
          return deps.router.plan(model, adapter.wire).map(candidate);
        } catch {
          return null;
        }
      },
      promptText: prepared.promptText,
      pretokenizedInputTokens: prepared.pretokenizedInputTokens ?? 0,
      hasNonTextInput: prepared.hasNonTextInput,
      maxOutputTokens: prepared.maxOutputTokens,
      at: started,
    });
    chain = [...admission.chain];
  }

  try {
    const first = chain[0] as RouteCandidate;
    const state: CallState = {
      id,
      started,
      startedAt,
      firstByteAt: null,
      adapter,
      prepared,
      attribution,
      upstreamName: first.upstream,
      provider: first.provider,
      streamed: prepared.stream,
      routedModel: first.model,
      requestHash: requestHash(adapter.route, attribution, raw),
      clientAddress: clientAddress(req),
      admission,
      priorEvents: [],
      notes: [],
      extraHeaders: { ...admission?.headers },
      // Replaced below: the reservation is committed while the request travels upstream.
      reserved: Promise.resolve(),
    };
    state.reserved = reserve(deps, {
      tenant: attribution.tenant,
      project: attribution.project,
      user: attribution.user,
      feature: attribution.feature,
      key_id: attribution.key_id,
      trace_id: attribution.trace_id,
      tags: attribution.tags,
      id,
      time: state.started,
      source: state.upstreamName,
      provider: state.provider,
      // The routed model, not an alias: crash recovery prices the reservation by this name.
      requested_model: first.model,
      route: adapter.route,
      streamed: prepared.stream,
      // A cheap character ratio is enough to settle a crashed request; the tokenizer runs only
      // when a finished call lacks usage.
      estimated_input_tokens: Math.ceil(prepared.promptText.length / 4),
    });

    deps.observer.requestStarted(adapter.route);
    try {
      await forward(deps, state, chain, req, res);
    } finally {
      deps.observer.requestFinished(adapter.route);
    }
  } finally {
    // A no-op once the commit settled it; otherwise the request failed before costing anything.
    await admission?.release().catch((err: unknown) => deps.log.error({ err, event_id: id }, 'budget release failed'));
  }
}

function candidate(step: PlanStep): RouteCandidate {
  return { model: step.model, upstream: step.upstream.name, provider: step.upstream.provider ?? step.upstream.kind };
}

const DEFAULT_FALLBACK_ON: readonly number[] = [429, 500, 502, 503, 504];

/**
 * Sends the call to each model of the chain in turn until one answers. A fallback is taken only
 * before any byte reached the client: on a fallback status, a refused connection or a timeout.
 */
async function forward(
  deps: GatewayDeps,
  state: CallState,
  chain: readonly RouteCandidate[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const abort = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClose);
  const fallbackOn = deps.fallbackOn ?? DEFAULT_FALLBACK_ON;

  for (let i = 0; i < chain.length; i++) {
    const step = chain[i] as RouteCandidate;
    const last = i === chain.length - 1;
    const upstream = deps.pools.get(step.upstream);
    state.routedModel = step.model;
    state.upstreamName = step.upstream;
    state.provider = step.provider;
    if (i > 0) state.extraHeaders['x-pertoken-fallback-from'] = (chain[0] as RouteCandidate).model;
    const body = step.model === state.prepared.model ? state.prepared.body : withModel(state.prepared.body, step.model);

    let response: Dispatcher.ResponseData;
    try {
      response = await upstream.pool.request({
        method: 'POST',
        path: upstream.basePath + state.adapter.upstreamPath,
        headers: upstreamRequestHeaders(req.headers, upstream.config),
        body,
        signal: abort.signal,
      });
    } catch (err) {
      const failure = upstreamFailure(err, upstream.config.name);
      const unsent = neverReachedUpstream(err);
      if (!abort.signal.aborted && !last && (unsent || failure.code === 'upstream_timeout')) {
        // A timed-out request may still be billed by the provider: it keeps an event of its own.
        if (!unsent)
          state.priorEvents.push(
            await commit(
              deps,
              { ...state, id: deps.newId(), admission: null },
              { kind: 'cut', httpStatus: failure.status, tap: null, reason: failure.code },
            ),
          );
        state.notes.push(`fallback: ${step.model} via ${step.upstream} failed (${failure.code})`);
        continue;
      }
      const outcome: Outcome = abort.signal.aborted
        ? { kind: 'cancelled', httpStatus: null, tap: null }
        : unsent
          ? { kind: 'not_sent', httpStatus: failure.status }
          : { kind: 'cut', httpStatus: failure.status, tap: null, reason: failure.code };
      await commit(deps, state, outcome);
      sendError(res, failure, state.extraHeaders);
      return;
    }

    if (!last && fallbackOn.includes(response.statusCode)) {
      await response.body.dump().catch(() => undefined);
      state.notes.push(`fallback: ${step.model} via ${step.upstream} answered ${response.statusCode}`);
      continue;
    }
    const isStream = String(response.headers['content-type'] ?? '').includes('text/event-stream');
    if (response.statusCode < 400 && isStream) {
      await relayStream(deps, state, response, res, abort.signal);
    } else {
      await relayBody(deps, state, response, res, abort.signal);
    }
    return;
  }
}

async function relayBody(
  deps: GatewayDeps,
  state: CallState,
  response: Dispatcher.ResponseData,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  let body: Buffer;
  try {
    body = await readUpstreamBody(response.body);
  } catch (err) {
    const outcome: Outcome = signal.aborted
      ? { kind: 'cancelled', httpStatus: response.statusCode, tap: null }
      : { kind: 'cut', httpStatus: response.statusCode, tap: null, reason: 'body failed' };
    await commit(deps, state, outcome);
    sendError(res, upstreamFailure(err, state.upstreamName), state.extraHeaders);
    return;
  }
  state.firstByteAt = performance.now();
  const tap = readJsonUsage(state.adapter, body);
  const outcome: Outcome =
    response.statusCode >= 400
      ? { kind: 'upstream_status', httpStatus: response.statusCode, tap }
      : {
          kind: 'completed',
          httpStatus: response.statusCode,
          tap: tap ?? { usage: null, servedModel: null, outputText: '', completed: true, streamError: null },
        };
  const event = await commit(deps, state, outcome);
  const headers: Record<string, string | string[]> = {
    ...clientResponseHeaders(response.headers),
    'content-length': String(body.length),
  };
  Object.assign(headers, costHeaders(event), state.extraHeaders);
  if (!res.destroyed) res.writeHead(response.statusCode, headers).end(body);
}

async function relayStream(
  deps: GatewayDeps,
  state: CallState,
  response: Dispatcher.ResponseData,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const tap = state.adapter.createStreamTap(state.prepared);
  const markers = terminalMarkers(state.adapter);
  const held: Buffer[] = [];
  res.writeHead(response.statusCode, { ...clientResponseHeaders(response.headers), ...state.extraHeaders });
  res.flushHeaders();

  let failure: unknown = null;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      state.firstByteAt ??= performance.now();
      const out = tap.push(chunk);
      if (held.length > 0) {
        held.push(out);
        continue;
      }
      const [now, rest] = splitAtTerminal(out, markers);
      if (rest.length > 0) held.push(rest);
      await writeChunk(res, now);
    }
  } catch (err) {
    failure = err;
  }
  const tail = tap.flush();
  const result = tap.result();
  let outcome: Outcome;
  if (signal.aborted) outcome = { kind: 'cancelled', httpStatus: response.statusCode, tap: result };
  else if (failure !== null || !result.completed) {
    outcome = {
      kind: 'cut',
      httpStatus: response.statusCode,
      tap: result,
      reason: failure === null ? 'ended the stream early' : upstreamFailure(failure, state.upstreamName).code,
    };
  } else outcome = { kind: 'completed', httpStatus: response.statusCode, tap: result };

  await commit(deps, state, outcome);
  if (res.destroyed) return;
  if (outcome.kind === 'cut') {
    // Forward what arrived, then break the connection as the upstream did: a clean end would
    // tell the client the answer was complete.
    await writeChunk(res, Buffer.concat([...held, tail]));
    res.destroy();
    return;
  }
  res.end(Buffer.concat([...held, tail]));
}

/**
 * A reservation only protects against a crash mid-call; when the ledger cannot take it the call
 * still goes ahead, because its settlement is retried until it lands.
 */
async function reserve(deps: GatewayDeps, reservation: Reservation): Promise<void> {
  try {
    await deps.ledger.reserve(reservation);
  } catch (err) {
    deps.observer.ledgerWriteFailed();
    deps.log.error({ err, event_id: reservation.id }, 'ledger reservation failed; continuing');
  }
}

/**
 * Prices and commits the call; the ledger side keeps the event through store failures. Then
 * budgets and TPM are settled to the actual cost (before the response ends, like the ledger).
 */
async function commit(deps: GatewayDeps, state: CallState, outcome: Outcome): Promise<UsageEvent> {
  const tap: TapResult | null = 'tap' in outcome ? outcome.tap : null;
  const servedModel = tap?.servedModel ?? state.routedModel;
  const { usage, status } = usageFor(state, outcome, servedModel);
  const billable = outcome.kind !== 'not_sent' && outcome.kind !== 'upstream_status';
  const priced = priceUsage(
    deps.priceBook,
    state.provider,
    servedModel,
    state.routedModel,
    state.started,
    usage,
    billable,
  );
  const event = buildEvent(state, outcome, usage, status, priced, performance.now());
  await state.reserved;
  await deps.ledger.settle(event);
  deps.observer.eventRecorded(event);
  if (state.admission) {
    try {
      await state.admission.settle([...state.priorEvents, event]);
    } catch (err) {
      deps.log.error({ err, event_id: event.id }, 'budget settle failed; the ledger has the event');
    }
  }
  return event;
}

function costHeaders(event: UsageEvent): Record<string, string> {
  const headers: Record<string, string> = {};
  if (event.cost_nano !== null) headers['x-pertoken-cost-usd'] = formatUsd(event.cost_nano);
  else headers['x-pertoken-price-status'] = 'unpriced';
  if (event.usage_source === 'estimated') headers['x-pertoken-usage-source'] = 'estimated';
  return headers;
}

function readJsonUsage(adapter: ProviderAdapter, body: Buffer): TapResult | null {
  try {
    return adapter.readBody(JSON.parse(body.toString('utf8')));
  } catch {
    return null;
  }
}

async function readUpstreamBody(body: Dispatcher.ResponseData['body']): Promise<Buffer> {
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
  upstream: UpstreamTarget,
  adapter: Pick<ProviderAdapter, 'upstreamPath'>,
  body: Buffer | null,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let response: Dispatcher.ResponseData;
  try {
    response = await upstream.pool.request({
      method: body === null ? 'GET' : 'POST',
      path: upstream.basePath + adapter.upstreamPath,
      headers: upstreamRequestHeaders(req.headers, upstream.config),
      body,
    });
  } catch (err) {
    sendError(res, upstreamFailure(err, upstream.config.name));
    return;
  }
  const payload = await readUpstreamBody(response.body);
  res
    .writeHead(response.statusCode, {
      ...clientResponseHeaders(response.headers),
      'content-length': String(payload.length),
    })
    .end(payload);
}
