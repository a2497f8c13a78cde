import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../ledger/index.js';
import { ledgerDialects, type LedgerTarget } from '../ledger/testing/dialects.js';
import { makeEvent } from '../ledger/testing/fixtures.js';
import { parseUsd } from '../money.js';
import { listenEphemeral } from '../testing/harness.js';
import { LedgerGauges, observeLedgerGauges, PertokenMetrics } from './index.js';
import { prometheusRules } from './rules.js';
import { budgetOf } from './testing/fixtures.js';
import {
  binarySkipReason,
  pollFor,
  PROMETHEUS,
  startPrometheus,
  type RunningPrometheus,
} from './testing/prometheus.js';

/**
 * The generated rules in a real Prometheus (Debian's 2.42), scraping pertoken's /metrics text every
 * second: the recording rules' values are read back through the HTTP API.
 */
const skip = binarySkipReason(PROMETHEUS);
const sqlite = (await ledgerDialects()).find((d) => d.name === 'sqlite')!;

describe.skipIf(skip !== null)('generated rules in a real Prometheus', () => {
  let target: LedgerTarget;
  let store: LedgerStore;
  let gauges: LedgerGauges;
  let server: Server;
  let prometheus: RunningPrometheus;
  const errors: unknown[] = [];

  beforeAll(async () => {
    target = await sqlite.target();
    store = await target.open();
    // November 2026 has 720 hours: a $720 month budget paces exactly $1 an hour.
    const now = new Date('2026-11-20T12:00:00Z');
    await store.insertEvents([
      makeEvent({ id: 'a1', time: new Date('2026-11-03T10:00:00Z'), cost_nano: parseUsd('10') }),
      makeEvent({ id: 'a2', time: new Date('2026-11-19T10:00:00Z'), cost_nano: parseUsd('2.5') }),
      makeEvent({ id: 'b1', tenant: 'beta', time: new Date('2026-11-19T10:00:00Z'), cost_nano: parseUsd('4') }),
    ]);
    const metrics = new PertokenMetrics({ limits: { top_tenants: 5, top_models: 5 } });
    gauges = new LedgerGauges({
      store,
      budgets: async () => [budgetOf({ id: 'acme-month', limit_usd: '720' })],
      ranker: metrics,
      now: () => now,
      onError: (err) => errors.push(err),
    });
    observeLedgerGauges(metrics, gauges);
    await gauges.refresh();
    metrics.eventRecorded(makeEvent({ id: 'live', cost_nano: parseUsd('0.25') }));

    server = createServer((req, res) => {
      void metrics.exposition().then(({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType }).end(body);
      });
    });
    const port = await listenEphemeral(server);
    prometheus = await startPrometheus(`http://127.0.0.1:${port}/metrics`, prometheusRules({ floorUsd: 1 }));
  });
  afterAll(async () => {
    await prometheus?.stop();
    server?.close();
    await gauges?.idle();
    await target?.dispose();
  });

  it('records the budget pace, spend and burn rate from the scraped gauges and counter', async () => {
    const read = (expr: string) =>
      pollFor(async () => {
        const result = await prometheus.query(expr);
        return result.length > 0 ? result : null;
      }, 30_000);

    const pace = await read('budget:pertoken_budget_pace_usd_per_hour');
    expect(pace, prometheus.log()).toEqual([
      {
        metric: { __name__: 'budget:pertoken_budget_pace_usd_per_hour', budget: 'acme-month', tenant: 'acme' },
        value: 1,
      },
    ]);
    const spent = await read('budget:pertoken_budget_spend_usd');
    expect(spent?.map((s) => [s.metric.budget, s.value])).toEqual([['acme-month', 12.5]]);
    const ratio = await read('budget:pertoken_budget_spent:ratio');
    expect(ratio?.[0]?.value).toBeCloseTo(12.5 / 720, 12);
    const mtd = await read('pertoken_tenant_spend_mtd_usd');
    expect(Object.fromEntries(mtd?.map((s) => [s.metric.tenant, s.value]) ?? [])).toEqual({
      acme: 12.5,
      beta: 4,
      other: 0,
    });
    // The counter does not move between scrapes: the tenant join exists and burns at exactly 0.
    const burn = await read('budget:pertoken_burn_rate:1h');
    expect(burn?.map((s) => [s.metric.budget, s.metric.tenant, s.value])).toEqual([['acme-month', 'acme', 0]]);
    expect(errors).toEqual([]);
  });
});
