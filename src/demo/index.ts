/**
 * The demo upstream: a simulated OpenAI- and Anthropic-compatible server with realistic wire shapes,
 * token counts and timing, so pertoken works offline and tests and benchmarks have a scripted
 * upstream. See faults.ts for fault injection and handler.ts for the latency formula.
 */
export { startDemoUpstream, type DemoUpstream } from './server.js';
export { createDemoHandler, NON_STREAM_ITL_DIVISOR, type DemoHandler } from './handler.js';
export type { DemoOptions } from './options.js';
export { parseFaults, type FaultContext, type FaultScript, type FaultSpec, type Faults } from './faults.js';
export { countTokens as demoTokenCount } from './text.js';
export { PromptCache as DemoPromptCache, type PromptCacheOptions as DemoPromptCacheOptions } from './prompt-cache.js';
export { DEMO_PROJECT_ID } from './admin-reports.js';
