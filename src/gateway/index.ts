export { registerGatewayRoutes } from './routes.js';
export { UpstreamPools } from './upstream.js';
export { createModelRouter, globToRegExp, type ModelRouter } from './routing.js';
export { resolveAttribution, DEFAULT_TENANT } from './attribution.js';
export type { GatewayDeps, GatewayObserver } from './proxy.js';
