/**
 * In-process budget ledger. Every method runs synchronously to completion inside one turn of the
 * event loop, which is what makes check-and-reserve atomic here; the Redis backend gets the same
 * property from Lua. Semantics mirror redis/budget-scripts.ts exactly (the same tests run on both).
 */
import type {
  BudgetCounterRef,
  BudgetLedger,
  CounterState,
  LeaseRef,
  ReleaseResult,
  ReserveRequest,
  ReserveResult,
  SettleResult,
} from '../types.js';
import { checkCounters, checkLease, checkNano, checkReserve, reserveAmounts, settleAmounts } from '../validate.js';
import { LEASE_RECORD_GRACE_MS } from '../constants.js';
import type { Tally } from './tally.js';

interface LiveLease {
  amount: bigint;
  expiresAtMs: number;
}

interface Counter {
  spent: bigint;
  reserved: bigint;
  leases: Map<string, LiveLease>;
  /** Earliest lease expiry, so reclaiming costs nothing until something can expire. */
  nextExpiryMs: number;
  expireAtMs: number | undefined;
}

type LeaseState = 'reserved' | 'settled' | 'released';

export class MemoryBudgetLedger implements BudgetLedger {
  readonly #counters = new Map<string, Counter>();
  /** Lease id -> state, kept a grace period past the lease so retried calls stay idempotent. */
  readonly #leaseStates = new Map<string, { state: LeaseState; untilMs: number }>();
  readonly #now: () => number;
  readonly #tally: Tally;

  constructor(now: () => number, tally: Tally) {
    this.#now = now;
    this.#tally = tally;
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    this.#tally.calls++;
    checkReserve(request);
    const now = this.#now();
    this.#forgetOldLeases(now);
    const amounts = reserveAmounts(request);
    const lease = { id: request.leaseId, counters: request.counters, amount: request.amount, amounts };
    if (this.#leaseStates.has(request.leaseId)) {
      return { ok: true, lease, counters: this.#states(request.counters, now), replayed: true, failedOpen: false };
    }
    for (const [i, ref] of request.counters.entries()) {
      if (ref.limit === null) continue;
      const counter = this.#live(ref.key, now);
      const spent = counter?.spent ?? 0n;
      const reserved = counter?.reserved ?? 0n;
      const amount = amounts[i] as bigint;
      if (spent + reserved + amount > ref.limit) {
        return { ok: false, key: ref.key, spent, reserved, limit: ref.limit, amount };
      }
    }
    const expiresAtMs = now + request.ttlMs;
    for (const [i, ref] of request.counters.entries()) {
      const counter = this.#touch(ref, now);
      const amount = amounts[i] as bigint;
      counter.reserved += amount;
      counter.leases.set(request.leaseId, { amount, expiresAtMs });
      counter.nextExpiryMs = Math.min(counter.nextExpiryMs, expiresAtMs);
    }
    this.#leaseStates.set(request.leaseId, { state: 'reserved', untilMs: expiresAtMs + LEASE_RECORD_GRACE_MS });
    return { ok: true, lease, counters: this.#states(request.counters, now), replayed: false, failedOpen: false };
  }

  async settle(lease: LeaseRef, actual: bigint | readonly bigint[]): Promise<SettleResult> {
    this.#tally.calls++;
    checkLease(lease);
    const actuals = settleAmounts(lease, actual);
    const now = this.#now();
    this.#forgetOldLeases(now);
    if (this.#isFinished(lease.id)) return { outcome: 'duplicate', counters: [] };
    let hadLive = false;
    for (const [i, ref] of lease.counters.entries()) {
      const counter = this.#touch(ref, now);
      hadLive = this.#dropLease(counter, lease.id) || hadLive;
      counter.spent += actuals[i] as bigint;
    }
    this.#leaseStates.delete(lease.id); // re-insert at the end: the sweep expects rough time order
    this.#leaseStates.set(lease.id, { state: 'settled', untilMs: now + LEASE_RECORD_GRACE_MS });
    return { outcome: hadLive ? 'settled' : 'expired', counters: this.#states(lease.counters, now) };
  }

  async release(lease: LeaseRef): Promise<ReleaseResult> {
    this.#tally.calls++;
    checkLease(lease);
    const now = this.#now();
    this.#forgetOldLeases(now);
    if (this.#isFinished(lease.id)) return { outcome: 'duplicate' };
    let hadLive = false;
    for (const ref of lease.counters) {
      const counter = this.#live(ref.key, now);
      if (counter) hadLive = this.#dropLease(counter, lease.id) || hadLive;
    }
    this.#leaseStates.delete(lease.id);
    this.#leaseStates.set(lease.id, { state: 'released', untilMs: now + LEASE_RECORD_GRACE_MS });
    return { outcome: hadLive ? 'released' : 'absent' };
  }

  async status(counters: readonly BudgetCounterRef[]): Promise<CounterState[]> {
    this.#tally.calls++;
    checkCounters(counters);
    return this.#states(counters, this.#now());
  }

  async seed(entries: readonly { counter: BudgetCounterRef; spent: bigint }[]): Promise<string[]> {
    this.#tally.calls++;
    checkCounters(entries.map((e) => e.counter));
    entries.forEach((e, i) => checkNano(e.spent, `entries[${i}].spent`));
    const now = this.#now();
    const seeded: string[] = [];
    for (const { counter: ref, spent } of entries) {
      if (this.#live(ref.key, now)) continue;
      this.#touch(ref, now).spent = spent;
      seeded.push(ref.key);
    }
    return seeded;
  }

  #isFinished(leaseId: string): boolean {
    const state = this.#leaseStates.get(leaseId)?.state;
    return state === 'settled' || state === 'released';
  }

  /** The counter if it exists and has not expired, with expired leases reclaimed. */
  #live(key: string, now: number): Counter | undefined {
    const counter = this.#counters.get(key);
    if (!counter) return undefined;
    if (counter.expireAtMs !== undefined && counter.expireAtMs <= now) {
      this.#counters.delete(key);
      return undefined;
    }
    if (counter.nextExpiryMs <= now) this.#reclaim(counter, now);
    return counter;
  }

  /** The live counter, created when absent, with its expiry pushed to the ref's. */
  #touch(ref: BudgetCounterRef, now: number): Counter {
    let counter = this.#live(ref.key, now);
    if (!counter) {
      counter = { spent: 0n, reserved: 0n, leases: new Map(), nextExpiryMs: Infinity, expireAtMs: undefined };
      this.#counters.set(ref.key, counter);
    }
    if (ref.expireAtMs !== undefined) counter.expireAtMs = ref.expireAtMs;
    return counter;
  }

  #reclaim(counter: Counter, now: number): void {
    let next = Infinity;
    for (const [id, lease] of counter.leases) {
      if (lease.expiresAtMs <= now) {
        counter.reserved -= lease.amount;
        counter.leases.delete(id);
      } else {
        next = Math.min(next, lease.expiresAtMs);
      }
    }
    counter.nextExpiryMs = next;
  }

  #dropLease(counter: Counter, leaseId: string): boolean {
    const lease = counter.leases.get(leaseId);
    if (!lease) return false;
    counter.reserved -= lease.amount;
    counter.leases.delete(leaseId);
    return true;
  }

  #states(refs: readonly BudgetCounterRef[], now: number): CounterState[] {
    return refs.map((ref) => {
      const counter = this.#live(ref.key, now);
      return { key: ref.key, spent: counter?.spent ?? 0n, reserved: counter?.reserved ?? 0n, limit: ref.limit };
    });
  }

  /** Lease records are mostly inserted in expiry order, so sweeping from the front is cheap. */
  #forgetOldLeases(now: number): void {
    for (const [id, record] of this.#leaseStates) {
      if (record.untilMs > now) break;
      this.#leaseStates.delete(id);
    }
  }
}
