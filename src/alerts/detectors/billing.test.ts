import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bill, D, DAY_MS, metered } from '../../attribution/reconcile/testing/fixtures.js';
import { parseConfig } from '../../config/index.js';
import type { LedgerStore } from '../../ledger/index.js';
import { ledgerDialects, type LedgerTarget } from '../../ledger/testing/dialects.js';
import { createPriceBook } from '../../pricing/index.js';
import { billingDriftDetector } from './billing.js';

const sqlite = (await ledgerDialects()).find((d) => d.name === 'sqlite')!;
const detect = billingDriftDetector(createPriceBook());
const config = parseConfig({}).alerts;

describe('billing drift as a data_quality alert', () => {
  let target: LedgerTarget;
  let store: LedgerStore;
  beforeEach(async () => {
    target = await sqlite.target();
    store = await target.open();
  });
  afterEach(() => target.dispose());

  const at = (ms: number) => ({ at: new Date(ms), store, config, budgets: [] });

  it('raises a ticket per provider and tenant for unexplained gaps and for spend that bypassed the gateway', async () => {
    await store.insertEvents([
      metered('t-match'),
      metered('t-price'),
      metered('t-gap', { buckets: { input: 1_000_000 }, usd: '2.5' }),
    ]);
    await store.importBillingRows({
      importId: 'i1',
      rows: [
        bill({ tenant: 't-match' }),
        bill({ tenant: 't-price', usd: '3' }), // same tokens, another unit price: explained (price_mismatch)
        bill({ tenant: 't-gap', quantity: 600_000n, usd: '4' }), // fewer tokens, more money: nothing explains it
        bill({ tenant: 't-shadow', usd: '7' }), // a tenant pertoken never metered: the provider key used directly
      ],
    });
    const findings = await detect(at(D + DAY_MS + 3_600_000));
    const byVariant = findings.map((f) => [f.kind, f.severity, f.variant, f.scope.tenant]).sort();
    expect(byVariant).toEqual([
      ['data_quality', 'ticket', 'billing:openai', 't-gap'],
      ['data_quality', 'ticket', 'bypass:openai', 't-shadow'],
    ]);
    const gap = findings.find((f) => f.scope.tenant === 't-gap')!;
    expect(gap.value).toBe(1.5);
    expect(gap.summary).toContain('1.500000000 USD unexplained');
  });

  it('looks only at completed days before `at`, so the running day and later bills are not compared', async () => {
    await store.insertEvents([metered('t-gap')]);
    await store.importBillingRows({ importId: 'i1', rows: [bill({ tenant: 't-gap', quantity: 600_000n, usd: '4' })] });
    expect(await detect(at(D + 10 * 3_600_000))).toEqual([]); // the day D is still running
    expect(await detect(at(D + 9 * DAY_MS))).toEqual([]); // aged out of the 7-day window
    expect(await detect(at(D + DAY_MS))).toHaveLength(1);
  });
});
