import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { PertokenError } from '../errors.js';
import type { Admission, Identity } from '../governance/index.js';
import { readBody, sendError, writeChunk, type RequestContext, type RouteHandler } from '../http/index.js';
import { priceMediaUnits, type PriceBook } from '../pricing/index.js';
import {
  adapterFor,
  ERROR_BODIES,
  PASSTHROUGH_ROUTES,
  passthroughPath,
  passthroughWire,
  type ControlRoute,
  type MediaRequest,
  type MeteredRoute,
  type RouteId,
  type WireKind,
} from '../providers/index.js';
import { resolveAttribution } from './attribution.js';
import { GATEWAY_CALL, logCall, type GatewayCall } from './call-log.js';
import { clientAddress, requestHash } from './fingerprint.js';
import { jsonIntake, multipartIntake, type Intake } from './passthrough-intake.js';
import type { PassthroughOutcome, PassthroughState } from './passthrough-meter.js';
import { CLIENT_CLOSED, commit, relayEvents, relayJson, relayRaw, upstreamStatus } from './passthrough-relay.js';
import { reserve } from './call-steps.js';
import type { GatewayDeps } from './deps.js';
import {
  clientResponseHeaders,
  neverReachedUpstream,
  upstreamFailure,
  upstreamRequestHeaders,
  type UpstreamTarget,
} from './upstream.js';

/**
 * Routes the gateway does not model but forwards (providers/passthrough.ts): the OpenAI media
 * endpoints, metered by their tokens or units like any model call, and the control routes of
 * stored responses, stored chat completions and models, forwarded after the key is checked.
 * Bodies and answers go through unchanged: forms and audio are streamed, never parsed.
 */

/** The gateway's route registration (routes.ts `on`): names the route and the wire of its errors. */
export type RegisterRoute = (
  method: string,
  pattern: string,
  handler: RouteHandler,
  options?: { route?: string; wire?: WireKind },
) => void;

export function registerPassthroughRoutes(on: RegisterRoute, deps: GatewayDeps): void {
  for (const route of PASSTHROUGH_ROUTES) {
    const handler: RouteHandler =
      route.meter === null ? (ctx) => forwardControl(deps, route, ctx) : (ctx) => forwardMetered(deps, route, ctx);
    on(route.method, route.clientPath, handler, { route: route.id });
  }
}

/**
 * A key without the scope of the route's model calls gets 403, as governance answers them;
 * checked before a body is read, so that nothing is held for a caller who may not send it.
 */
function requireScope(identity: Identity, scopeOf: RouteId | null): void {
  if (scopeOf === null || !identity.grant) return;
  const scope = adapterFor(scopeOf).scope;
  if (!identity.grant.scopes.includes(scope)) {
    throw new PertokenError('forbidden', `virtual key ${identity.key_id ?? ''} has no "${scope}" scope`, {
      param: 'authorization',
    });
  }
}

/** The upstream that answers model-less calls of a wire (as the model listing does). */
function defaultUpstream(deps: GatewayDeps, wire: WireKind): UpstreamTarget {
  try {
    return deps.pools.get(deps.router.defaultFor(wire).name);
  } catch (err) {
    throw err instanceof PertokenError ? err : new PertokenError('no_route', `no ${wire} upstream`);
  }
}

function upstreamHeaders(
  req: IncomingMessage,
  upstream: UpstreamTarget,
  content: Record<string, string> | null,
): Record<string, string> {
  const headers = upstreamRequestHeaders(req.headers, upstream.config);
  // undici refuses `expect`; the client's 100-continue is answered by this server already.
  delete headers['expect'];
  if (content === null) delete headers['content-type'];
  return { ...headers, ...content };
}

async function forwardControl(deps: GatewayDeps, route: ControlRoute, ctx: RequestContext): Promise<void> {
  const { req, res, url, params } = ctx;
  const call = ctx.vars.get(GATEWAY_CALL);
  const wire = passthroughWire(route, req.headers);
  call.errorBody = ERROR_BODIES[wire];
  const identity = await deps.authenticate(req.headers);
  call.keyId = identity.key_id;
  requireScope(identity, route.scopeOf);
  const path = passthroughPath(route, wire, params);
  const body = route.body === 'json' ? await readBody(req, deps.maxBodyBytes) : null;
  const upstream = defaultUpstream(deps, wire);
  call.upstream = upstream.config.name;
  const contentType = req.headers['content-type'];
  let response: Dispatcher.ResponseData;
  try {
    response = await upstream.pool.request({
      method: route.method,
      path: upstream.basePath + path + url.search,
      headers: upstreamHeaders(
        req,
        upstream,
        body === null ? null : { 'content-type': contentType ?? 'application/json' },
      ),
      body,
    });
  } catch (err) {
    const failure = upstreamFailure(err, upstream.config.name);
    logCall(deps.log, call, 'warn', 'upstream failed', {
      status: failure.status,
      code: failure.code,
      reason: failure.message,
    });
    sendError(res, failure, {}, call.errorBody);
    return;
  }
  if (response.statusCode >= 500)
    logCall(deps.log, call, 'warn', 'upstream answered an error', upstreamStatus(response.statusCode));
  // Streamed, not read: a stored response may be replayed as a stream (`?stream=true`).
  res.writeHead(response.statusCode, clientResponseHeaders(response.headers));
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) await writeChunk(res, chunk);
  } catch {
    res.destroy();
    return;
  }
  res.end();
}

async function forwardMetered(deps: GatewayDeps, route: MeteredRoute, ctx: RequestContext): Promise<void> {
  const { req, res, url, params } = ctx;
  const call = ctx.vars.get(GATEWAY_CALL);
  // Before the body: a caller without a valid key has nothing held for it.
  const identity = await deps.authenticate(req.headers);
  const attribution = resolveAttribution(req.headers, identity);
  call.tenant = attribution.tenant;
  call.keyId = attribution.key_id;
  requireScope(identity, route.scopeOf);
  const intake: Intake =
    route.body === 'json' ? await jsonIntake(req, deps.maxBodyBytes) : await multipartIntake(req, deps.maxBodyBytes);
  const request = route.meter.request(intake.fields(), intake.complete());
  call.model = request.model;
  // Aliases and fallbacks are for model calls: a form streamed upstream cannot be re-sent or rewritten.
  const target = deps.router.resolve(request.model, 'openai');
  call.upstream = target.name;
  const provider = target.provider ?? target.kind;
  await deps.governance?.authorize(identity, attribution, route.scopeOf, request.model, request.model);

  const started = new Date();
  let admission: Admission | null = null;
  if (deps.governance) {
    admission = await deps.governance.admit({
      id: call.id,
      route: route.scopeOf,
      identity,
      attribution,
      chain: [{ model: request.model, upstream: target.name, provider }],
      // A media call has no cheaper model to be downgraded to: a downgrade budget refuses it.
      replan: () => null,
      promptText: request.promptText,
      pretokenizedInputTokens: 0,
      hasNonTextInput: request.hasNonTextInput,
      maxOutputTokens: request.maxOutputTokens,
      ...knownCost(deps.priceBook, provider, request, started),
      at: started,
    });
  }
  try {
    const state: PassthroughState = {
      id: call.id,
      started,
      startedAt: call.startedAt,
      firstByteAt: null,
      route,
      request,
      attribution,
      upstream: target.name,
      provider,
      streamed: false,
      admission,
      extraHeaders: { ...admission?.headers },
      clientAddress: clientAddress(req),
      requestHash: () => requestHash(route.id, attribution, intake.fingerprint()),
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
      id: call.id,
      time: started,
      source: target.name,
      provider,
      requested_model: request.model,
      route: route.id,
      streamed: false,
      estimated_input_tokens: Math.ceil(request.promptText.length / 4),
    });
    deps.observer.requestStarted(route.id);
    try {
      const upstream = deps.pools.get(target.name);
      await send(
        deps,
        call,
        state,
        intake,
        upstream,
        upstream.basePath + passthroughPath(route, 'openai', params) + url.search,
        req,
        res,
      );
    } finally {
      deps.observer.requestFinished(route.id);
    }
  } finally {
    await admission
      ?.release()
      .catch((err: unknown) => deps.log.error({ err, event_id: call.id }, 'budget release failed'));
  }
}

async function send(
  deps: GatewayDeps,
  call: GatewayCall,
  state: PassthroughState,
  intake: Intake,
  upstream: UpstreamTarget,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  let response: Dispatcher.ResponseData;
  try {
    response = await upstream.pool.request({
      method: 'POST',
      path,
      headers: upstreamHeaders(req, upstream, intake.headers),
      body: intake.body,
      signal: abort.signal,
    });
  } catch (err) {
    const failure = upstreamFailure(err, upstream.config.name);
    const unsent = neverReachedUpstream(err);
    const outcome: PassthroughOutcome = abort.signal.aborted
      ? { kind: 'cancelled', httpStatus: null, reading: null }
      : unsent
        ? { kind: 'not_sent', httpStatus: failure.status }
        : { kind: 'cut', httpStatus: failure.status, reading: null, reason: failure.code };
    await commit(deps, state, outcome);
    if (abort.signal.aborted) logCall(deps.log, call, 'info', 'client disconnected', CLIENT_CLOSED);
    else
      logCall(deps.log, call, 'warn', 'upstream failed', {
        status: failure.status,
        code: failure.code,
        reason: unsent ? `${failure.message} (not sent, not billed)` : failure.message,
      });
    sendError(res, failure, state.extraHeaders, call.errorBody);
    // A form whose upload stopped midway leaves bytes that would stall a keep-alive connection.
    if (!req.complete) req.resume();
    return;
  }
  const type = String(response.headers['content-type'] ?? '').toLowerCase();
  if (response.statusCode >= 400) {
    const level = response.statusCode >= 500 ? 'warn' : 'info';
    logCall(deps.log, call, level, 'upstream answered an error', upstreamStatus(response.statusCode));
    await relayRaw(deps, call, state, response, res, abort.signal);
  } else if (type.includes('text/event-stream')) await relayEvents(deps, call, state, response, res, abort.signal);
  else if (type.includes('json')) await relayJson(deps, call, state, response, res, abort.signal);
  // Audio, or a transcription as text: relayed as it comes; what it cost is what the request says.
  else await relayRaw(deps, call, state, response, res, abort.signal);
}

/** What the request alone prices (DALL·E images, tts characters): a budget reserves exactly that. */
function knownCost(book: PriceBook, provider: string, request: MediaRequest, at: Date): { knownCostNano?: bigint } {
  if (request.units === null) return {};
  const priced = priceMediaUnits(book, { provider, model: request.model, at, units: request.units });
  return priced.cost_nano === null ? {} : { knownCostNano: priced.cost_nano };
}
