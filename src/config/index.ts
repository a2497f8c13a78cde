export { configSchema, type Config, type UpstreamConfig, type RouteConfig, type PriceOverrideConfig } from './schema.js';
export { loadConfigFile, parseConfig, interpolate, type Env } from './load.js';
