import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { createCounters } from '../counters/index.js';
import type { CostQuery } from '../ledger/index.js';
import { CounterSeeder, fullCounters } from './budgets.js';
import type { Snapshot } from './directory.js';
import { FallbackPrices } from './fallback.js';
import { createPriceBook } from '../pricing/index.js';
import { definitionToBudget } from './rows.js';
import { budgetStatus } from './status.js';
import type { GovernanceRepo } from './store.js';

const now = new Date('2026-05-10T06:00:00Z');
const budget = definitionToBudget(
  {
    id: 'b',
    scope: { tenant: 'acme' },
    period: 'day',
    tz: 'UTC',
    limit_usd: '10',
    action: 'block',
    downgrade_at: 1,
    thresholds: [0.5],
    fail_mode: 'open',
  },
  'api',
  now,
  now,
);
const snapshot: Snapshot = { keys: new Map(), tenants: new Map(), projects: new Map(), budgets: [budget], keyCount: 0 };
const repo = { listAlerts: async () => [] } as unknown as GovernanceRepo;
const fallback = new FallbackPrices(createPriceBook(), { input_per_mtok_usd: '10', output_per_mtok_usd: '100' });
const silent = pino({ level: 'silent' });

describe('budget status', () => {
  it('seeds from the ledger (net of adjustments), then reports spent, reserved, remaining and the projection to period end', async () => {
    const counters = createCounters({ now: () => now.getTime() });
    const queries: CostQuery[] = [];
    const ledgerCosts = async (q: CostQuery) => {
      queries.push(q);
      return [
        {
          keys: {},
          requests: 3,
          tokens: {},
          cost_nano: 1_600_000_000n,
          unpriced_requests: 0,
          estimated_requests: 0,
          refused_requests: 0,
          adjustments_nano: -100_000_000n,
          net_nano: 1_500_000_000n,
        },
      ];
    };
    const seeder = new CounterSeeder(counters.budgets, ledgerCosts, fallback, silent);
    const [counter] = fullCounters(budget, now);
    if (!counter) throw new Error('a budget always has a USD counter');
    await seeder.ensure([counter]);
    await counters.budgets.reserve({
      leaseId: 'r1',
      counters: [counter.ref],
      amount: 500_000_000n,
      ttlMs: 60_000,
      failMode: 'open',
    });

    const s = await budgetStatus(
      { budgets: counters.budgets, seeder, ledgerCosts, fallback, repo },
      budget,
      snapshot,
      now,
    );
    expect(queries).toEqual([
      {
        from: new Date('2026-05-10T00:00:00Z'),
        to: new Date('2026-05-11T00:00:00Z'),
        groupBy: [],
        filter: { tenant: 'acme' },
      },
    ]);
    // $1.50 in the first 6 hours of the day: $6.00 by midnight at that rate.
    expect(s).toMatchObject({
      period_start: '2026-05-10T00:00:00.000Z',
      period_end: '2026-05-11T00:00:00.000Z',
      limit_usd: '10.000000000',
      spent_usd: '1.500000000',
      reserved_usd: '0.500000000',
      remaining_usd: '8.000000000',
      projected_usd: '6.000000000',
      source: 'counters',
      tenant: 'acme',
    });
    await counters.close();
  });

  it('seeds a token allowance and unpriced usage at the fallback price from the ledger, and shows both', async () => {
    const counters = createCounters({ now: () => now.getTime() });
    const tokenBudget = definitionToBudget(
      {
        id: 'tok',
        scope: { tenant: 'acme', model: 'mystery-*' },
        period: 'day',
        tz: 'UTC',
        limit_tokens: 10_000,
        action: 'block',
        downgrade_at: 1,
        thresholds: [0.5],
        fail_mode: 'open',
      },
      'api',
      now,
      now,
    );
    const row = (keys: Record<string, string>, cost: bigint, unpriced: number) => ({
      keys,
      requests: 2,
      tokens: { input: 1_000, output: 500, requests: 2 },
      cost_nano: cost,
      unpriced_requests: unpriced,
      estimated_requests: 0,
      refused_requests: 0,
      adjustments_nano: 0n,
      net_nano: cost,
    });
    const queries: CostQuery[] = [];
    const ledgerCosts = async (q: CostQuery) => {
      queries.push(q);
      // Only the model-scoped rows count: the priced gpt-4o row lies outside the budget's scope.
      return q.groupBy.includes('day')
        ? [row({ model: 'mystery-1', provider: 'openai', day: '2026-05-10' }, 0n, 2)]
        : [row({ model: 'mystery-1' }, 0n, 2), row({ model: 'gpt-4o' }, 9_000_000n, 0)];
    };
    const seeder = new CounterSeeder(counters.budgets, ledgerCosts, fallback, silent);
    const s = await budgetStatus(
      { budgets: counters.budgets, seeder, ledgerCosts, fallback, repo },
      tokenBudget,
      snapshot,
      now,
    );
    expect(queries.map((q) => q.groupBy)).toEqual([['model'], ['provider', 'model', 'day']]);
    // 1,000 input at $10/1M + 500 output at $100/1M; the requests bucket is not a token.
    expect(s).toMatchObject({
      limit_usd: null,
      remaining_usd: null,
      spent_usd: '0.060000000',
      limit_tokens: 10_000,
      spent_tokens: 1_500,
      reserved_tokens: 0,
      remaining_tokens: 8_500,
      projected_tokens: 6_000,
      source: 'counters',
    });
    await counters.close();
  });
});
