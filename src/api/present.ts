import type { CostQuery, CostRow, UsageEvent } from '../ledger/index.js';
import { formatUsd } from '../pricing/index.js';
import { BUCKETS, type Buckets } from '../usage/index.js';

export interface CostRowJson {
  [key: string]: unknown;
  requests: number;
  tokens: Buckets;
  cost_usd: string;
  unpriced_requests: number;
  estimated_requests: number;
}

export interface CostsJson {
  from: string;
  to: string;
  currency: 'USD';
  group_by: string[];
  rows: CostRowJson[];
  totals: Omit<CostRowJson, string> & { requests: number; tokens: Buckets; cost_usd: string; unpriced_requests: number; estimated_requests: number };
}

/** The JSON of DESIGN §3 for /api/v1/costs; `pertoken report` prints the same document. */
export function presentCosts(query: CostQuery, rows: CostRow[]): CostsJson {
  const totals = { requests: 0, tokens: {} as Buckets, cost_nano: 0n, unpriced_requests: 0, estimated_requests: 0 };
  for (const row of rows) {
    totals.requests += row.requests;
    totals.cost_nano += row.cost_nano;
    totals.unpriced_requests += row.unpriced_requests;
    totals.estimated_requests += row.estimated_requests;
    for (const bucket of BUCKETS) {
      const n = row.tokens[bucket];
      if (n) totals.tokens[bucket] = (totals.tokens[bucket] ?? 0) + n;
    }
  }
  return {
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    currency: 'USD',
    group_by: query.groupBy,
    rows: rows.map((row) => ({
      ...row.keys,
      requests: row.requests,
      tokens: row.tokens,
      cost_usd: formatUsd(row.cost_nano),
      unpriced_requests: row.unpriced_requests,
      estimated_requests: row.estimated_requests,
    })),
    totals: {
      requests: totals.requests,
      tokens: totals.tokens,
      cost_usd: formatUsd(totals.cost_nano),
      unpriced_requests: totals.unpriced_requests,
      estimated_requests: totals.estimated_requests,
    },
  };
}

export function presentEvent(event: UsageEvent): Record<string, unknown> {
  const { cost_nano, time, ...rest } = event;
  return { ...rest, time: time.toISOString(), cost_usd: cost_nano === null ? null : formatUsd(cost_nano) };
}
