/** The single-process backend: never unavailable, so failMode never applies. */
import type { Counters, CounterStats } from '../types.js';
import { MemoryBudgetLedger } from './budgets.js';
import { MemoryRateLimiter } from './rates.js';
import { MemorySignals } from './signals.js';
import type { Tally } from './tally.js';

export function createMemoryCounters(now: () => number = Date.now): Counters {
  const tally: Tally = { calls: 0 };
  return {
    backend: 'memory',
    budgets: new MemoryBudgetLedger(now, tally),
    rates: new MemoryRateLimiter(now, tally),
    signals: new MemorySignals(tally),
    stats(): CounterStats {
      return {
        backend: 'memory',
        connected: true,
        calls: tally.calls,
        failures: 0,
        failOpenAdmits: 0,
        failClosedRefusals: 0,
        queuedWrites: 0,
        droppedWrites: 0,
      };
    },
    async ping() {
      return true;
    },
    async close() {},
  };
}
