import { describe, expect, it } from 'vitest';
import { presentCosts, type CostRow } from '../ledger/index.js';
import { renderCosts } from './report.js';

const row = (tenant: string, requests: number, refused: number, cost: bigint): CostRow => ({
  keys: { tenant },
  requests,
  tokens: requests > 0 ? { input: 100 * requests } : {},
  cost_nano: cost,
  unpriced_requests: 0,
  estimated_requests: 0,
  refused_requests: refused,
  adjustments_nano: 0n,
  net_nano: cost,
});

describe('pertoken report: refused demand', () => {
  const costs = presentCosts(
    { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z'), groupBy: ['tenant'], filter: {} },
    [row('acme', 3, 1, 1_500n), row('broke', 0, 4, 0n)],
  );

  it('JSON rows and totals carry refused_requests beside requests', () => {
    expect(costs.rows.map((r) => [r.tenant, r.requests, r.refused_requests])).toEqual([
      ['acme', 3, 1],
      ['broke', 0, 4],
    ]);
    expect(costs.totals).toMatchObject({ requests: 3, refused_requests: 5 });
  });

  it('the table and CSV show a refused column next to requests, totalled', () => {
    const csv = renderCosts(costs, 'csv').trim().split('\n');
    expect(csv[0]).toMatch(/^tenant,requests,refused,tok_input,/);
    expect(csv.slice(1).map((l) => l.split(',').slice(0, 3))).toEqual([
      ['acme', '3', '1'],
      ['broke', '0', '4'],
    ]);
    const table = renderCosts(costs, 'table');
    const total = table.split('\n').find((l) => l.startsWith('TOTAL'));
    expect(total?.split(/\s+/).slice(0, 3)).toEqual(['TOTAL', '3', '5']);
  });
});
