import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../../ledger/kysely-store.js';
import { ledgerDialects, type LedgerTarget } from '../../ledger/testing/dialects.js';
import { createPriceBook } from '../../pricing/index.js';
import { parseThreshold, reconcile, summarize, type ReconciliationJson, type ReconciliationRow } from './index.js';
import { bill, D, DAY, DAY_MS, metered } from './testing/fixtures.js';

const book = createPriceBook();
const window = { from: new Date(D), to: new Date(D + 2 * DAY_MS), threshold: parseThreshold(null, 't') };

function only(result: ReconciliationJson, tenant: string | null, day = DAY): ReconciliationRow[] {
  return result.rows.filter((r) => r.tenant === tenant && r.day === day);
}

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(
    `reconciliation [${dialect.name}]${dialect.skip ? ` — ${dialect.skip}` : ''}`,
    () => {
      let target: LedgerTarget;
      let store: LedgerStore;

      beforeEach(async () => {
        target = await dialect.target();
        store = await target.open();
      });
      afterEach(async () => {
        await target.dispose();
      });

      it('explains each kind of gap, one scenario per tenant', async () => {
        await store.insertEvents([
          // an exact day, billed under the family name gpt-4o
          metered('t-match', { buckets: { input: 1_000_000, output: 100_000 }, cost_nano: 3_500_000_000n }),
          metered('t-bypass', { buckets: { input: 100_000 }, usd: '0.25' }),
          metered('t-price'),
          metered('t-batch'),
          metered('t-night', { time: new Date(D + DAY_MS - 10 * 60_000) }),
          metered('t-est', { buckets: { input: 900_000 }, usd: '2.25', usage_source: 'estimated' }),
          metered('t-unpriced', { usd: null }),
          metered('t-odd'),
        ]);
        await store.importBillingRows({
          importId: 'i1',
          rows: [
            bill({ tenant: 't-match' }),
            bill({ tenant: 't-match', bucket: 'output', quantity: 100_000n, usd: '1' }),
            bill({ tenant: 't-bypass' }),
            bill({ tenant: 't-price', usd: '3' }),
            bill({ tenant: 't-batch', usd: '1.25', batch: true, service_tier: 'batch' }),
            bill({
              tenant: 't-credit',
              model: null,
              bucket: null,
              quantity: null,
              usd: '-5',
              charge_category: 'Credit',
              description: 'promo',
            }),
            bill({ tenant: 't-night', start_ms: D + DAY_MS }),
            bill({ tenant: 't-est' }),
            bill({ tenant: 't-unpriced' }),
            bill({ tenant: null, project: null, account_id: 'proj_stray', usd: '4' }),
            bill({ tenant: 't-odd', quantity: 500_000n, usd: '7' }),
          ],
        });
        const result = await reconcile(store, book, window);
        const code = (tenant: string | null, day = DAY): string[] =>
          only(result, tenant, day).map((r) => r.explanation.code);

        expect(only(result, 't-match')).toMatchObject([
          {
            model: 'gpt-4o-2024-08-06',
            bucket: 'input',
            metered_usd: '2.500000000',
            billed_usd: '2.500000000',
            delta_usd: '0.000000000',
            delta_pct: 0,
          },
          {
            model: 'gpt-4o-2024-08-06',
            bucket: 'output',
            metered_tokens: 100_000,
            billed_tokens: 100_000,
            delta_pct: 0,
          },
        ]);
        expect(code('t-match')).toEqual(['match', 'match']);
        expect(only(result, 't-match')[0]!.explanation.detail).toContain('billed gpt-4o ~ metered gpt-4o-2024-08-06');

        expect(code('t-bypass')).toEqual(['bypass']);
        expect(only(result, 't-bypass')[0]!.explanation).toMatchObject({ unseen_tokens: 900_000 });

        const price = only(result, 't-price')[0]!;
        expect(price).toMatchObject({ delta_usd: '0.500000000', delta_pct: 20 });
        expect(price.explanation).toMatchObject({
          code: 'price_mismatch',
          metered_usd_per_unit: '2.5',
          billed_usd_per_unit: '3',
          override: { provider: 'openai', model: 'gpt-4o-2024-08-06', from: DAY, input: '3', output: '10' },
        });
        expect(price.explanation.detail).toContain(
          'prices: - { provider: openai, model: gpt-4o-2024-08-06, from: 2026-11-10',
        );

        expect(code('t-batch')).toEqual(['batch_discount']);
        expect(only(result, 't-credit')).toMatchObject([{ model: null, bucket: null, billed_usd: '-5.000000000' }]);
        expect(code('t-credit')).toEqual(['credit']);
        expect(only(result, 't-credit')[0]!.explanation.detail).toContain(
          'pertoken adjust --tenant t-credit --amount -5.000000000',
        );

        expect(code('t-night')).toEqual(['day_boundary']);
        expect(code('t-night', '2026-11-11')).toEqual(['day_boundary']);
        expect(only(result, 't-night')[0]!.explanation).toMatchObject({ paired_day: '2026-11-11' });

        expect(code('t-est')).toEqual(['estimated_usage']);
        expect(code('t-unpriced')).toEqual(['unpriced']);
        expect(only(result, 't-unpriced')[0]!.explanation.detail).toContain('pertoken reprice --provider openai');

        expect(code(null)).toEqual(['billing_only']);
        expect(only(result, null)[0]!.explanation.detail).toContain('project_id: proj_stray');

        expect(code('t-odd')).toEqual(['unexplained']);

        expect(result.status).toBe('gaps');
        expect(result.totals).toMatchObject({ unexplained: 1, codes: { match: 2, day_boundary: 2, unexplained: 1 } });
        expect(result.totals.not_imported).toEqual([]);

        // A read key's view: its tenant only, no unmapped rows.
        const scoped = await reconcile(store, book, { ...window, tenant: 't-price' });
        expect(scoped.rows.map((r) => r.tenant)).toEqual(['t-price']);

        const summary = summarize(result);
        expect(summary.months).toHaveLength(1);
        expect(summary.months[0]).toMatchObject({ month: '2026-11', provider: 'openai', unexplained: 1 });
        expect(summary.months[0]!.explained_pct).toBeGreaterThan(0);
        expect(summary.months[0]!.explained_pct).toBeLessThan(100);
      });

      it('an exact window is ok; a provider with no bill imported is listed, not compared', async () => {
        await store.insertEvents([
          metered('acme'),
          metered('acme', { provider: 'anthropic', model: 'claude-sonnet-4-5', requested_model: 'claude-sonnet-4-5' }),
        ]);
        await store.importBillingRows({ importId: 'i1', rows: [bill()] });
        const result = await reconcile(store, book, window);
        expect(result.status).toBe('ok');
        expect(result.rows.map((r) => [r.provider, r.explanation.code])).toEqual([['openai', 'match']]);
        expect(result.totals.not_imported).toEqual([{ provider: 'anthropic', days: [DAY] }]);
        // The threshold decides: a 0.4 % gap matches at 0.5 %, not at 0.1 %.
        await store.importBillingRows({ importId: 'i2', rows: [bill({ row_key: 'fix', usd: '2.49' })] });
        const tight = await reconcile(store, book, { ...window, threshold: parseThreshold('0.1', 't') });
        expect(tight.status).toBe('gaps');
      });

      it('tokens from the usage report and money from the cost report combine per key, neither counted twice', async () => {
        await store.insertEvents([metered('acme'), metered('acme', { id: 'second' })]);
        await store.importBillingRows({
          importId: 'i1',
          rows: [
            bill({ source: 'openai-usage', amount_nano: null, quantity: 2_000_000n }),
            bill({ usd: '5', quantity: 2_000_000n }),
            // a FOCUS export of the same bill: the provider's own report wins, FOCUS is not added
            bill({ source: 'focus', usd: '5', quantity: 2_000_000n }),
          ],
        });
        const result = await reconcile(store, book, window);
        expect(result.rows).toMatchObject([
          {
            metered_tokens: 2_000_000,
            billed_tokens: 2_000_000,
            metered_usd: '5.000000000',
            billed_usd: '5.000000000',
          },
        ]);
        expect(result.status).toBe('ok');
      });

      it('the same cut below list across models is a negotiated discount; usage-only bills compare tokens', async () => {
        await store.insertEvents([
          metered('acme', { buckets: { input: 1_000_000, output: 100_000 }, cost_nano: 3_500_000_000n }),
          metered('acme', {
            model: 'gpt-4o-mini-2024-07-18',
            requested_model: 'gpt-4o-mini',
            buckets: { input: 1_000_000 },
            usd: '0.15',
          }),
        ]);
        await store.importBillingRows({
          importId: 'i1',
          rows: [
            bill({ usd: '2.25' }),
            bill({ bucket: 'output', quantity: 100_000n, usd: '0.9' }),
            bill({ model: 'gpt-4o-mini-2024-07-18', usd: '0.135' }),
          ],
        });
        const result = await reconcile(store, book, window);
        expect(result.rows.map((r) => r.explanation.code)).toEqual([
          'negotiated_discount',
          'negotiated_discount',
          'negotiated_discount',
        ]);
        expect(result.rows[0]!.explanation).toMatchObject({ discount_pct: '10' });
        expect(result.rows[0]!.explanation.detail).toContain('discount_pct: 10');

        // A usage report only (no money): compared on tokens, billed_usd unknown.
        await store.importBillingRows({
          importId: 'i2',
          rows: [
            bill({
              source: 'openai-usage',
              start_ms: D + DAY_MS,
              amount_nano: null,
              quantity: 2_000_000n,
              currency: null,
            }),
          ],
        });
        await store.insertEvents([metered('acme', { time: new Date(D + DAY_MS + 3_600_000) })]);
        const next = await reconcile(store, book, { ...window, from: new Date(D + DAY_MS) });
        expect(next.rows).toMatchObject([
          {
            bucket: 'input',
            metered_tokens: 1_000_000,
            billed_tokens: 2_000_000,
            billed_usd: null,
            delta_usd: null,
            delta_pct: 100,
          },
        ]);
        expect(next.rows[0]!.explanation.code).toBe('bypass');
      });
    },
  );
}
