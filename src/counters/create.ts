import { createMemoryCounters } from './memory/index.js';
import { createRedisCounters } from './redis/index.js';
import type { Counters, CountersOptions } from './types.js';

/**
 * Counters for this process: Redis when `redisUrl` is set (shared by every replica), memory
 * otherwise. Connects lazily, on first use: constructing has no side effects.
 */
export function createCounters(options: CountersOptions = {}): Counters {
  if (options.redisUrl) return createRedisCounters(options.redisUrl, options);
  return createMemoryCounters(options.now);
}
