/**
 * Test helpers of the budget alerts (burn rate, thresholds, forecasts): budgets, steady spend as
 * ledger events, and a detector context. Excluded from the build.
 */
import { alertsSchema } from '../../config/index.js';
import type { Budget } from '../../governance/index.js';
import type { LedgerStore, UsageEvent } from '../../ledger/index.js';
import { makeEvent } from '../../ledger/testing/fixtures.js';
import { parseUsd } from '../../money.js';
import type { DetectContext } from '../detect.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** A month budget of tenant acme, $720 in UTC: November (720 hours) paces exactly $1 an hour. */
export function budget(overrides: Partial<Budget> & { id: string }): Budget {
  return {
    scope: { tenant: 'acme' },
    period: 'month',
    tz: 'UTC',
    limit_nano: parseUsd('720'),
    action: 'alert_only',
    downgrade_to: null,
    downgrade_at: 1,
    thresholds: [0.5, 0.8, 1],
    fail_mode: 'open',
    origin: 'config',
    created_at: new Date(0),
    updated_at: new Date(0),
    ...overrides,
  };
}

let seq = 0;

/**
 * `count` events `stepMs` apart from `from`, each costing `usd` (or `usd(i, time)`), tenant acme
 * unless overridden.
 */
export function spend(
  from: string,
  count: number,
  stepMs: number,
  usd: string | ((i: number, time: Date) => string),
  overrides: Partial<UsageEvent> = {},
): UsageEvent[] {
  const start = Date.parse(from);
  return Array.from({ length: count }, (_, i) => {
    const time = new Date(start + i * stepMs);
    return makeEvent({
      id: `spend-${++seq}`,
      time,
      cost_nano: parseUsd(typeof usd === 'string' ? usd : usd(i, time)),
      ...overrides,
    });
  });
}

export async function insert(store: LedgerStore, events: UsageEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 5000) await store.insertEvents(events.slice(i, i + 5000));
}

export function context(store: LedgerStore, at: string, budgets: Budget[]): DetectContext {
  return { at: new Date(at), store, config: alertsSchema.parse({}), budgets };
}
