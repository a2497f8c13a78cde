/** Test helpers for reconciliation (excluded from the build): bill lines and metered events in a few words. */
import type { BillingRow, UsageEvent } from '../../../ledger/index.js';
import { makeEvent } from '../../../ledger/testing/fixtures.js';
import { usdToNano } from '../../../money.js';

export const DAY_MS = 86_400_000;
/** The test day (a Tuesday), UTC midnight. */
export const D = Date.parse('2026-11-10T00:00:00Z');
export const DAY = '2026-11-10';

let n = 0;

/** One openai-costs line of day `start` (default D): model, bucket, tokens and USD. */
export function bill(over: Partial<BillingRow> & { usd?: string } = {}): BillingRow {
  n++;
  const { usd, ...rest } = over;
  const start = rest.start_ms ?? D;
  return {
    source: 'openai-costs',
    provider: 'openai',
    account_id: 'proj_a',
    start_ms: start,
    end_ms: start + DAY_MS,
    row_key: `line-${n}`,
    model: 'gpt-4o',
    bucket: 'input',
    service_tier: null,
    batch: false,
    quantity: 1_000_000n,
    amount_nano: usdToNano(usd ?? '2.5', 'usd'),
    currency: 'usd',
    charge_category: 'Usage',
    description: null,
    tenant: 'acme',
    project: 'p',
    file: 'costs.json',
    position: `$.data[${n}]`,
    ...rest,
  };
}

/** A metered gpt-4o-2024-08-06 event on D at 10:00 (or `time`), its cost given in USD (null: unpriced). */
export function metered(tenant: string, over: Partial<UsageEvent> & { usd?: string | null } = {}): UsageEvent {
  const { usd, ...rest } = over;
  return makeEvent({
    tenant,
    project: 'p',
    time: new Date(D + 10 * 3_600_000),
    buckets: { input: 1_000_000 },
    cost_nano: usd === null ? null : usdToNano(usd ?? '2.5', 'usd'),
    ...(usd === null ? { price_ref: null } : {}),
    ...rest,
  });
}
