export { PertokenMetrics } from './registry.js';
