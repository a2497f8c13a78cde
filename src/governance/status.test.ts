import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { createCounters } from '../counters/index.js';
import type { CostQuery } from '../ledger/index.js';
import { budgetCounter, CounterSeeder } from './budgets.js';
import type { Snapshot } from './directory.js';
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
          adjustments_nano: -100_000_000n,
          net_nano: 1_500_000_000n,
        },
      ];
    };
    const seeder = new CounterSeeder(counters.budgets, ledgerCosts, pino({ level: 'silent' }));
    const counter = budgetCounter(budget, now, budget.limit_nano);
    await seeder.ensure([counter]);
    await counters.budgets.reserve({
      leaseId: 'r1',
      counters: [counter.ref],
      amount: 500_000_000n,
      ttlMs: 60_000,
      failMode: 'open',
    });

    const s = await budgetStatus({ budgets: counters.budgets, seeder, ledgerCosts, repo }, budget, snapshot, now);
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
});
