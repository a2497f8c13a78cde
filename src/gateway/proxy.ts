import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { PertokenError } from '../errors.js';
import type { Admission, RouteCandidate } from '../governance/index.js';
import { parseJsonBody, readBody, sendError, writeChunk } from '../http/index.js';
import type { UsageEvent } from '../ledger/index.js';
import type { ProviderAdapter, TapResult } from '../providers/index.js';
import { resolveAttribution } from './attribution.js';
import {
  CLIENT_CLOSED,
  errorEventFacts,
  failureFacts,
  logCall,
  upstreamStatusFacts,
  type GatewayCall,
} from './call-log.js';
import { costHeaders, passThrough, readUpstreamBody, reserve } from './call-steps.js';
import type { GatewayDeps } from './deps.js';
import { clientAddress, requestHash } from './fingerprint.js';
import { buildEvent, usageFor, type CallState, type Outcome } from './metered-call.js';
import { priceUsage } from './pricing-step.js';
import { withModel } from './model-rewrite.js';
import { recordRefusal, type RefusalContext } from './refusals.js';
import type { PlanStep } from './routing.js';
import { splitAtTerminal, terminalMarkers } from './stream-end.js';
import { clientResponseHeaders, neverReachedUpstream, upstreamFailure, upstreamRequestHeaders } from './upstream.js';

/**
 * One metered model call: validate, reserve in the ledger, forward, tap usage from the response,
 * price it, and commit the event before the response ends. `call` carries the request id (set
 * by the route wrapper, routes.ts) and what the log line of a failure names.
 */
export async function handleModelCall(
  deps: GatewayDeps,
  adapter: ProviderAdapter,
  req: IncomingMessage,
  res: ServerResponse,
  call: GatewayCall,
): Promise<void> {
  const startedAt = call.startedAt;
  const id = call.id;

  const raw = await readBody(req, deps.maxBodyBytes);
  const prepared = adapter.prepare(parseJsonBody(raw), raw);
  call.model = prepared.model;
  const identity = await deps.authenticate(req.headers);
  const attribution = resolveAttribution(req.headers, identity);
  call.tenant = attribution.tenant;
  call.keyId = attribution.key_id;
  const planned = deps.router.plan(prepared.model, adapter.wire);
  const primary = planned[0] as PlanStep;
  call.upstream = primary.upstream.name;
  const target = { upstream: primary.upstream.name, provider: primary.upstream.provider ?? primary.upstream.kind };
  const refusal: RefusalContext = { call, adapter, prepared, attribution, target, req };
  await refused(deps, refusal, () =>
    deps.governance?.authorize(identity, attribution, adapter.route, prepared.model, primary.model),
  );

  if (!adapter.metered) {
    const body = primary.model === prepared.model ? prepared.body : withModel(prepared.body, primary.model);
    return passThrough(deps, call, deps.pools.get(primary.upstream.name), adapter, body, req, res);
  }

  const started = new Date();
  let chain = [primary, ...planned.slice(1).filter((s) => deps.governance?.allowsModel(identity, s.model) ?? true)].map(
    candidate,
  );
  let admission: Admission | null = null;
  if (deps.governance) {
    const governance = deps.governance;
    admission = await refused(deps, refusal, () =>
      governance.admit({
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
      }),
    );
    chain = [...admission.chain];
  }

  try {
    const first = chain[0] as RouteCandidate;
    const state: CallState = {
      id,
      call,
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

/** Runs a governance step; a refusal it throws is recorded in the ledger before it is answered. */
async function refused<T>(deps: GatewayDeps, context: RefusalContext, step: () => Promise<T> | T): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof PertokenError) await recordRefusal(deps.ledger, deps.log, context, err);
    throw err;
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
    state.call.upstream = step.upstream;
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
        logCall(deps.log, state.call, 'info', 'upstream attempt failed; falling back', failureFacts(failure));
        continue;
      }
      const outcome: Outcome = abort.signal.aborted
        ? { kind: 'cancelled', httpStatus: null, tap: null }
        : unsent
          ? { kind: 'not_sent', httpStatus: failure.status }
          : { kind: 'cut', httpStatus: failure.status, tap: null, reason: failure.code };
      await commit(deps, state, outcome);
      if (abort.signal.aborted) logCall(deps.log, state.call, 'info', 'client disconnected', CLIENT_CLOSED);
      else
        logCall(
          deps.log,
          state.call,
          'warn',
          'upstream failed',
          failureFacts(failure, unsent ? 'not sent, not billed' : ''),
        );
      sendError(res, failure, state.extraHeaders, state.adapter.errorBody);
      return;
    }

    if (!last && fallbackOn.includes(response.statusCode)) {
      await response.body.dump().catch(() => undefined);
      state.notes.push(`fallback: ${step.model} via ${step.upstream} answered ${response.statusCode}`);
      const facts = upstreamStatusFacts(response.statusCode);
      logCall(deps.log, state.call, 'info', 'upstream attempt failed; falling back', facts);
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
    const failure = upstreamFailure(err, state.upstreamName);
    if (signal.aborted) logCall(deps.log, state.call, 'info', 'client disconnected', CLIENT_CLOSED);
    else
      logCall(
        deps.log,
        state.call,
        'warn',
        'upstream body failed',
        failureFacts(failure, `after answering ${response.statusCode}`),
      );
    sendError(res, failure, state.extraHeaders, state.adapter.errorBody);
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
  if (outcome.kind === 'upstream_status') {
    // The upstream's own error is relayed as it is; a 5xx is a failure, a 4xx its answer to the caller.
    const level = outcome.httpStatus >= 500 ? 'warn' : 'info';
    logCall(deps.log, state.call, level, 'upstream answered an error', upstreamStatusFacts(outcome.httpStatus));
  } else if (event.status === 'error') {
    logCall(deps.log, state.call, 'warn', 'upstream reported an error', errorEventFacts(response.statusCode));
  }
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

  const event = await commit(deps, state, outcome);
  if (outcome.kind === 'cancelled') logCall(deps.log, state.call, 'info', 'client disconnected', CLIENT_CLOSED);
  else if (outcome.kind === 'cut')
    logCall(deps.log, state.call, 'warn', 'upstream stream cut', {
      status: response.statusCode,
      code: 'stream_cut',
      reason: `upstream ${outcome.reason}`,
    });
  else if (event.status === 'error')
    logCall(deps.log, state.call, 'warn', 'upstream reported an error', errorEventFacts(response.statusCode));
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

function readJsonUsage(adapter: ProviderAdapter, body: Buffer): TapResult | null {
  try {
    return adapter.readBody(JSON.parse(body.toString('utf8')));
  } catch {
    return null;
  }
}
