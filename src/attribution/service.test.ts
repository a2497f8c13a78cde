import { describe, expect, it } from 'vitest';
import { createPriceBook } from '../pricing/index.js';
import { AttributionService } from './service.js';
import { attributionConfig } from './testing/usage.js';

const config = attributionConfig({
  gpu_pools: [
    {
      name: 'p',
      gpus: 1,
      rates: [{ from: '2026-10-01', usd_per_gpu_hour: '1' }],
      serves: ['vllm'],
      capacity: { output_tokens_per_s: 100 },
    },
  ],
  shared_costs: [{ name: 'ops', usd: 310, from: '2026-10-01', allocate: 'even' }],
});

function service(now: string): AttributionService {
  return new AttributionService({
    store: { queryCosts: async () => [] },
    priceBook: createPriceBook(),
    pools: config.gpu_pools,
    sharedCosts: config.shared_costs,
    plans: [],
    now: () => new Date(now),
  });
}

describe('AttributionService', () => {
  it('attributes the current month to date: no GPU hours or shared cost from the future', async () => {
    const s = await service('2026-10-11T00:00:00Z').chargeback('2026-10');
    expect(s.to).toBe('2026-10-11T00:00:00.000Z');
    // 240 GPU-hours at $1, and 10 of October's 31 days of $310.
    expect(s.inputs).toMatchObject({ pools_usd: '240.000000000', shared_usd: '100.000000000' });
    const closed = await service('2026-12-01T00:00:00Z').chargeback('2026-10');
    expect(closed.inputs).toMatchObject({ pools_usd: '744.000000000', shared_usd: '310.000000000' });
    const future = await service('2026-09-15T00:00:00Z').chargeback('2026-10');
    expect(future.inputs).toMatchObject({ pools_usd: '0.000000000', shared_usd: '0.000000000' });
  });

  it('refuses a period that is not a month, naming it', async () => {
    await expect(service('2026-12-01T00:00:00Z').chargeback('October')).rejects.toMatchObject({ param: 'period' });
  });
});
