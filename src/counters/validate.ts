/**
 * Input checks shared by both backends, so a bad call fails the same way whichever store is
 * configured — and before a Redis script sees a number it cannot hold exactly.
 */
import { invalidInput, PertokenError } from '../errors.js';
import {
  MAX_COUNTER_NANO,
  type BudgetCounterRef,
  type LeaseRef,
  type RateTicket,
  type ReserveRequest,
  type TakeRequest,
} from './types.js';

/** Enough for every budget scope of a request (tenant, project, key, user, feature, …). */
export const MAX_COUNTERS_PER_CALL = 64;
const MAX_NAME_LENGTH = 512;

/** The error a `closed` call raises when the store is unreachable; `cause` is an error or a sentence. */
export function countersUnavailable(cause?: unknown): PertokenError {
  const detail = cause instanceof Error ? `: ${cause.message}` : typeof cause === 'string' ? `: ${cause}` : '';
  return new PertokenError(
    'counters_unavailable',
    `shared counters (Redis) are unavailable; refusing because this limit is configured fail-closed${detail}`,
    { headers: { 'retry-after': '1' }, cause },
  );
}

/** True for the error an unreachable store raises (whatever the caller does with it next). */
export function isCountersUnavailable(err: unknown): err is PertokenError {
  return err instanceof PertokenError && err.code === 'counters_unavailable';
}

function checkName(value: string, param: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) {
    throw invalidInput(param, `${param} must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
  }
}

export function checkNano(value: bigint, param: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_COUNTER_NANO) {
    throw invalidInput(param, `${param} must be a bigint between 0 and ${MAX_COUNTER_NANO} nano-USD`);
  }
}

function checkDistinct(keys: readonly string[], param: string): void {
  if (keys.length === 0 || keys.length > MAX_COUNTERS_PER_CALL) {
    throw invalidInput(param, `${param} must hold 1 to ${MAX_COUNTERS_PER_CALL} entries`);
  }
  keys.forEach((key, i) => checkName(key, `${param}[${i}].key`));
  if (new Set(keys).size !== keys.length) throw invalidInput(param, `${param} keys must be distinct`);
}

export function checkCounters(counters: readonly BudgetCounterRef[], param = 'counters'): void {
  if (!Array.isArray(counters)) throw invalidInput(param, `${param} must be an array`);
  checkDistinct(
    counters.map((c) => c.key),
    param,
  );
  counters.forEach((c, i) => {
    if (c.limit !== null) checkNano(c.limit, `${param}[${i}].limit`);
    if (c.expireAtMs !== undefined && !Number.isSafeInteger(c.expireAtMs)) {
      throw invalidInput(`${param}[${i}].expireAtMs`, `${param}[${i}].expireAtMs must be an integer epoch ms`);
    }
  });
}

export function checkReserve(request: ReserveRequest): void {
  checkName(request.leaseId, 'leaseId');
  checkCounters(request.counters);
  checkNano(request.amount, 'amount');
  if (request.amounts !== undefined) checkPerCounter(request.amounts, request.counters.length, 'amounts');
  if (!Number.isSafeInteger(request.ttlMs) || request.ttlMs <= 0) {
    throw invalidInput('ttlMs', 'ttlMs must be a positive integer');
  }
}

/** A per-counter list: one valid amount per counter, in the counters' order. */
function checkPerCounter(amounts: readonly bigint[], counters: number, param: string): void {
  if (!Array.isArray(amounts) || amounts.length !== counters) {
    throw invalidInput(param, `${param} must hold one amount per counter (${counters})`);
  }
  amounts.forEach((a, i) => checkNano(a, `${param}[${i}]`));
}

/** The amount each counter reserves: its own, or the request's. */
export function reserveAmounts(request: ReserveRequest): bigint[] {
  return request.amounts ? [...request.amounts] : request.counters.map(() => request.amount);
}

/** Checks a settle's actual amount(s) and returns one per counter of the lease. */
export function settleAmounts(lease: LeaseRef, actual: bigint | readonly bigint[]): bigint[] {
  if (typeof actual === 'bigint') {
    checkNano(actual, 'actual');
    return lease.counters.map(() => actual);
  }
  checkPerCounter(actual, lease.counters.length, 'actual');
  return [...actual];
}

export function checkLease(lease: LeaseRef): void {
  checkName(lease.id, 'lease.id');
  checkCounters(lease.counters, 'lease.counters');
}

export function checkTake(request: TakeRequest): void {
  checkName(request.id, 'id');
  checkDistinct(
    request.limits.map((l) => l.key),
    'limits',
  );
  request.limits.forEach((l, i) => {
    if (!Number.isSafeInteger(l.limit) || l.limit <= 0) {
      throw invalidInput(`limits[${i}].limit`, 'limit must be a positive integer');
    }
    if (!Number.isSafeInteger(l.windowMs) || l.windowMs <= 0) {
      throw invalidInput(`limits[${i}].windowMs`, 'windowMs must be a positive integer');
    }
    if (!Number.isSafeInteger(l.cost) || l.cost < 0) {
      throw invalidInput(`limits[${i}].cost`, 'cost must be a non-negative integer');
    }
  });
}

export function checkAdjust(ticket: RateTicket, changes: readonly { key: string; cost: number }[]): void {
  checkName(ticket.id, 'ticket.id');
  changes.forEach((c, i) => {
    if (!Number.isSafeInteger(c.cost) || c.cost < 0) {
      throw invalidInput(`changes[${i}].cost`, 'cost must be a non-negative integer');
    }
  });
}
