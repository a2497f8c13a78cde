/** The rate limiter on Redis: argument packing and reply parsing around rate-scripts.ts. */
import type { RateLimiter, RateState, RateTicket, TakeRequest, TakeResult } from '../types.js';
import { checkAdjust, checkTake, isCountersUnavailable } from '../validate.js';
import type { RedisConnection } from './connection.js';
import { asArray, asNumber, asString } from './replies.js';

export class RedisRateLimiter implements RateLimiter {
  readonly #connection: RedisConnection;
  readonly #prefix: string;

  constructor(connection: RedisConnection, prefix: string) {
    this.#connection = connection;
    this.#prefix = prefix;
  }

  async take(request: TakeRequest): Promise<TakeResult> {
    checkTake(request);
    const ticket: RateTicket = {
      id: request.id,
      entries: request.limits.map(({ key, windowMs, cost }) => ({ key, windowMs, cost })),
    };
    const keys = request.limits.flatMap((l) => this.#keys(l.key));
    const args = [request.id, ...request.limits.flatMap((l) => [String(l.limit), String(l.windowMs), String(l.cost)])];
    let reply: unknown[];
    try {
      reply = asArray(await this.#connection.run((c) => c.ptTake(keys.length, ...keys, ...args)), 'take');
    } catch (err) {
      this.#connection.admitOrRefuse(err, request.failMode);
      const states = request.limits.map((l) => ({
        key: l.key,
        limit: l.limit,
        windowMs: l.windowMs,
        used: 0,
        remaining: l.limit,
        resetMs: 0,
      }));
      return { ok: true, ticket, states, failedOpen: true };
    }
    const n = request.limits.length;
    const states: RateState[] = request.limits.map((l, i) => {
      const used = asNumber(reply[3 + i], 'used');
      return {
        key: l.key,
        limit: l.limit,
        windowMs: l.windowMs,
        used,
        remaining: Math.max(0, l.limit - used),
        resetMs: Math.max(0, asNumber(reply[3 + n + i], 'reset')),
      };
    });
    if (asString(reply[0], 'take outcome') !== 'refused') return { ok: true, ticket, states, failedOpen: false };
    const refused = request.limits[asNumber(reply[1], 'refused index') - 1]!;
    const wait = asNumber(reply[2], 'retry after');
    return {
      ok: false,
      states,
      key: refused.key,
      retryAfterMs: wait < 0 ? null : wait,
      tooLarge: wait < 0,
    };
  }

  async adjust(ticket: RateTicket, changes: readonly { key: string; cost: number }[]): Promise<boolean> {
    checkAdjust(ticket, changes);
    const known = changes.flatMap((change) => {
      const entry = ticket.entries.find((e) => e.key === change.key);
      return entry ? [{ ...change, windowMs: entry.windowMs }] : [];
    });
    if (known.length === 0) return true;
    const keys = known.flatMap((c) => this.#keys(c.key));
    const args = [ticket.id, ...known.flatMap((c) => [String(c.cost), String(c.windowMs)])];
    try {
      await this.#connection.run((c) => c.ptAdjust(keys.length, ...keys, ...args));
      return true;
    } catch (err) {
      if (!isCountersUnavailable(err)) throw err;
      return false; // best effort: the entry leaves the window by itself
    }
  }

  #keys(key: string): [string, string] {
    return [`${this.#prefix}r:${key}`, `${this.#prefix}r:${key}:c`];
  }
}
