/**
 * Runs a counters suite on both backends. Memory runs on a manual clock (time moves only when the
 * test says so, so its assertions can be exact); Redis runs on the server clock, so `advance`
 * sleeps a little past the asked time and tests assert states and counts, never durations.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createCounters } from '../create.js';
import type { Counters, CountersOptions } from '../types.js';
import { deletePrefix, redisSkipReason, TEST_REDIS_URL, uniquePrefix } from './redis.js';

export type BackendName = 'memory' | 'redis';

export interface Backend {
  readonly name: BackendName;
  readonly counters: Counters;
  /** Another replica on the same shared state (Redis: its own connections; memory: the same). */
  replica(options?: Partial<CountersOptions>): Counters;
  /** The store's idea of now, for expireAtMs. */
  now(): number;
  /** Lets `ms` of store time pass. */
  advance(ms: number): Promise<void>;
  dispose(): Promise<void>;
}

export interface BackendCase {
  name: BackendName;
  /** Null when runnable; otherwise why skipped. */
  skip: string | null;
  open(): Promise<Backend>;
}

/** Margin past a Redis expiry: the server and this process share a machine clock. */
const REDIS_SLACK_MS = 60;

export async function backendCases(label: string): Promise<BackendCase[]> {
  return [
    { name: 'memory', skip: null, open: async () => memoryBackend() },
    { name: 'redis', skip: await redisSkipReason(), open: async () => redisBackend(label) },
  ];
}

export function manualClock(start = Date.UTC(2026, 0, 1)): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

function memoryBackend(): Backend {
  const clock = manualClock();
  const counters = createCounters({ now: clock.now });
  return {
    name: 'memory',
    counters,
    replica: () => counters,
    now: clock.now,
    advance: async (ms) => clock.advance(ms),
    dispose: () => counters.close(),
  };
}

function redisBackend(label: string): Backend {
  const keyPrefix = uniquePrefix(label);
  const opened: Counters[] = [];
  const open = (options: Partial<CountersOptions> = {}): Counters => {
    const counters = createCounters({ redisUrl: TEST_REDIS_URL, keyPrefix, signalPollMs: 100, ...options });
    opened.push(counters);
    return counters;
  };
  return {
    name: 'redis',
    counters: open(),
    replica: open,
    now: Date.now,
    advance: (ms) => sleep(ms + REDIS_SLACK_MS),
    async dispose() {
      for (const counters of opened) await counters.close();
      await deletePrefix(keyPrefix);
    },
  };
}
