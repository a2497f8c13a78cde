export { registerGatewayRoutes } from './routes.js';
export { UpstreamPools } from './upstream.js';
export { createModelRouter, type ModelRouter, type PlanStep } from './routing.js';
export { resolveAttribution, DEFAULT_TENANT } from './attribution.js';
export type { GatewayDeps, GatewayGovernance, GatewayObserver } from './deps.js';
export { withModel } from './model-rewrite.js';
