/**
 * The multi-replica backend: every counter lives in Redis, shared by all replicas.
 *
 * Limits, by design:
 * - One Redis (or a Sentinel-managed primary), not Redis Cluster: a reserve touches every budget
 *   of a request in one script, and those keys are not in one hash slot.
 * - Amounts, limits and counter values up to 2^53 - 1 nano-USD (~$9.007M) per counter and
 *   period (Lua compares doubles); validate.ts refuses larger inputs.
 * - Scripts do work proportional to what expired since the last call (reclaimed leases, trimmed
 *   rate entries), and a refused take walks its window's entries to compute retry-after; both
 *   are bounded by the traffic of one lease TTL / one window on one key.
 * - A command that times out may still have run. Reserve and settle are idempotent per lease id
 *   and a reservation that was never answered frees itself at its TTL; a rate entry whose take
 *   timed out counts until it leaves the window.
 * - Time is Redis's clock (TIME inside the scripts), so replicas' clock skew does not matter;
 *   expireAtMs is compared against that clock too.
 */
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_KEY_PREFIX,
  DEFAULT_MAX_QUEUED_WRITES,
  DEFAULT_SIGNAL_POLL_MS,
} from '../constants.js';
import type { Counters, CountersOptions, CounterStats } from '../types.js';
import { RedisBudgetLedger } from './budgets.js';
import { RedisConnection } from './connection.js';
import { RedisRateLimiter } from './rates.js';
import { RedisSignals } from './signals.js';
import { WriteQueue } from './write-queue.js';

export function createRedisCounters(url: string, options: CountersOptions = {}): Counters {
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const connection = new RedisConnection({
    url,
    commandTimeoutMs: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  });
  const queue = new WriteQueue(options.maxQueuedWrites ?? DEFAULT_MAX_QUEUED_WRITES);
  connection.client.on('ready', () => void queue.flush());
  const signals = new RedisSignals(connection, prefix, options.signalPollMs ?? DEFAULT_SIGNAL_POLL_MS);

  return {
    backend: 'redis',
    budgets: new RedisBudgetLedger(connection, queue, prefix),
    rates: new RedisRateLimiter(connection, prefix),
    signals,
    stats(): CounterStats {
      return {
        backend: 'redis',
        connected: connection.connected,
        ...connection.counts,
        queuedWrites: queue.size,
        droppedWrites: queue.dropped,
      };
    },
    async ping() {
      try {
        return (await connection.run((c) => c.ping())) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      await signals.close();
      if (connection.connected) await queue.flush();
      await connection.close();
    },
  };
}
