import type { CostQuery, CostRow, UsageEvent } from './types.js';
import { divRoundHalfEven } from '../money.js';
import { formatUsd } from '../pricing/index.js';
import { BUCKETS, OUTPUT_BUCKETS, TOKEN_BUCKETS, bucketsTotal, type Buckets } from '../usage/index.js';

/**
 * Money of a row. `cost_usd` is the NET cost (list + adjustments): what was spent after repricing
 * and credits, so a client that only knows `cost_usd` sums the right amount. `list_cost_usd` is
 * the events' own costs as recorded; `adjustments_usd` the signed corrections. An event that was
 * unpriced at list and priced later by `pertoken reprice` still counts in `unpriced_requests` (its
 * list cost is null) while its price is in `adjustments_usd` and `net_cost_usd`.
 */
export interface CostMoneyJson {
  cost_usd: string;
  list_cost_usd: string;
  adjustments_usd: string;
  net_cost_usd: string;
}

/**
 * What a unit of the row cost, from its net cost (cost_usd), rounded half-even to the nano-USD:
 * per million billed tokens (every token bucket, input and output), per request, per output token
 * (output and reasoning). Null when the row has none of that unit.
 */
export interface UnitCostsJson {
  cost_per_1m_tokens_usd: string | null;
  cost_per_request_usd: string | null;
  cost_per_output_token_usd: string | null;
}

export interface CostRowJson extends CostMoneyJson, UnitCostsJson {
  [key: string]: unknown;
  requests: number;
  tokens: Buckets;
  unpriced_requests: number;
  estimated_requests: number;
  /** Calls pertoken refused (budget, scope, rate limit, fail-closed counters); not in `requests`. */
  refused_requests: number;
}

export interface CostsJson {
  from: string;
  to: string;
  currency: 'USD';
  group_by: string[];
  rows: CostRowJson[];
  totals: Omit<CostRowJson, string> &
    CostMoneyJson &
    UnitCostsJson & {
      requests: number;
      tokens: Buckets;
      unpriced_requests: number;
      estimated_requests: number;
      refused_requests: number;
    };
}

function money(list: bigint, adjustments: bigint): CostMoneyJson {
  const net = formatUsd(list + adjustments);
  return { cost_usd: net, list_cost_usd: formatUsd(list), adjustments_usd: formatUsd(adjustments), net_cost_usd: net };
}

function unitCosts(net: bigint, requests: number, tokens: Buckets): UnitCostsJson {
  const per = (scale: bigint, units: number): string | null =>
    units > 0 ? formatUsd(divRoundHalfEven(net * scale, BigInt(units))) : null;
  return {
    cost_per_1m_tokens_usd: per(1_000_000n, bucketsTotal(tokens, TOKEN_BUCKETS)),
    cost_per_request_usd: per(1n, requests),
    cost_per_output_token_usd: per(1n, bucketsTotal(tokens, OUTPUT_BUCKETS)),
  };
}

/** The JSON of DESIGN §3 for /api/v1/costs; `pertoken report` prints the same document. */
export function presentCosts(query: CostQuery, rows: CostRow[]): CostsJson {
  const totals = {
    requests: 0,
    tokens: {} as Buckets,
    cost_nano: 0n,
    adjustments_nano: 0n,
    unpriced_requests: 0,
    estimated_requests: 0,
    refused_requests: 0,
  };
  for (const row of rows) {
    totals.requests += row.requests;
    totals.cost_nano += row.cost_nano;
    totals.adjustments_nano += row.adjustments_nano;
    totals.unpriced_requests += row.unpriced_requests;
    totals.estimated_requests += row.estimated_requests;
    totals.refused_requests += row.refused_requests;
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
      ...(row.other ? { other: true, groups: row.other.groups } : {}),
      requests: row.requests,
      tokens: row.tokens,
      ...money(row.cost_nano, row.adjustments_nano),
      ...unitCosts(row.net_nano, row.requests, row.tokens),
      unpriced_requests: row.unpriced_requests,
      estimated_requests: row.estimated_requests,
      refused_requests: row.refused_requests,
    })),
    totals: {
      requests: totals.requests,
      tokens: totals.tokens,
      ...money(totals.cost_nano, totals.adjustments_nano),
      ...unitCosts(totals.cost_nano + totals.adjustments_nano, totals.requests, totals.tokens),
      unpriced_requests: totals.unpriced_requests,
      estimated_requests: totals.estimated_requests,
      refused_requests: totals.refused_requests,
    },
  };
}

/** An event's JSON; `request_hash` and `client_address` are always present, null when unknown. */
export function presentEvent(event: UsageEvent): Record<string, unknown> {
  const { cost_nano, time, request_hash, client_address, ...rest } = event;
  return {
    ...rest,
    time: time.toISOString(),
    cost_usd: cost_nano === null ? null : formatUsd(cost_nano),
    request_hash: request_hash ?? null,
    client_address: client_address ?? null,
  };
}
