/**
 * Shared counters: the primitives budgets and rate limits are built on. Two implementations sit
 * behind these types: in-memory (one process) and Redis (`PERTOKEN_REDIS_URL`, many replicas).
 * Both have the same semantics, down to idempotency and lease expiry; only the Redis one can be
 * unavailable, which is what `failMode` is about.
 *
 * Money is bigint nano-USD. The Redis scripts compare amounts as Lua numbers (doubles), so every
 * amount, limit and counter value must stay at or below MAX_COUNTER_NANO (2^53 - 1 nano-USD, about
 * $9.007M per counter and period); larger inputs are refused with `invalid_request`.
 */

/** 2^53 - 1: the largest integer a Lua number (a double) holds exactly. About $9,007,199.25. */
export const MAX_COUNTER_NANO = 9_007_199_254_740_991n;

/**
 * What a call does when the shared store cannot be reached.
 * - `open`: admit anyway, mark the result `failedOpen`, count it in stats().
 * - `closed`: throw PertokenError('counters_unavailable') (HTTP 503, retry-after 1).
 */
export type FailMode = 'open' | 'closed';

// ---------------------------------------------------------------------------------------------
// Budget ledger: reserve-and-settle with leases
// ---------------------------------------------------------------------------------------------

/** One budget counter a reservation applies to. The key names budget AND period, e.g. `b1:2026-05`. */
export interface BudgetCounterRef {
  key: string;
  /** Hard limit in nano-USD; null = track only (alert_only budgets), never refuses. */
  limit: bigint | null;
  /**
   * Epoch ms after which the whole counter may be dropped (period end plus a grace). Applied on
   * every write that touches the counter; omit for counters that never expire (period `total`).
   */
  expireAtMs?: number;
}

export interface ReserveRequest {
  /** Unique per request; makes reserve/settle/release idempotent (a retried call changes nothing). */
  leaseId: string;
  /** Every applicable budget. All pass and all are reserved, or none is touched. Keys distinct. */
  counters: readonly BudgetCounterRef[];
  /** Maximum possible cost of the request, nano-USD, >= 0: what every counter reserves by default. */
  amount: bigint;
  /**
   * Per-counter amounts, aligned with `counters`, when they differ: a budget scoped to some models
   * of a fallback chain reserves those models' worst case, a token allowance counts tokens, not
   * nano-USD. Each obeys the same bounds as `amount`.
   */
  amounts?: readonly bigint[];
  /** After this long the reservation is reclaimed (amount returned) unless settled or released. */
  ttlMs: number;
  failMode: FailMode;
}

/** A counter as seen right after an operation. `limit` echoes the caller's limit (null if none). */
export interface CounterState {
  key: string;
  spent: bigint;
  reserved: bigint;
  limit: bigint | null;
}

/** What settle/release need; the `Lease` a reserve returns satisfies it. */
export interface LeaseRef {
  id: string;
  counters: readonly BudgetCounterRef[];
}

export interface Lease extends LeaseRef {
  amount: bigint;
  /** What each counter reserved, aligned with `counters`. */
  amounts: readonly bigint[];
}

export type ReserveResult =
  | {
      ok: true;
      lease: Lease;
      /** State of each counter after the reservation, in request order; [] when failedOpen. */
      counters: CounterState[];
      /** True when this leaseId had been reserved before: nothing was reserved again. */
      replayed: boolean;
      /** True when admitted only because the store was down and failMode was `open`. */
      failedOpen: boolean;
    }
  | {
      ok: false;
      /** The first counter (in request order) that would go over its limit. */
      key: string;
      spent: bigint;
      reserved: bigint;
      limit: bigint;
      /** The amount that was asked for on that counter. */
      amount: bigint;
    };

export interface SettleResult {
  /**
   * - `settled`: the reservation was replaced by the actual amount.
   * - `expired`: no live reservation (it had been reclaimed, or never made because reserve failed
   *   open); the actual amount was still added to spent.
   * - `duplicate`: this lease was already settled or released; nothing changed.
   * - `queued`: the store is down; the settle is kept in memory and applied on reconnect
   *   (idempotently, by lease id). Redis only.
   * - `dropped`: the store is down and the queue is full; the spend is only in the ledger.
   */
  outcome: 'settled' | 'expired' | 'duplicate' | 'queued' | 'dropped';
  /** Counters after the settle, in lease order; [] when duplicate or queued. */
  counters: CounterState[];
}

export interface ReleaseResult {
  /** `released`: reservation dropped; `absent`: no live reservation; `duplicate`: already settled or
   *  released; `queued`: store down, retried on reconnect; `dropped`: store down and queue full (the
   *  reservation then frees itself when the lease expires). */
  outcome: 'released' | 'absent' | 'duplicate' | 'queued' | 'dropped';
}

export interface BudgetLedger {
  /**
   * Atomically checks `spent + reserved + amount <= limit` on every counter with a limit and,
   * only if all pass, reserves `amount` on all of them. Expired leases on these counters are
   * reclaimed first. A replayed leaseId returns ok without reserving again.
   */
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /**
   * Replaces the lease's reservation with `actual` spend on each of its counters: one amount for
   * all, or one per counter aligned with `lease.counters`. `actual` may exceed the reservation
   * (spent may then pass the limit: the one-request overrun bound).
   * Never throws for an unreachable store: the settle is queued and replayed (see outcome).
   */
  settle(lease: LeaseRef, actual: bigint | readonly bigint[]): Promise<SettleResult>;
  /** Drops the lease's reservation (request failed before any cost). Queued like settle when down. */
  release(lease: LeaseRef): Promise<ReleaseResult>;
  /**
   * Current state of counters (expired leases reclaimed first); absent counters read as zero.
   * Throws counters_unavailable when the store is down.
   */
  status(counters: readonly BudgetCounterRef[]): Promise<CounterState[]>;
  /**
   * Sets `spent` of counters that do not exist yet (the ledger is the truth after a restart or a
   * Redis flush); existing counters are left alone. Returns the keys that were seeded.
   */
  seed(entries: readonly { counter: BudgetCounterRef; spent: bigint }[]): Promise<string[]>;
}

// ---------------------------------------------------------------------------------------------
// Rate limits: exact sliding-window log, several limits taken atomically
// ---------------------------------------------------------------------------------------------

/**
 * One limit, e.g. RPM of a key `{ key: 'rpm:key:k1', limit: 60, windowMs: 60000, cost: 1 }` or
 * TPM `{ key: 'tpm:key:k1', limit: 100000, windowMs: 60000, cost: maxTokens }`. In every sliding
 * window of `windowMs`, the admitted cost never exceeds `limit` (exact, not approximate).
 */
export interface RateLimitSpec {
  /** Names one limit; always use a key with the same windowMs (the window trims its log). */
  key: string;
  /** Positive safe integer. */
  limit: number;
  /** Positive integer ms. */
  windowMs: number;
  /** Non-negative safe integer: 1 for a request, the reserved tokens for TPM. */
  cost: number;
}

export interface TakeRequest {
  /** Unique per request; identifies the entries for adjust(). */
  id: string;
  /** All are admitted together or none is (a request refused by TPM consumes no RPM). Keys distinct. */
  limits: readonly RateLimitSpec[];
  failMode: FailMode;
}

/** One limit after a take: what x-ratelimit-limit/-remaining/-reset headers need. */
export interface RateState {
  key: string;
  limit: number;
  windowMs: number;
  /** Cost admitted in the current window, including this take when admitted. */
  used: number;
  remaining: number;
  /** Ms until the window holds nothing admitted so far (the limit fully resets). */
  resetMs: number;
}

export interface RateTicket {
  id: string;
  entries: readonly { key: string; windowMs: number; cost: number }[];
}

export type TakeResult =
  | {
      ok: true;
      ticket: RateTicket;
      /** In request order; when failedOpen each reads as untouched (used 0, remaining = limit). */
      states: RateState[];
      failedOpen: boolean;
    }
  | {
      ok: false;
      states: RateState[];
      /** The limit that refused (the one with the longest wait when several do). */
      key: string;
      /**
       * Ms until this request would fit (for `retry-after`); null when its cost alone exceeds
       * the limit, so it never fits (`tooLarge`).
       */
      retryAfterMs: number | null;
      tooLarge: boolean;
    };

export interface RateLimiter {
  take(request: TakeRequest): Promise<TakeResult>;
  /**
   * Corrects the cost of admitted entries (TPM reserved up front, actual known at settle). Entries
   * keep their admission time; entries already out of the window are ignored. Best effort: never
   * throws, returns false when the store was unreachable.
   */
  adjust(ticket: RateTicket, changes: readonly { key: string; cost: number }[]): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Signals: versioned topics broadcast to every replica (key revocation, config changes)
// ---------------------------------------------------------------------------------------------

export type SignalListener = (version: number) => void;

export interface Signals {
  /** Increments the topic's version and tells every replica. Throws counters_unavailable when down. */
  bump(topic: string): Promise<number>;
  /** Current version (0 when never bumped). Throws counters_unavailable when down. */
  version(topic: string): Promise<number>;
  /**
   * Calls `listener` whenever the topic's version changes, including changes missed while
   * disconnected (the version is re-read on every reconnect). Returns an unsubscribe function.
   */
  watch(topic: string, listener: SignalListener): Promise<() => Promise<void>>;
}

// ---------------------------------------------------------------------------------------------
// The whole
// ---------------------------------------------------------------------------------------------

export interface CounterStats {
  backend: 'memory' | 'redis';
  /** Redis: the command connection is ready. Memory: always true. */
  connected: boolean;
  /** Store calls attempted (reserve, settle, take, ...). */
  calls: number;
  /** Calls that failed because the store was unreachable or timed out. */
  failures: number;
  /** Requests admitted only because failMode was `open` (budget reserves and rate takes). */
  failOpenAdmits: number;
  /** Requests refused with counters_unavailable because failMode was `closed`. */
  failClosedRefusals: number;
  /** Settles/releases waiting for the store to come back. */
  queuedWrites: number;
  /** Queued settles/releases dropped because the queue was full (spend then only in the ledger). */
  droppedWrites: number;
}

export interface Counters {
  readonly backend: 'memory' | 'redis';
  readonly budgets: BudgetLedger;
  readonly rates: RateLimiter;
  readonly signals: Signals;
  stats(): CounterStats;
  /** True when the store answers now (for /readyz). */
  ping(): Promise<boolean>;
  /** Closes connections and timers; pending queued writes are attempted once more. */
  close(): Promise<void>;
}

export interface CountersOptions {
  /** redis://… selects Redis; absent selects memory. */
  redisUrl?: string;
  /** Prefix of every Redis key and channel; default `pertoken:`. */
  keyPrefix?: string;
  /** Memory backend clock (tests); Redis uses the server's clock so replicas agree. */
  now?: () => number;
  /** Redis per-command timeout; default 1000 ms. */
  commandTimeoutMs?: number;
  /** Redis connect timeout; default 2000 ms. */
  connectTimeoutMs?: number;
  /** Most settles/releases kept while Redis is down; default 10000. */
  maxQueuedWrites?: number;
  /**
   * Redis: how often watched signal versions are re-read as a backstop for lost pub/sub messages
   * (a blackholed subscriber connection); default 500 ms, so a bump reaches every replica in < 1 s.
   */
  signalPollMs?: number;
}
