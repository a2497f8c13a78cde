import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../../ledger/kysely-store.js';
import { ledgerDialects, type LedgerTarget } from '../../ledger/testing/dialects.js';
import { createPriceBook } from '../../pricing/index.js';
import { applyReconciliation, appliedTotals, parseThreshold, reconcile, type ReconciliationJson } from './index.js';
import { bill, D, DAY, DAY_MS, metered } from './testing/fixtures.js';

const book = createPriceBook();
const window = { from: new Date(D), to: new Date(D + DAY_MS), threshold: parseThreshold(null, 't') };

function codes(result: ReconciliationJson): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of result.rows) (out[r.tenant ?? '-'] ??= []).push(`${r.bucket}:${r.explanation.code}`);
  return out;
}

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(
    `reconcile --apply [${dialect.name}]${dialect.skip ? ` — ${dialect.skip}` : ''}`,
    () => {
      let target: LedgerTarget;
      let store: LedgerStore;

      beforeEach(async () => {
        target = await dialect.target();
        store = await target.open();
        await store.insertEvents([
          // input billed above list, output at list: only the input row is a price gap
          metered('t-price', { buckets: { input: 1_000_000, output: 100_000 }, cost_nano: 3_500_000_000n }),
          metered('t-batch'),
          metered('t-credit'),
          metered('t-bypass', { buckets: { input: 100_000 }, usd: '0.25' }),
          metered('t-odd'),
        ]);
        await store.importBillingRows({
          importId: 'i1',
          rows: [
            bill({ tenant: 't-price', usd: '3' }),
            bill({ tenant: 't-price', bucket: 'output', quantity: 100_000n, usd: '1' }),
            bill({ tenant: 't-batch', usd: '1.25', batch: true }),
            bill({ tenant: 't-credit' }),
            bill({ tenant: 't-credit', quantity: 0n, usd: '-1', charge_category: 'Credit', description: 'promo' }),
            bill({ tenant: 't-bypass' }),
            bill({ tenant: 't-odd', quantity: 500_000n, usd: '7' }),
          ],
        });
      });
      afterEach(async () => {
        await target.dispose();
      });

      it('closes price, batch and credit gaps per bucket; a rerun matches; bypass and unexplained stay', async () => {
        const before = await reconcile(store, book, window);
        expect(codes(before)).toEqual({
          't-batch': ['input:batch_discount'],
          't-bypass': ['input:bypass'],
          't-credit': ['input:credit'],
          't-odd': ['input:unexplained'],
          't-price': ['input:price_mismatch', 'output:match'],
        });

        const result = await applyReconciliation(store, before);
        expect(result.skipped).toBe(2);
        expect(result.applied.map((a) => [a.id, a.amount_usd, a.time])).toEqual([
          [
            `reconcile:${DAY}:input:batch_discount:openai:t-batch:p:gpt-4o-2024-08-06`,
            '-1.250000000',
            `${DAY}T12:00:00.000Z`,
          ],
          [`reconcile:${DAY}:input:credit:openai:t-credit:p:gpt-4o-2024-08-06`, '-1.000000000', `${DAY}T12:00:00.000Z`],
          [
            `reconcile:${DAY}:input:price_mismatch:openai:t-price:p:gpt-4o-2024-08-06`,
            '0.500000000',
            `${DAY}T12:00:00.000Z`,
          ],
        ]);
        expect(result.applied[2]?.reason).toMatch(/^reconcile price_mismatch: tokens agree/);
        expect(appliedTotals(result)).toEqual({
          count: 3,
          total_usd: '-1.750000000',
          codes: {
            price_mismatch: { count: 1, usd: '0.500000000' },
            batch_discount: { count: 1, usd: '-1.250000000' },
            credit: { count: 1, usd: '-1.000000000' },
          },
        });

        const after = await reconcile(store, book, window);
        expect(codes(after)).toEqual({
          't-batch': ['input:match'],
          't-bypass': ['input:bypass'],
          't-credit': ['input:match'],
          't-odd': ['input:unexplained'],
          't-price': ['input:match', 'output:match'],
        });
        const price = after.rows.filter((r) => r.tenant === 't-price');
        expect(price.map((r) => [r.metered_usd, r.delta_usd])).toEqual([
          ['3.000000000', '0.000000000'],
          ['1.000000000', '0.000000000'],
        ]);
        // The ledger's reports show the same adjustments (net = list + adjustments).
        const costs = await store.queryCosts({ ...window, groupBy: ['tenant'], filter: { tenant: 't-price' } });
        expect(costs.map((c) => [c.cost_nano, c.adjustments_nano])).toEqual([[3_500_000_000n, 500_000_000n]]);
      });

      it('a second apply appends nothing, even from the report taken before the first', async () => {
        const before = await reconcile(store, book, window);
        expect((await applyReconciliation(store, before)).applied).toHaveLength(3);
        const again = await applyReconciliation(store, before);
        expect(again).toEqual({ applied: [], skipped: 5 });
        const rerun = await applyReconciliation(store, await reconcile(store, book, window));
        expect(rerun).toEqual({ applied: [], skipped: 2 });
      });
    },
  );
}
