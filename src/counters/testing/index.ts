/** Test helpers for counters and for suites built on them (governance). Not for production code. */
export { backendCases, manualClock, type Backend, type BackendCase, type BackendName } from './backends.js';
export { deletePrefix, rawClient, redisSkipReason, TEST_REDIS_URL, uniquePrefix } from './redis.js';
