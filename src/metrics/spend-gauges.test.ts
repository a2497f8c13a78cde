import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseExposition, type Sample } from '../attribution/prometheus-text.js';
import type { Budget } from '../governance/index.js';
import type { LedgerStore, UsageEvent } from '../ledger/index.js';
import { ledgerDialects, type LedgerTarget } from '../ledger/testing/dialects.js';
import { makeEvent } from '../ledger/testing/fixtures.js';
import { parseUsd } from '../money.js';
import { LedgerGauges, observeLedgerGauges, OTHER, PertokenMetrics } from './index.js';
import { budgetOf } from './testing/fixtures.js';

const TENANTS = 100;
const MODELS = 30;
const tenantId = (i: number) => `t${String(i).padStart(3, '0')}`;

/** Tenant i spends $0.50 × (i + 1) on model m(i mod 30), in one call (binary-exact halves). */
function usage(i: number, time: Date, usd = 0.5 * (i + 1), model = i % MODELS): UsageEvent {
  return makeEvent({
    id: `spend-${tenantId(i)}-${time.getTime()}-${usd}`,
    time,
    tenant: tenantId(i),
    model: `m${String(model).padStart(2, '0')}`,
    cost_nano: parseUsd(usd.toFixed(2)),
  });
}

async function scrape(metrics: PertokenMetrics): Promise<ReadonlyMap<string, readonly Sample[]>> {
  return parseExposition((await metrics.exposition()).body).samples;
}

function byLabel(samples: readonly Sample[] | undefined, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples ?? []) {
    const key = s.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(
    `ledger gauges and bounded labels [${dialect.name}]${dialect.skip ? ` — ${dialect.skip}` : ''}`,
    () => {
      let target: LedgerTarget;
      let store: LedgerStore;
      let now: Date;
      let budgets: Budget[];
      let errors: unknown[];
      let metrics: PertokenMetrics;
      let gauges: LedgerGauges;

      beforeEach(async () => {
        target = await dialect.target();
        store = await target.open();
        now = new Date('2026-11-20T12:00:00Z');
        budgets = [];
        errors = [];
        metrics = new PertokenMetrics({ limits: { top_tenants: 10, top_models: 5 } });
        gauges = new LedgerGauges({
          store,
          budgets: async () => budgets,
          ranker: metrics,
          maxAgeMs: 60_000,
          now: () => now,
          onError: (err) => errors.push(err),
        });
        observeLedgerGauges(metrics, gauges);
      });
      afterEach(async () => {
        await gauges.idle();
        await target.dispose();
      });

      it('keeps the top tenants and models of 100, and `other` sums the rest exactly', async () => {
        const events = Array.from({ length: TENANTS }, (_, i) => usage(i, new Date('2026-11-10T08:00:00Z')));
        await store.insertEvents(events);
        // Last month's spend counts for the 30-day ranking but not for month to date.
        await store.insertEvents([usage(5, new Date('2026-10-25T08:00:00Z'), 100)]);

        // The first scrape answers at once from the empty cache and starts the refresh.
        expect(byLabel((await scrape(metrics)).get('pertoken_tenant_spend_mtd_usd'), 'tenant')).toEqual({});
        await gauges.idle();
        for (const event of events) metrics.eventRecorded(event);
        const samples = await scrape(metrics);

        const top = ['t005', ...Array.from({ length: 9 }, (_, k) => tenantId(91 + k))];
        const costByTenant = byLabel(samples.get('pertoken_cost_usd_total'), 'tenant');
        expect(Object.keys(costByTenant).sort()).toEqual([...top, OTHER].sort());
        const total = (TENANTS * (TENANTS + 1)) / 4;
        const keptCost = top.reduce((sum, t) => sum + 0.5 * (Number(t.slice(1)) + 1), 0);
        expect(costByTenant[OTHER]).toBe(total - keptCost);
        expect(costByTenant.t099).toBe(50);

        // Month to date: t005's October $100 is not in it; the same kept set, then other.
        const mtd = byLabel(samples.get('pertoken_tenant_spend_mtd_usd'), 'tenant');
        expect(Object.keys(mtd).sort()).toEqual([...top, OTHER].sort());
        expect(mtd.t005).toBe(3);
        expect(mtd[OTHER]).toBe(total - keptCost);

        // Models: the five that cost most over 30 days. m00–m09 serve four tenants each, the rest
        // three: m09 ($110) … m06 ($98), then m05 with t005's October $100; every other model folded.
        for (const name of ['pertoken_cost_usd_total', 'pertoken_tokens_total', 'pertoken_requests_total']) {
          const models = Object.keys(byLabel(samples.get(name), 'model')).sort();
          expect(models, name).toEqual(['m05', 'm06', 'm07', 'm08', 'm09', OTHER]);
        }
        const tokens = byLabel(samples.get('pertoken_tokens_total'), 'tenant');
        expect(Object.keys(tokens)).toHaveLength(11);
        expect(Object.values(tokens).reduce((a, b) => a + b, 0)).toBe(TENANTS * 120);
        expect(errors).toEqual([]);
      });

      it('moves the cut on refresh: the newcomer gets a series, the one it displaced goes stale', async () => {
        const events = Array.from({ length: TENANTS }, (_, i) => usage(i, new Date('2026-11-10T08:00:00Z')));
        await store.insertEvents(events);
        await gauges.refresh();
        for (const event of events) metrics.eventRecorded(event);
        expect(metrics.labels.tenant.has('t090')).toBe(true);

        // t000 now spends $60 (t090, the weakest kept, has $45.50; × 1.25 = $56.88), on a model
        // that is kept already (so only the tenant cut moves).
        await store.insertEvents([usage(0, new Date('2026-11-20T10:00:00Z'), 60, 9)]);
        now = new Date('2026-11-20T12:05:00Z');
        await gauges.refresh();
        expect(metrics.labels.model.values()).toEqual(['m05', 'm06', 'm07', 'm08', 'm09']);
        metrics.eventRecorded(usage(0, new Date('2026-11-20T12:04:00Z'), 1, 9));
        metrics.eventRecorded(usage(90, new Date('2026-11-20T12:04:00Z'), 1, 9));
        const cost = byLabel((await scrape(metrics)).get('pertoken_cost_usd_total'), 'tenant');
        expect(cost.t000).toBe(1);
        expect(cost.t090).toBeUndefined();
        // t000's earlier $0.50 stays in other (nothing is moved out of it), t090's new $1 joins it.
        expect(cost[OTHER]).toBe(2047.5 + 1);
      });

      it('exports budget spend, limit and period length of the current period in the budget zone', async () => {
        budgets = [
          budgetOf({ id: 'acme-month', limit_usd: '100' }),
          budgetOf({
            id: 'search-day',
            scope: { project: 'search' },
            period: 'day',
            tz: 'Europe/Berlin',
            limit_usd: '5',
          }),
          budgetOf({ id: 'acme-total', period: 'total', limit_usd: '1000' }),
        ];
        // 2026-10-25 is the day Berlin leaves summer time: 25 hours long.
        now = new Date('2026-10-25T15:00:00Z');
        await store.insertEvents([
          makeEvent({ id: 'sep', time: new Date('2026-09-30T23:00:00Z'), cost_nano: parseUsd('7') }),
          makeEvent({ id: 'oct-early', time: new Date('2026-10-02T10:00:00Z'), cost_nano: parseUsd('1.25') }),
          // 23:30 UTC on the 24th is 01:30 on the 25th in Berlin: today there, yesterday in UTC.
          makeEvent({ id: 'berlin-today', time: new Date('2026-10-24T23:30:00Z'), cost_nano: parseUsd('0.5') }),
          makeEvent({ id: 'berlin-yesterday', time: new Date('2026-10-24T21:30:00Z'), cost_nano: parseUsd('0.25') }),
          makeEvent({ id: 'other-tenant', tenant: 'beta', project: 'x', time: new Date('2026-10-25T10:00:00Z') }),
        ]);
        await gauges.refresh();
        const samples = await scrape(metrics);
        const gauge = (name: string) =>
          Object.fromEntries((samples.get(name) ?? []).map((s) => [`${s.labels.budget}|${s.labels.tenant}`, s.value]));
        expect(gauge('pertoken_budget_spend_mtd_usd')).toEqual({
          'acme-month|acme': 2,
          'search-day|': 0.5,
          'acme-total|acme': 9,
        });
        expect(gauge('pertoken_budget_limit_usd')).toEqual({
          'acme-month|acme': 100,
          'search-day|': 5,
          'acme-total|acme': 1000,
        });
        expect(gauge('pertoken_budget_period_hours')).toEqual({ 'acme-month|acme': 744, 'search-day|': 25 });
        expect(errors).toEqual([]);
      });

      it('pins tenants that have a budget, so burn-rate rules can join them', async () => {
        budgets = [budgetOf({ id: 'small', scope: { tenant: tenantId(0) } })];
        await store.insertEvents(Array.from({ length: TENANTS }, (_, i) => usage(i, new Date('2026-11-10T08:00:00Z'))));
        await gauges.refresh();
        expect(metrics.labels.tenant.values()).toEqual([
          't000',
          ...Array.from({ length: 9 }, (_, k) => tenantId(91 + k)),
        ]);
      });

      it('keeps the last snapshot when a refresh fails', async () => {
        let down = false;
        const flaky = new LedgerGauges({
          store: {
            queryCosts: (query) => (down ? Promise.reject(new Error('ledger down')) : store.queryCosts(query)),
          },
          budgets: async () => budgets,
          ranker: metrics,
          maxAgeMs: 3_600_000,
          now: () => now,
          onError: (err) => errors.push(err),
        });
        budgets = [budgetOf({ id: 'acme-month', scope: { tenant: tenantId(1) } })];
        await store.insertEvents([usage(1, new Date('2026-11-10T08:00:00Z'))]);
        await flaky.refresh();
        const before = flaky.snapshot();
        expect(before.tenants).toEqual([
          { tenant: 't001', spent_nano: parseUsd('1') },
          { tenant: OTHER, spent_nano: 0n },
        ]);
        expect(before.budgets.map((b) => [b.budget, b.spent_nano])).toEqual([['acme-month', parseUsd('1')]]);
        down = true;
        await flaky.refresh();
        expect(errors.map((e) => (e as Error).message)).toEqual(['ledger down']);
        expect(flaky.snapshot()).toBe(before);
      });
    },
  );
}
