export { registerApiRoutes, type ApiDeps } from './routes.js';
export { presentCosts, presentEvent, type CostsJson } from './present.js';
export { parseGroupBy, parseFilters, parseInstant, parseRange } from './params.js';
