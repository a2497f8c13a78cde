export type {
  BudgetCounterRef,
  BudgetLedger,
  CounterState,
  CounterStats,
  Counters,
  CountersOptions,
  FailMode,
  Lease,
  LeaseRef,
  RateLimiter,
  RateLimitSpec,
  RateState,
  RateTicket,
  ReleaseResult,
  ReserveRequest,
  ReserveResult,
  SettleResult,
  SignalListener,
  Signals,
  TakeRequest,
  TakeResult,
} from './types.js';
export { MAX_COUNTER_NANO } from './types.js';
export { createCounters } from './create.js';
export { rateLimitHeaders, formatResetDuration } from './headers.js';
export { countersUnavailable, isCountersUnavailable } from './validate.js';
