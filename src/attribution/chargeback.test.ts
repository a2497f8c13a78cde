import { describe, expect, it } from 'vitest';
import { parseUsd } from '../money.js';
import { createPriceBook } from '../pricing/index.js';
import { seededRandom } from '../random.js';
import { attribute } from './attribute.js';
import { compilePools } from './pools.js';
import { buildStatement, type ChargebackJson } from './statement.js';
import { attributionConfig, rowsSource, type TimedRow } from './testing/usage.js';
import { monthWindow, type Window } from './window.js';

const book = createPriceBook();
const OCTOBER = monthWindow('2026-10');

/** gpt-4o at $2.50 / $10 per 1M: 1M input + 100k output = $2.50 + $1.00. */
const GPT4O = { provider: 'openai', model: 'gpt-4o-2024-08-06', tokens: { input: 1_000_000, output: 100_000 } };
const USAGE: TimedRow[] = [
  { at: '2026-10-03T10:00:00Z', tenant: 'acme', project: 'search', ...GPT4O, costNano: 3_500_000_000n },
  { at: '2026-10-04T10:00:00Z', tenant: 'beta', project: 'support', ...GPT4O, costNano: 3_500_000_000n },
  {
    at: '2026-10-05T10:00:00Z',
    tenant: 'gamma',
    provider: 'openai',
    model: 'gpt-4o-mini',
    tokens: { input: 2_000_000 },
    costNano: 300_000_000n,
  },
];

async function statement(sections: Record<string, unknown>, rows = USAGE, window: Window = OCTOBER) {
  const config = attributionConfig(sections);
  const a = await attribute(window, {
    pools: compilePools(config.gpu_pools, []),
    sharedCosts: config.shared_costs,
    priceBook: book,
    usage: rowsSource(rows),
  });
  return buildStatement(a, config.plans, { period: '2026-10' });
}

const tenant = (s: ChargebackJson, id: string) => s.tenants.find((t) => t.tenant === id)!;
const n = (usd: string) => parseUsd(usd);

function identity(s: ChargebackJson): void {
  const carried = s.tenants.reduce((sum, t) => sum + n(t.cost_usd), 0n);
  expect(carried + n(s.unallocated!.idle_usd) + n(s.unallocated!.shared_usd)).toBe(n(s.inputs!.total_usd));
  for (const t of s.tenants) {
    expect(t.lines.reduce((sum, l) => sum + n(l.cost_usd), 0n)).toBe(n(t.cost_usd));
    expect(t.lines.reduce((sum, l) => sum + n(l.charge_usd), 0n)).toBe(n(t.charge_usd));
  }
}

describe('vendor lines', () => {
  it('splits a row’s cost over its buckets at the model’s prices, exactly', async () => {
    const s = await statement({});
    const acme = tenant(s, 'acme');
    expect(acme.lines.map((l) => [l.kind, l.bucket, l.tokens, l.cost_usd])).toEqual([
      ['vendor', 'input', 1_000_000, '2.500000000'],
      ['vendor', 'output', 100_000, '1.000000000'],
    ]);
    expect(acme).toMatchObject({
      basis: 'showback',
      cost_usd: '3.500000000',
      charge_usd: '3.500000000',
      margin_usd: '0.000000000',
    });
    expect(acme.cost_per_mtok_usd).toBe('3.181818182');
    identity(s);
  });
});

describe('shared costs', () => {
  const observability = { name: 'observability', usd: 1200, per: 'month', from: '2026-10-01' };

  it('allocates by cost, by tokens, evenly and by fixed shares, summing to the input exactly', async () => {
    const byCost = await statement({ shared_costs: [{ ...observability, allocate: 'by_cost' }] });
    // Direct costs 3.5 : 3.5 : 0.3 of 7.3 -> 575.342465753 + 575.342465753 + 49.315068493 (+1 nano by remainder)
    expect(tenant(byCost, 'acme').shared_usd).toBe('575.342465754');
    expect(tenant(byCost, 'beta').shared_usd).toBe('575.342465753');
    expect(tenant(byCost, 'gamma').shared_usd).toBe('49.315068493');
    identity(byCost);

    const byTokens = await statement({ shared_costs: [{ ...observability, allocate: 'by_tokens' }] });
    // 1.1M : 1.1M : 2M tokens of 4.2M: 314.285714285|714 twice and 571.428571428|571; the 2 nano
    // left go to the larger remainders (acme, beta), so gamma stays rounded down.
    expect(byTokens.tenants.map((t) => t.shared_usd)).toEqual(['314.285714286', '314.285714286', '571.428571428']);
    identity(byTokens);

    const even = await statement({ shared_costs: [{ ...observability, allocate: 'even' }] });
    expect(even.tenants.map((t) => t.shared_usd)).toEqual(['400.000000000', '400.000000000', '400.000000000']);

    const fixed = await statement({
      shared_costs: [{ ...observability, allocate: { fixed: { acme: 0.6, beta: 0.4 } } }],
    });
    expect(tenant(fixed, 'acme').shared_usd).toBe('720.000000000');
    expect(tenant(fixed, 'beta').shared_usd).toBe('480.000000000');
    expect(tenant(fixed, 'gamma').shared_usd).toBe('0.000000000');
    identity(fixed);
  });

  it('shares among the listed tenants only, and prorates a month by time', async () => {
    const half: Window = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-10-16T00:00:00Z') };
    const s = await statement(
      { shared_costs: [{ ...observability, allocate: 'even', tenants: ['acme', 'beta'] }] },
      USAGE,
      half,
    );
    // 15 of October's 31 days: 1200 × 15 / 31 = 580.645161290
    expect(s.inputs!.shared_usd).toBe('580.645161290');
    expect(tenant(s, 'acme').shared_usd).toBe('290.322580645');
    expect(tenant(s, 'beta').shared_usd).toBe('290.322580645');
    expect(tenant(s, 'gamma').shared_usd).toBe('0.000000000');
    identity(s);
  });

  it('leaves a cost nobody can carry on the unallocated line; a one-off falls in its own period only', async () => {
    const s = await statement(
      {
        shared_costs: [
          { name: 'setup', usd: '99.99', per: 'one_off', from: '2026-10-20' },
          { name: 'later', usd: '10', per: 'one_off', from: '2026-11-02' },
        ],
      },
      [],
    );
    expect(s.inputs!.shared_usd).toBe('99.990000000');
    expect(s.unallocated!.shared_usd).toBe('99.990000000');
    expect(s.tenants).toEqual([]);
  });
});

describe('plans: charge and margin', () => {
  it('cost-plus markup', async () => {
    const s = await statement({ plans: [{ tenant: 'acme', markup_pct: '12.5' }] });
    expect(tenant(s, 'acme')).toMatchObject({
      basis: 'plan',
      cost_usd: '3.500000000',
      charge_usd: '3.937500000',
      margin_usd: '0.437500000',
    });
    expect(tenant(s, 'beta').charge_usd).toBe('3.500000000');
    identity(s);
  });

  it('a rate card per model glob and bucket (resale); lines it does not price fall back to the markup', async () => {
    const s = await statement({
      plans: [{ tenant: 'beta', markup_pct: 10, rates: [{ model: 'gpt-4o-2024*', input: '3.00', output: 12 }] }],
      shared_costs: [{ name: 'ops', usd: 100, from: '2026-10-01', allocate: { fixed: { beta: 1 } } }],
    });
    const beta = tenant(s, 'beta');
    expect(beta.lines.map((l) => [l.kind, l.bucket ?? l.model, l.charge_usd])).toEqual([
      ['vendor', 'input', '3.000000000'],
      ['vendor', 'output', '1.200000000'],
      ['shared', 'ops', '110.000000000'],
    ]);
    expect(beta).toMatchObject({ cost_usd: '103.500000000', charge_usd: '114.200000000', margin_usd: '10.700000000' });
    identity(s);
  });

  it('consumes an included allowance line by line in statement order, then tops up to the minimum', async () => {
    const s = await statement({ plans: [{ tenant: 'acme', included_usd: 3, minimum_usd: 5 }] });
    const acme = tenant(s, 'acme');
    expect(acme.lines.map((l) => [l.kind, l.bucket ?? l.model, l.included_usd, l.charge_usd])).toEqual([
      ['vendor', 'input', '2.500000000', '0.000000000'],
      ['vendor', 'output', '0.500000000', '0.500000000'],
      ['minimum', 'minimum', '0.000000000', '4.500000000'],
    ]);
    expect(acme).toMatchObject({ cost_usd: '3.500000000', charge_usd: '5.000000000', margin_usd: '1.500000000' });
    identity(s);
  });

  it('narrows a statement to one tenant without showing the unallocated or the inputs', async () => {
    const config = attributionConfig({});
    const a = await attribute(OCTOBER, { pools: [], sharedCosts: [], priceBook: book, usage: rowsSource(USAGE) });
    const s = buildStatement(a, config.plans, { tenant: 'beta' });
    expect(s.tenants.map((t) => t.tenant)).toEqual(['beta']);
    expect(s.totals.cost_usd).toBe('3.500000000');
    expect(s.unallocated).toBeNull();
    expect(s.inputs).toBeNull();
  });
});

describe('the identity over random ledgers (property)', () => {
  it('Σ tenants cost + unallocated = vendor + pools + shared, to the nano-USD, for 200 random ledgers', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = seededRandom(seed);
      const int = (max: number) => Math.floor(rnd() * max);
      const tenants = ['acme', 'beta', 'gamma', 'delta'].slice(0, 1 + int(4));
      const providers = ['openai', 'anthropic', 'vllm-a', 'vllm-b'];
      const rows: TimedRow[] = Array.from({ length: int(40) }, () => ({
        at: new Date(OCTOBER.from.getTime() + int(31 * 86_400_000)).toISOString(),
        tenant: tenants[int(tenants.length)]!,
        project: rnd() < 0.5 ? null : `p${int(3)}`,
        provider: providers[int(providers.length)]!,
        model: ['gpt-4o', 'claude-sonnet-4-5', 'llama-3.1-8b', 'unknown-model'][int(4)]!,
        tokens: { input: int(5_000_000), cache_read: int(1_000_000), output: int(500_000), requests: int(3) },
        costNano: BigInt(int(50_000_000_000)),
        adjustmentsNano: rnd() < 0.2 ? -BigInt(int(1_000_000_000)) : 0n,
      }));
      const idle = (['line', 'weighted', 'even'] as const)[int(3)]!;
      const s = await statement(
        {
          gpu_pools: [
            {
              name: 'pool-a',
              gpus: 1 + int(16),
              rates: [
                { from: '2026-10-0' + (1 + int(9)), usd_per_gpu_hour: (rnd() * 5).toFixed(3) },
                { from: '2026-10-2' + int(9), usd_per_gpu_hour: (rnd() * 5).toFixed(2), gpus: 1 + int(8) },
              ],
              to: rnd() < 0.3 ? '2026-10-30T07:00:00Z' : undefined,
              serves: ['vllm-a'],
              capacity: { output_tokens_per_s: 1 + int(5000), input_tokens_per_s: int(20000) },
              output_weight: (1 + rnd() * 5).toFixed(2),
              idle,
            },
            {
              name: 'pool-b',
              gpus: 2,
              rates: [{ from: '2026-09-01', usd_per_gpu_hour: '3.1' }],
              serves: ['vllm-b'],
              capacity: { output_tokens_per_s: 100 },
              idle: 'even',
            },
          ],
          shared_costs: [
            {
              name: 's1',
              usd: (rnd() * 2000).toFixed(2),
              from: '2026-10-1' + int(9),
              allocate: (['by_cost', 'by_tokens', 'even'] as const)[int(3)],
            },
            { name: 's2', usd: '77.7', per: 'one_off', from: '2026-10-15', tenants: ['acme', 'zeta'] },
          ],
          plans: [{ tenant: 'acme', markup_pct: int(50), included_usd: int(10), minimum_usd: int(100) }],
        },
        rows,
      );
      identity(s);
    }
  });
});
