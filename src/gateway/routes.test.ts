import { describe, expect, it } from 'vitest';
import { Router } from '../http/index.js';
import { ADAPTERS, PASSTHROUGH_ROUTES } from '../providers/index.js';
import { registerGatewayRoutes } from './routes.js';
import type { GatewayDeps } from './deps.js';

describe('gateway routes', () => {
  it('are exactly the adapters’ client paths (POST), the model listing and the pass-through routes', () => {
    const router = new Router();
    // Registration only reads the adapters; no dependency is touched until a request arrives.
    registerGatewayRoutes(router, {} as GatewayDeps);
    expect(router.routes()).toEqual([
      { method: 'POST', pattern: '/v1/chat/completions' },
      { method: 'POST', pattern: '/v1/responses' },
      { method: 'POST', pattern: '/v1/embeddings' },
      { method: 'POST', pattern: '/v1/completions' },
      { method: 'POST', pattern: '/v1/messages' },
      { method: 'POST', pattern: '/v1/messages/count_tokens' },
      { method: 'GET', pattern: '/v1/models' },
      ...PASSTHROUGH_ROUTES.map((r) => ({ method: r.method, pattern: r.clientPath })),
    ]);
    expect(
      router
        .routes()
        .slice(0, Object.keys(ADAPTERS).length)
        .map((r) => r.pattern),
    ).toEqual(Object.values(ADAPTERS).map((a) => a.clientPath));
  });
});
