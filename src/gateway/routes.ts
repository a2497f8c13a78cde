import { PertokenError, toPertokenError } from '../errors.js';
import { sendError, type RouteHandler, type Router } from '../http/index.js';
import { ADAPTERS, ERROR_BODIES, type WireKind } from '../providers/index.js';
import { GATEWAY_CALL, GatewayCall, logThrown } from './call-log.js';
import { passThrough } from './call-steps.js';
import type { GatewayDeps } from './deps.js';
import { handleModelCall } from './proxy.js';
import { registerPassthroughRoutes } from './passthrough.js';

/** How a gateway route is named in logs and which wire its errors speak (default: OpenAI). */
export interface GatewayRouteOptions {
  route?: string;
  wire?: WireKind;
}

/** Every adapter's client path (DESIGN §3) is a POST route bound to that adapter. */
export function registerGatewayRoutes(router: Router, deps: GatewayDeps): void {
  const on = (method: string, pattern: string, handler: RouteHandler, options: GatewayRouteOptions = {}): void => {
    router.on(method, pattern, reported(deps, options.route ?? pattern, options.wire ?? 'openai', handler));
  };
  for (const adapter of Object.values(ADAPTERS)) {
    on(
      'POST',
      adapter.clientPath,
      ({ req, res, vars }) => handleModelCall(deps, adapter, req, res, vars.get(GATEWAY_CALL)),
      { route: adapter.route, wire: adapter.wire },
    );
  }
  // Both wires list models at /v1/models; Anthropic's SDK always sends anthropic-version.
  on(
    'GET',
    '/v1/models',
    async ({ req, res, vars }) => {
      const wire = req.headers['anthropic-version'] ? 'anthropic' : 'openai';
      const call = vars.get(GATEWAY_CALL);
      call.errorBody = ERROR_BODIES[wire];
      // Once keys are required, listing models needs one too (open mode accepts anything).
      await deps.authenticate(req.headers);
      let upstream;
      try {
        upstream = deps.pools.get(deps.router.defaultFor(wire).name);
      } catch (err) {
        throw err instanceof PertokenError ? err : new PertokenError('no_route', `no ${wire} upstream`);
      }
      call.upstream = upstream.config.name;
      const path = wire === 'anthropic' ? '/v1/models' : '/models';
      await passThrough(deps, call, upstream, { upstreamPath: path }, null, req, res);
    },
    { route: 'models' },
  );
  registerPassthroughRoutes(on, deps);
}

/**
 * Runs a gateway handler as one call: gives it a request id and a GatewayCall (GATEWAY_CALL),
 * and answers what it throws here rather than in the app's catch-all, because the gateway owns
 * its failure path: the refusals are counted (metrics: 401, 402, 403, 429, 503), every failure
 * gets its log line, and the error is rendered in the route's wire shape (Anthropic's on
 * Anthropic routes) with its status and headers such as `retry-after`.
 */
function reported(deps: GatewayDeps, route: string, wire: WireKind, handler: RouteHandler): RouteHandler {
  return async (ctx) => {
    const call = new GatewayCall(deps.newId(), route, ERROR_BODIES[wire]);
    ctx.res.setHeader('x-pertoken-request-id', call.id);
    ctx.vars.set(GATEWAY_CALL, call);
    try {
      await handler(ctx);
    } catch (err) {
      const error = toPertokenError(err);
      deps.observer.callRejected(error);
      logThrown(deps.log, call, error);
      sendError(ctx.res, error, {}, call.errorBody);
      // Unread request bytes would otherwise stall a keep-alive connection.
      if (!ctx.req.complete) ctx.req.resume();
    }
  };
}
