import { describe, expect, it } from 'vitest';
import { thrownBy } from '../testing/errors.js';
import { parseConfig } from './index.js';

const pool = {
  name: 'h100-east',
  gpus: 8,
  rates: [{ from: '2026-10-01', usd_per_gpu_hour: 2.99 }],
  serves: ['acme-vllm'],
  capacity: { output_tokens_per_s: 12000 },
};

/** The chargeback sections: defaults, exact decimals and the path of every bad field. */
describe('gpu_pools, shared_costs and plans', () => {
  it('parses the DESIGN example with defaults, keeping amounts as exact decimal strings', () => {
    const config = parseConfig({
      gpu_pools: [pool],
      shared_costs: [{ name: 'observability', usd: 1200, from: '2026-10-01', tenants: ['acme', 'beta'] }],
      plans: [
        { tenant: 'acme', markup_pct: 20 },
        { tenant: 'beta', rates: [{ model: 'gpt-4o*', input: 3.0, output: 12 }] },
      ],
    });
    expect(config.gpu_pools[0]).toMatchObject({
      output_weight: '4',
      idle: 'line',
      rates: [{ usd_per_gpu_hour: '2.99', pricing: 'on_demand' }],
      capacity: { output_tokens_per_s: '12000', input_tokens_per_s: '0' },
    });
    expect(config.shared_costs[0]).toMatchObject({ usd: '1200', per: 'month', allocate: 'by_cost' });
    expect(config.plans[0]!.markup_pct).toBe('20');
  });

  it.each([
    [{ gpu_pools: [{ ...pool, gpus: 0 }] }, 'gpu_pools[0].gpus'],
    [{ gpu_pools: [{ ...pool, rates: [] }] }, 'gpu_pools[0].rates'],
    [
      {
        gpu_pools: [
          {
            ...pool,
            rates: [
              { from: '2026-10-02', usd_per_gpu_hour: 1 },
              { from: '2026-10-01', usd_per_gpu_hour: 2 },
            ],
          },
        ],
      },
      'gpu_pools[0].rates[1].from',
    ],
    [
      { gpu_pools: [{ ...pool, rates: [{ from: '2026-10-01', usd_per_gpu_hour: -1 }] }] },
      'gpu_pools[0].rates[0].usd_per_gpu_hour',
    ],
    [{ gpu_pools: [pool, { ...pool, name: 'other' }] }, 'gpu_pools[1].serves[0]'],
    [{ gpu_pools: [pool, { ...pool, serves: ['x'] }] }, 'gpu_pools[1].name'],
    [{ gpu_pools: [{ ...pool, idle: 'sometimes' }] }, 'gpu_pools[0].idle'],
    [{ gpu_pools: [{ ...pool, to: '2026-09-01' }] }, 'gpu_pools[0].to'],
    [{ shared_costs: [{ name: 'x', usd: '1.2345678901', from: '2026-10-01' }] }, 'shared_costs[0].usd'],
    [
      { shared_costs: [{ name: 'x', usd: 1, from: '2026-10-01', allocate: { fixed: { acme: 0 } } }] },
      'shared_costs[0].allocate.fixed',
    ],
    [{ shared_costs: [{ name: 'x', usd: 1, from: '2026-10-01', to: '2026-09-01' }] }, 'shared_costs[0].to'],
    [{ plans: [{ tenant: 'acme' }, { tenant: 'acme', markup_pct: 5 }] }, 'plans[1].tenant'],
    [{ plans: [{ tenant: 'acme', rates: [{ model: 'gpt-4o', input: 'cheap' }] }] }, 'plans[0].rates[0].input'],
  ])('refuses %j at %s', (sections, param) => {
    const err = thrownBy(() => parseConfig(sections));
    expect(err.code).toBe('config_invalid');
    expect(err.param).toBe(param);
  });
});
