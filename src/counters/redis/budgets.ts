/** The budget ledger on Redis: argument packing and reply parsing around budget-scripts.ts. */
import { LEASE_RECORD_GRACE_MS } from '../constants.js';
import type {
  BudgetCounterRef,
  BudgetLedger,
  CounterState,
  Lease,
  LeaseRef,
  ReleaseResult,
  ReserveRequest,
  ReserveResult,
  SettleResult,
} from '../types.js';
import {
  checkCounters,
  checkLease,
  checkNano,
  checkReserve,
  isCountersUnavailable,
  reserveAmounts,
  settleAmounts,
} from '../validate.js';
import type { RedisConnection } from './connection.js';
import { asArray, asNano, asNumber, asString, malformed } from './replies.js';
import type { WriteQueue } from './write-queue.js';

export class RedisBudgetLedger implements BudgetLedger {
  readonly #connection: RedisConnection;
  readonly #queue: WriteQueue;
  readonly #prefix: string;

  constructor(connection: RedisConnection, queue: WriteQueue, prefix: string) {
    this.#connection = connection;
    this.#queue = queue;
    this.#prefix = prefix;
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    checkReserve(request);
    const amounts = reserveAmounts(request);
    const lease: Lease = { id: request.leaseId, counters: request.counters, amount: request.amount, amounts };
    const keys = [this.#leaseKey(request.leaseId), ...this.#counterKeys(request.counters)];
    const args = [request.leaseId, String(request.ttlMs), String(LEASE_RECORD_GRACE_MS)];
    request.counters.forEach((ref, i) =>
      args.push(ref.limit?.toString() ?? '', expireArg(ref), (amounts[i] as bigint).toString()),
    );
    let reply: unknown[];
    try {
      reply = asArray(await this.#connection.run((c) => c.ptReserve(keys.length, ...keys, ...args)), 'reserve');
    } catch (err) {
      this.#connection.admitOrRefuse(err, request.failMode);
      return { ok: true, lease, counters: [], replayed: false, failedOpen: true };
    }
    const outcome = asString(reply[0], 'reserve outcome');
    if (outcome === 'refused') {
      const index = asNumber(reply[1], 'reserve index') - 1;
      const ref = request.counters[index]!;
      return {
        ok: false,
        key: ref.key,
        spent: asNano(reply[2], 'spent'),
        reserved: asNano(reply[3], 'reserved'),
        limit: ref.limit ?? 0n,
        amount: amounts[index] as bigint,
      };
    }
    const counters = parseStates(request.counters, reply[1]);
    return { ok: true, lease, counters, replayed: outcome === 'replayed', failedOpen: false };
  }

  async settle(lease: LeaseRef, actual: bigint | readonly bigint[]): Promise<SettleResult> {
    checkLease(lease);
    const actuals = settleAmounts(lease, actual);
    try {
      return await this.#settleNow(lease, actuals);
    } catch (err) {
      if (!isCountersUnavailable(err)) throw err;
      const queued = this.#queue.push(() => this.#settleNow(lease, actuals));
      return { outcome: queued ? 'queued' : 'dropped', counters: [] };
    }
  }

  async release(lease: LeaseRef): Promise<ReleaseResult> {
    checkLease(lease);
    try {
      return await this.#releaseNow(lease);
    } catch (err) {
      if (!isCountersUnavailable(err)) throw err;
      const queued = this.#queue.push(() => this.#releaseNow(lease));
      return { outcome: queued ? 'queued' : 'dropped' };
    }
  }

  async status(counters: readonly BudgetCounterRef[]): Promise<CounterState[]> {
    checkCounters(counters);
    const keys = this.#counterKeys(counters);
    const reply = await this.#connection.run((c) => c.ptStatus(keys.length, ...keys));
    return parseStates(counters, reply);
  }

  async seed(entries: readonly { counter: BudgetCounterRef; spent: bigint }[]): Promise<string[]> {
    const refs = entries.map((e) => e.counter);
    checkCounters(refs);
    entries.forEach((e, i) => checkNano(e.spent, `entries[${i}].spent`));
    const keys = this.#counterKeys(refs);
    const args = entries.flatMap((e) => [e.spent.toString(), expireArg(e.counter)]);
    const reply = asArray(await this.#connection.run((c) => c.ptSeed(keys.length, ...keys, ...args)), 'seed');
    return reply.map((index) => refs[asNumber(index, 'seed index') - 1]!.key);
  }

  async #settleNow(lease: LeaseRef, actuals: readonly bigint[]): Promise<SettleResult> {
    const keys = [this.#leaseKey(lease.id), ...this.#counterKeys(lease.counters)];
    const args = [lease.id, String(LEASE_RECORD_GRACE_MS)];
    lease.counters.forEach((ref, i) => args.push(expireArg(ref), (actuals[i] as bigint).toString()));
    const reply = asArray(await this.#connection.run((c) => c.ptSettle(keys.length, ...keys, ...args)), 'settle');
    const outcome = asString(reply[0], 'settle outcome');
    if (outcome === 'duplicate') return { outcome, counters: [] };
    if (outcome !== 'settled' && outcome !== 'expired') throw malformed('settle outcome', outcome);
    return { outcome, counters: parseStates(lease.counters, reply[1]) };
  }

  async #releaseNow(lease: LeaseRef): Promise<ReleaseResult> {
    const keys = [this.#leaseKey(lease.id), ...this.#counterKeys(lease.counters)];
    const reply = await this.#connection.run((c) =>
      c.ptRelease(keys.length, ...keys, lease.id, String(LEASE_RECORD_GRACE_MS)),
    );
    const outcome = asString(reply, 'release outcome');
    if (outcome !== 'released' && outcome !== 'absent' && outcome !== 'duplicate') {
      throw malformed('release outcome', outcome);
    }
    return { outcome };
  }

  #leaseKey(id: string): string {
    return `${this.#prefix}lease:${id}`;
  }

  /** (hash, zset) per counter, the order every budget script expects. */
  #counterKeys(counters: readonly BudgetCounterRef[]): string[] {
    return counters.flatMap((ref) => [`${this.#prefix}b:${ref.key}`, `${this.#prefix}b:${ref.key}:x`]);
  }
}

function expireArg(ref: BudgetCounterRef): string {
  return ref.expireAtMs === undefined ? '' : String(ref.expireAtMs);
}

/** Flat [spent, reserved, spent, reserved, …] strings into states, in the refs' order. */
function parseStates(refs: readonly BudgetCounterRef[], value: unknown): CounterState[] {
  const flat = asArray(value, 'states');
  return refs.map((ref, i) => ({
    key: ref.key,
    spent: asNano(flat[2 * i], 'spent'),
    reserved: asNano(flat[2 * i + 1], 'reserved'),
    limit: ref.limit,
  }));
}
