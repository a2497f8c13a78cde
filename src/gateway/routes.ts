import { PertokenError } from '../errors.js';
import type { Router } from '../http/index.js';
import { adapterFor, type RouteId } from '../providers/index.js';
import { handleModelCall, passThrough, type GatewayDeps } from './proxy.js';

/** Client-facing paths of both wires (DESIGN §3), each bound to its provider adapter. */
const MODEL_ROUTES: ReadonlyArray<[path: string, route: RouteId]> = [
  ['/v1/chat/completions', 'openai.chat'],
  ['/v1/completions', 'openai.completions'],
  ['/v1/responses', 'openai.responses'],
  ['/v1/embeddings', 'openai.embeddings'],
  ['/v1/messages', 'anthropic.messages'],
  ['/v1/messages/count_tokens', 'anthropic.count_tokens'],
];

export function registerGatewayRoutes(router: Router, deps: GatewayDeps): void {
  for (const [path, route] of MODEL_ROUTES) {
    const adapter = adapterFor(route);
    router.on('POST', path, ({ req, res }) => handleModelCall(deps, adapter, req, res));
  }
  // Both wires list models at /v1/models; Anthropic's SDK always sends anthropic-version.
  router.on('GET', '/v1/models', async ({ req, res }) => {
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
