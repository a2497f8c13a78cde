import { describe, expect, it } from 'vitest';
import { createPriceBook } from '../pricing/index.js';
import { attribute, type Attribution } from './attribute.js';
import { compilePools } from './pools.js';
import { presentPool } from './pools-report.js';
import { buildStatement } from './statement.js';
import { attributionConfig, rowsSource, type TimedRow } from './testing/usage.js';
import type { Window } from './window.js';

const book = createPriceBook();
const DAY: Window = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-10-02T00:00:00Z') };

/**
 * 8 GPUs at $2.99/h for 24 h = $574.08. Capacity 12,000 output tokens/s at output_weight 4 is
 * 48,000 input-token units/s, 4,147,200,000 over the day. Three tenants do 600M, 300M and 100M
 * units of work (input + 4 × output), 1e9 in all:
 *   busy = 574,080,000,000 × 1e9 / 4,147,200,000 = 138,425,925,925.93 -> 138,425,925,926 nano
 *   idle = 574,080,000,000 − busy = 435,654,074,074 nano
 */
const SERVED: TimedRow[] = [
  { at: '2026-10-01T03:00:00Z', tenant: 'acme', provider: 'acme-vllm', tokens: { input: 200e6, output: 100e6 } },
  { at: '2026-10-01T09:00:00Z', tenant: 'beta', provider: 'acme-vllm', tokens: { input: 100e6, output: 50e6 } },
  { at: '2026-10-01T15:00:00Z', tenant: 'gamma', provider: 'acme-vllm', tokens: { input: 40e6, output: 15e6 } },
];

function pool(idle: 'line' | 'weighted' | 'even', rates?: unknown[]) {
  return attributionConfig({
    gpu_pools: [
      {
        name: 'h100-east',
        gpu: 'h100-sxm',
        gpus: 8,
        rates: rates ?? [{ from: '2026-10-01', usd_per_gpu_hour: 2.99, pricing: 'reserved' }],
        serves: ['acme-vllm'],
        capacity: { output_tokens_per_s: 12000 },
        output_weight: 4,
        idle,
      },
    ],
  }).gpu_pools;
}

async function run(idle: 'line' | 'weighted' | 'even', rows = SERVED, rates?: unknown[]): Promise<Attribution> {
  return attribute(DAY, {
    pools: compilePools(pool(idle, rates), []),
    sharedCosts: [],
    priceBook: book,
    usage: rowsSource(rows),
  });
}

const nano = (a: Attribution, tenant: string, field: 'selfhostedNano' | 'idleNano'): bigint =>
  a.tenants.get(tenant)?.[field] ?? 0n;

describe('GPU pool cost, busy and idle (hand-computed)', () => {
  it('costs GPUs × hours × rate and splits busy by GPU work', async () => {
    const a = await run('line');
    const p = a.pools[0]!;
    expect(p.costNano).toBe(574_080_000_000n);
    expect(p.busyNano).toBe(138_425_925_926n);
    expect(p.idleNano).toBe(435_654_074_074n);
    expect(p.gpuMicroHours).toBe(192_000_000n);
    // Busy 6:3:1 by work; the 2 nano left by rounding go to the largest remainders (.8 beta, then .6 acme before gamma).
    expect(nano(a, 'acme', 'selfhostedNano')).toBe(83_055_555_556n);
    expect(nano(a, 'beta', 'selfhostedNano')).toBe(41_527_777_778n);
    expect(nano(a, 'gamma', 'selfhostedNano')).toBe(13_842_592_592n);
    expect(a.unallocatedIdleNano).toBe(435_654_074_074n);
    expect(nano(a, 'acme', 'idleNano')).toBe(0n);
  });

  it('idle: weighted shares idle by work, even shares it equally', async () => {
    const w = await run('weighted');
    expect(nano(w, 'acme', 'idleNano')).toBe(261_392_444_445n);
    expect(nano(w, 'beta', 'idleNano')).toBe(130_696_222_222n);
    expect(nano(w, 'gamma', 'idleNano')).toBe(43_565_407_407n);
    expect(w.unallocatedIdleNano).toBe(0n);
    const e = await run('even');
    expect(nano(e, 'acme', 'idleNano')).toBe(145_218_024_692n);
    expect(nano(e, 'beta', 'idleNano')).toBe(145_218_024_691n);
    expect(nano(e, 'gamma', 'idleNano')).toBe(145_218_024_691n);
  });

  it('charges a reserved rate on a day with no traffic: all of it idle, on the idle line', async () => {
    const a = await run('weighted', []);
    expect(a.pools[0]!.costNano).toBe(574_080_000_000n);
    expect(a.pools[0]!.busyNano).toBe(0n);
    // weighted, but nobody used the pool: nobody to weigh by, so it stays unallocated.
    expect(a.unallocatedIdleNano).toBe(574_080_000_000n);
    expect(a.tenants.size).toBe(0);
  });

  it('splits a rate change mid-window at the boundary', async () => {
    const rates = [
      { from: '2026-10-01', usd_per_gpu_hour: '2.99', pricing: 'on_demand' },
      { from: '2026-10-01T12:00:00Z', usd_per_gpu_hour: '1.99', pricing: 'reserved', gpus: 4 },
    ];
    // All traffic after noon: the morning is all idle at $2.99, the afternoon is busy at $1.99 on 4 GPUs.
    const afternoon = SERVED.map((r) => ({ ...r, at: '2026-10-01T18:00:00Z' }));
    const a = await run('line', afternoon, rates);
    const p = a.pools[0]!;
    // 8 × 12 × 2.99 = 287.04; 4 × 12 × 1.99 = 95.52
    expect(p.costNano).toBe(287_040_000_000n + 95_520_000_000n);
    expect(p.gpuMicroHours).toBe(144_000_000n);
    // Capacity scales with the GPUs: 24,000 units/s × 43,200 s = 1,036,800,000; busy = 95.52e9 × 1e9 / 1.0368e9.
    expect(p.busyNano).toBe(92_129_629_630n);
    expect(p.idleNano).toBe(287_040_000_000n + 95_520_000_000n - 92_129_629_630n);
  });

  it('flags a pool served beyond capacity and makes all of its cost busy', async () => {
    const heavy: TimedRow[] = [
      { at: '2026-10-01T01:00:00Z', tenant: 'acme', provider: 'acme-vllm', tokens: { output: 2_000_000_000 } },
    ];
    const a = await run('weighted', heavy);
    expect(a.pools[0]!.overCapacity).toBe(true);
    expect(a.pools[0]!.busyNano).toBe(574_080_000_000n);
    expect(a.pools[0]!.idleNano).toBe(0n);
    expect(nano(a, 'acme', 'selfhostedNano')).toBe(574_080_000_000n);
  });

  it('reports GPU-hours, utilisation, $/1M tokens and the true-up against the events’ own prices', async () => {
    const priced = SERVED.map((r) => ({ ...r, costNano: 10_000_000_000n }));
    const a = await run('line', priced);
    const pools = compilePools(pool('line'), []);
    const report = presentPool(pools[0]!, a.pools[0]!, DAY.to.getTime() - 1);
    expect(report).toMatchObject({
      gpu_hours: '192.000000',
      cost_usd: '574.080000000',
      busy_usd: '138.425925926',
      idle_usd: '435.654074074',
      utilization: 0.2411,
      tokens: 505_000_000,
      events_cost_usd: '30.000000000',
      trueup_usd: '108.425925926',
      over_capacity: false,
    });
    // $574.08 / 505M tokens × 1e6
    expect(report.cost_per_mtok_usd).toBe('1.136792079');
    // At full load: 8 × $2.99 / 3600 s / 12,000 tokens/s × 1e6 = $0.553703704 per 1M output tokens.
    expect(report.capacity_cost_per_mtok_usd).toBe('0.553703704');
    // The tenant's true-up is its busy share minus what its events were priced at.
    expect(a.tenants.get('acme')!.trueups.get('h100-east')).toBe(83_055_555_556n - 10_000_000_000n);
  });

  it('keeps the identity: Σ tenants + unallocated = vendor + pools + shared', async () => {
    for (const idle of ['line', 'weighted', 'even'] as const) {
      const a = await run(idle);
      const s = buildStatement(a, []);
      const sum = s.tenants.reduce((t, x) => t + BigInt(x.cost_usd.replace('.', '')), 0n);
      const unallocated =
        BigInt(s.unallocated!.idle_usd.replace('.', '')) + BigInt(s.unallocated!.shared_usd.replace('.', ''));
      expect(sum + unallocated).toBe(BigInt(s.inputs!.total_usd.replace('.', '')));
      expect(s.inputs!.pools_usd).toBe('574.080000000');
    }
  });
});

describe('pool capacity sources', () => {
  const base = { name: 'est', gpus: 2, rates: [{ from: '2026-10-01', usd_per_gpu_hour: 2 }], serves: ['x'] };

  it('takes the estimator’s best throughput on the pool’s GPUs when asked to', () => {
    const config = attributionConfig({
      gpu_pools: [
        {
          ...base,
          gpu: 'h100-sxm',
          capacity: { estimate: { model: 'llama-3.1-8b', precision: 'fp8', input_tokens: 2000, output_tokens: 500 } },
        },
      ],
    });
    const [pool] = compilePools(config.gpu_pools, []);
    const output = Number(pool!.outputTokensPerS);
    expect(output).toBeGreaterThan(1000);
    // Input rides along at the traffic's mix: 2000 in per 500 out.
    expect(Number(pool!.inputTokensPerS)).toBeCloseTo(output * 4, 0);
  });

  it('falls back to the bench measurement of the same name, and refuses a pool with neither', () => {
    const config = attributionConfig({ gpu_pools: [base] });
    const [pool] = compilePools(config.gpu_pools, [
      { name: 'est', output_tokens_per_s: '900.5', input_tokens_per_s: '100' },
    ]);
    expect(pool!.outputTokensPerS).toBe('900.5');
    expect(() => compilePools(config.gpu_pools, [])).toThrow(/has no capacity/);
  });

  it('needs a catalog GPU to estimate', () => {
    expect(() =>
      attributionConfig({ gpu_pools: [{ ...base, capacity: { estimate: { model: 'llama-3.1-8b' } } }] }),
    ).toThrow(/catalog GPU/);
  });
});
