/**
 * In-process sliding-window log. Each admitted request is an entry (time, cost); the window's
 * use is the sum of entries younger than windowMs. Exact: no sliding window of windowMs ever
 * holds more than `limit` cost. Mirrors redis/rate-script.ts.
 */
import type { RateLimiter, RateLimitSpec, RateState, RateTicket, TakeRequest, TakeResult } from '../types.js';
import { checkAdjust, checkTake } from '../validate.js';
import type { Tally } from './tally.js';

interface Entry {
  id: string;
  atMs: number;
  cost: number;
}

interface Log {
  /** Entries in admission order; `head` skips trimmed ones without shifting the array. */
  entries: Entry[];
  head: number;
  byId: Map<string, Entry>;
  sum: number;
}

export class MemoryRateLimiter implements RateLimiter {
  readonly #logs = new Map<string, Log>();
  readonly #now: () => number;
  readonly #tally: Tally;

  constructor(now: () => number, tally: Tally) {
    this.#now = now;
    this.#tally = tally;
  }

  async take(request: TakeRequest): Promise<TakeResult> {
    this.#tally.calls++;
    checkTake(request);
    const now = this.#now();
    const logs = request.limits.map((spec) => this.#trimmed(spec.key, spec.windowMs, now));
    const ticket: RateTicket = {
      id: request.id,
      entries: request.limits.map(({ key, windowMs, cost }) => ({ key, windowMs, cost })),
    };
    if (logs[0]!.byId.has(request.id)) {
      // A retried take of an admitted request: admitted already, counted once.
      const states = request.limits.map((spec, i) => stateOf(spec, logs[i]!, now));
      return { ok: true, ticket, states, failedOpen: false };
    }
    let refusal: { key: string; retryAfterMs: number | null } | undefined;
    request.limits.forEach((spec, i) => {
      const log = logs[i]!;
      if (log.sum + spec.cost <= spec.limit) return;
      const retryAfterMs = spec.cost > spec.limit ? null : waitFor(log, spec, now);
      if (!refusal || isLonger(retryAfterMs, refusal.retryAfterMs)) refusal = { key: spec.key, retryAfterMs };
    });
    if (refusal) {
      const states = request.limits.map((spec, i) => stateOf(spec, logs[i]!, now));
      return { ok: false, states, ...refusal, tooLarge: refusal.retryAfterMs === null };
    }
    request.limits.forEach((spec, i) => {
      const log = logs[i]!;
      const entry = { id: request.id, atMs: now, cost: spec.cost };
      log.entries.push(entry);
      log.byId.set(request.id, entry);
      log.sum += spec.cost;
    });
    const states = request.limits.map((spec, i) => stateOf(spec, logs[i]!, now));
    return { ok: true, ticket, states, failedOpen: false };
  }

  async adjust(ticket: RateTicket, changes: readonly { key: string; cost: number }[]): Promise<boolean> {
    this.#tally.calls++;
    checkAdjust(ticket, changes);
    const now = this.#now();
    for (const change of changes) {
      const windowMs = ticket.entries.find((e) => e.key === change.key)?.windowMs;
      if (windowMs === undefined) continue;
      const log = this.#trimmed(change.key, windowMs, now);
      const entry = log.byId.get(ticket.id);
      if (!entry) continue;
      log.sum += change.cost - entry.cost;
      entry.cost = change.cost;
    }
    return true;
  }

  /** The key's log with entries older than the window removed (an entry lives [at, at + window)). */
  #trimmed(key: string, windowMs: number, now: number): Log {
    let log = this.#logs.get(key);
    if (!log) {
      log = { entries: [], head: 0, byId: new Map(), sum: 0 };
      this.#logs.set(key, log);
    }
    while (log.head < log.entries.length && log.entries[log.head]!.atMs + windowMs <= now) {
      const old = log.entries[log.head++]!;
      log.sum -= old.cost;
      log.byId.delete(old.id);
    }
    if (log.head === log.entries.length || (log.head > 1024 && log.head * 2 > log.entries.length)) {
      log.entries = log.entries.slice(log.head);
      log.head = 0;
    }
    return log;
  }
}

/** Ms until enough of the oldest entries leave the window for `spec.cost` to fit. */
function waitFor(log: Log, spec: RateLimitSpec, now: number): number {
  let sum = log.sum;
  for (let i = log.head; i < log.entries.length; i++) {
    const entry = log.entries[i]!;
    sum -= entry.cost;
    if (sum + spec.cost <= spec.limit) return entry.atMs + spec.windowMs - now;
  }
  return spec.windowMs; // unreachable: an empty window always fits a cost <= limit
}

function isLonger(a: number | null, b: number | null): boolean {
  if (b === null) return false;
  return a === null || a > b;
}

function stateOf(spec: RateLimitSpec, log: Log, now: number): RateState {
  const last = log.entries[log.entries.length - 1];
  const resetMs = log.head < log.entries.length && last ? last.atMs + spec.windowMs - now : 0;
  return {
    key: spec.key,
    limit: spec.limit,
    windowMs: spec.windowMs,
    used: log.sum,
    remaining: Math.max(0, spec.limit - log.sum),
    resetMs,
  };
}
