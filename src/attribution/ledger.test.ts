import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../ledger/index.js';
import { ledgerDialects, type LedgerTarget } from '../ledger/testing/dialects.js';
import { makeEvent } from '../ledger/testing/fixtures.js';
import { parseUsd } from '../money.js';
import { createPriceBook } from '../pricing/index.js';
import { AttributionService } from './service.js';
import { attributionConfig } from './testing/usage.js';

/** Attribution over the real ledger, on every dialect in DIALECTS: rollups, adjustments and all. */

const config = attributionConfig({
  gpu_pools: [
    {
      name: 'h100-east',
      gpus: 8,
      rates: [
        { from: '2026-10-01', usd_per_gpu_hour: 2.99, pricing: 'reserved' },
        { from: '2026-10-16', usd_per_gpu_hour: '1.99', pricing: 'on_demand' },
      ],
      serves: ['acme-vllm'],
      capacity: { output_tokens_per_s: 12000, input_tokens_per_s: 50000 },
      idle: 'even',
    },
  ],
  shared_costs: [{ name: 'ops', usd: '1000', from: '2026-10-01', allocate: 'by_tokens' }],
  plans: [{ tenant: 'beta', markup_pct: 15, minimum_usd: 2000 }],
});

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(`chargeback over the ledger [${dialect.name}]${dialect.skip ?? ''}`, () => {
    let target: LedgerTarget;
    let store: LedgerStore;

    beforeEach(async () => {
      target = await dialect.target();
      store = await target.open();
    });
    afterEach(async () => {
      await target.dispose();
    });

    it('closes the month exactly: Σ tenants + unallocated = vendor + pools + shared, credits included', async () => {
      const day = (d: number, h = 10) => new Date(Date.UTC(2026, 9, d, h));
      await store.insertEvents([
        makeEvent({ id: 'v1', tenant: 'acme', time: day(2), cost_nano: 3_500_000_000n }),
        makeEvent({ id: 'v2', tenant: 'beta', project: 'support', time: day(20), cost_nano: 1_234_567_891n }),
        makeEvent({
          id: 's1',
          tenant: 'acme',
          provider: 'acme-vllm',
          model: 'llama-3.1-8b',
          time: day(10),
          buckets: { input: 400_000_000, output: 90_000_000 },
          cost_nano: 99_000_000_000n,
        }),
        makeEvent({
          id: 's2',
          tenant: 'beta',
          provider: 'acme-vllm',
          model: 'llama-3.1-8b',
          time: day(25),
          buckets: { input: 700_000_000, cache_read: 10_000_000, output: 300_000_000 },
          cost_nano: 1_000_000_000n,
        }),
        // November: outside the period.
        makeEvent({ id: 'n1', tenant: 'acme', time: new Date('2026-11-01T00:00:00Z'), cost_nano: 777n }),
      ]);
      await store.flush();
      await store.addAdjustment({
        id: 'credit-1',
        time: day(15),
        tenant: 'acme',
        provider: 'openai',
        model: 'gpt-4o-2024-08-06',
        amount_nano: -500_000_000n,
        reason: 'credit',
      });

      const service = new AttributionService({
        store,
        priceBook: createPriceBook(),
        pools: config.gpu_pools,
        sharedCosts: config.shared_costs,
        plans: config.plans,
      });
      const s = await service.chargeback('2026-10');
      // 8 × 360 h × 2.99 + 8 × 384 h × 1.99 = 8611.2 + 6113.28
      expect(s.inputs).toMatchObject({ pools_usd: '14724.480000000', shared_usd: '1000.000000000' });
      // Vendor = v1 + v2 − the credit.
      expect(s.inputs!.vendor_usd).toBe('4.234567891');
      const acme = s.tenants.find((t) => t.tenant === 'acme')!;
      expect(acme.adjustments_usd).toBe('-0.500000000');
      expect(acme.lines.some((l) => l.kind === 'adjustment' && l.cost_usd === '-0.500000000')).toBe(true);
      const carried = s.tenants.reduce((sum, t) => sum + parseUsd(t.cost_usd), 0n);
      expect(carried + parseUsd(s.unallocated!.idle_usd) + parseUsd(s.unallocated!.shared_usd)).toBe(
        parseUsd(s.inputs!.total_usd),
      );
      // idle: even — nothing is left unallocated while someone used the pool in each rate period.
      expect(s.unallocated!.idle_usd).toBe('0.000000000');
      const beta = s.tenants.find((t) => t.tenant === 'beta')!;
      expect(parseUsd(beta.charge_usd)).toBeGreaterThanOrEqual(parseUsd('2000'));

      const pools = await service.poolsReport({ from: new Date('2026-10-01'), to: new Date('2026-11-01') });
      expect(pools.pools[0]).toMatchObject({ gpu_hours: '5952.000000', cost_usd: '14724.480000000' });
      expect(pools.pools[0]!.events_cost_usd).toBe('100.000000000');
    });
  });
}
