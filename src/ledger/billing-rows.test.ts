import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BillingRow } from './billing-rows.js';
import type { LedgerStore } from './kysely-store.js';
import { ledgerDialects, type LedgerTarget } from './testing/dialects.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-08-01T00:00:00Z');

function row(over: Partial<BillingRow> = {}): BillingRow {
  return {
    source: 'openai-costs',
    provider: 'openai',
    account_id: 'proj_a',
    start_ms: T0,
    end_ms: T0 + DAY,
    row_key: 'gpt-4o, input|',
    model: 'gpt-4o',
    bucket: 'input',
    service_tier: null,
    batch: false,
    quantity: 1_000_000n,
    amount_nano: 2_500_000_000n,
    currency: 'USD',
    charge_category: 'Usage',
    description: 'gpt-4o, input',
    tenant: 'acme',
    project: null,
    file: 'a.json',
    position: '$.data[0].results[0]',
    ...over,
  };
}

const day2 = (over: Partial<BillingRow> = {}): BillingRow => row({ start_ms: T0 + DAY, end_ms: T0 + 2 * DAY, ...over });

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(
    `billing rows [${dialect.name}]${dialect.skip ? ` — ${dialect.skip}` : ''}`,
    () => {
      let target: LedgerTarget;
      let store: LedgerStore;
      const range = { from: new Date(T0), to: new Date(T0 + 10 * DAY) };

      beforeEach(async () => {
        target = await dialect.target();
        store = await target.open();
      });
      afterEach(async () => {
        await target.dispose();
      });

      it('stores every field exactly and reads it back; re-import changes nothing', async () => {
        const rows = [
          row(),
          row({ row_key: 'k2', bucket: null, quantity: null, amount_nano: -5n, tenant: null }),
          day2(),
        ];
        expect(await store.importBillingRows({ importId: 'i1', rows })).toEqual({
          imported: 3,
          replaced: 0,
          duplicates: 0,
        });
        const stored = await store.queryBillingRows(range);
        expect(stored).toHaveLength(3);
        expect(stored[0]).toMatchObject({ ...rows[0], import_id: 'i1' });
        expect(stored[1]).toMatchObject({
          row_key: 'k2',
          bucket: null,
          quantity: null,
          amount_nano: -5n,
          tenant: null,
        });
        expect(await store.importBillingRows({ importId: 'i2', rows })).toEqual({
          imported: 0,
          replaced: 0,
          duplicates: 3,
        });
        expect((await store.queryBillingRows(range)).map((r) => r.import_id)).toEqual(['i1', 'i1', 'i1']);
      });

      it('a corrected re-export of one day replaces that day of that account only', async () => {
        await store.importBillingRows({
          importId: 'i1',
          rows: [row(), row({ row_key: 'gone' }), day2(), row({ account_id: 'proj_b' })],
        });
        const result = await store.importBillingRows({
          importId: 'i2',
          rows: [row({ amount_nano: 2_600_000_000n }), row({ row_key: 'new' })],
        });
        expect(result).toEqual({ imported: 2, replaced: 2, duplicates: 0 });
        const stored = await store.queryBillingRows(range);
        expect(stored.map((r) => [r.account_id, r.start_ms - T0, r.row_key, r.amount_nano, r.import_id])).toEqual([
          ['proj_a', 0, 'gpt-4o, input|', 2_600_000_000n, 'i2'],
          ['proj_a', 0, 'new', 2_500_000_000n, 'i2'],
          ['proj_b', 0, 'gpt-4o, input|', 2_500_000_000n, 'i1'],
          ['proj_a', DAY, 'gpt-4o, input|', 2_500_000_000n, 'i1'],
        ]);
        expect(await store.queryBillingRows({ ...range, provider: 'anthropic' })).toEqual([]);
      });

      it('imports nothing when any row fails (one transaction)', async () => {
        const rows = Array.from({ length: 450 }, (_, i) => row({ row_key: `k${i}` }));
        rows[420] = row({ row_key: 'huge', amount_nano: 2n ** 70n });
        await expect(store.importBillingRows({ importId: 'i1', rows })).rejects.toThrow();
        expect(await store.queryBillingRows(range)).toEqual([]);
        await expect(store.importBillingRows({ importId: 'i1', rows: [row({ end_ms: T0 })] })).rejects.toThrow(
          /end after it starts/,
        );
      });
    },
  );
}
