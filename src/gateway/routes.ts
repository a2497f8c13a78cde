import { PertokenError } from '../errors.js';
import type { RouteHandler, Router } from '../http/index.js';
import { ADAPTERS } from '../providers/index.js';
import { handleModelCall, passThrough, type GatewayDeps } from './proxy.js';

/** Every adapter's client path (DESIGN §3) is a POST route bound to that adapter. */
export function registerGatewayRoutes(router: Router, deps: GatewayDeps): void {
  const on = (method: string, pattern: string, handler: RouteHandler): void => {
    router.on(method, pattern, reported(deps, handler));
  };
  for (const adapter of Object.values(ADAPTERS)) {
    on('POST', adapter.clientPath, ({ req, res }) => handleModelCall(deps, adapter, req, res));
  }
  // Both wires list models at /v1/models; Anthropic's SDK always sends anthropic-version.
  on('GET', '/v1/models', async ({ req, res }) => {
    // Once keys are required, listing models needs one too (open mode accepts anything).
    await deps.authenticate(req.headers);
    const wire = req.headers['anthropic-version'] ? 'anthropic' : 'openai';
    let upstream;
    try {
      upstream = deps.pools.get(deps.router.defaultFor(wire).name);
    } catch (err) {
      throw err instanceof PertokenError ? err : new PertokenError('no_route', `no ${wire} upstream`);
    }
    const path = wire === 'anthropic' ? '/v1/models' : '/models';
    await passThrough(upstream, { upstreamPath: path }, null, req, res);
  });
}

/** Reports pertoken's own errors to the observer (metrics counts the refusals: 401, 402, 403, 429). */
function reported(deps: GatewayDeps, handler: RouteHandler): RouteHandler {
  return async (ctx) => {
    try {
      await handler(ctx);
    } catch (err) {
      if (err instanceof PertokenError) deps.observer.callRejected(err);
      throw err;
    }
  };
}
