import { PertokenError } from '../errors.js';
import { addBuckets, bucketsTotal, TOKEN_BUCKETS } from '../usage/index.js';
import type { CostRow } from './types.js';

/**
 * Sorting and top-N of cost rows (`sort=`, `top=` on /api/v1/costs): the rows ordered by one
 * measure, the first `top` kept and the rest summed into one row marked `other`, so that a chart
 * of the top ten still adds up to the total.
 */

export const SORT_KEYS = ['cost_usd', 'requests', 'tokens', 'unpriced_requests', 'refused_requests'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface TopOptions {
  sort: { key: SortKey; descending: boolean } | null;
  top: number | null;
}

export const MAX_TOP = 1000;

/** `sort=-cost_usd` (a leading `-` for descending), `top=1..1000`; both optional. */
export function parseTopOptions(params: URLSearchParams): TopOptions {
  const rawSort = params.get('sort');
  let sort: TopOptions['sort'] = null;
  if (rawSort !== null && rawSort !== '') {
    const descending = rawSort.startsWith('-');
    const key = descending ? rawSort.slice(1) : rawSort;
    if (!(SORT_KEYS as readonly string[]).includes(key))
      throw new PertokenError('invalid_request', `sort must be one of ${SORT_KEYS.join(', ')}, with - for descending`, {
        param: 'sort',
      });
    sort = { key: key as SortKey, descending };
  }
  const rawTop = params.get('top');
  const top = rawTop === null ? null : Number(rawTop);
  if (top !== null && (!Number.isInteger(top) || top < 1 || top > MAX_TOP))
    throw new PertokenError('invalid_request', `top must be an integer from 1 to ${MAX_TOP}`, { param: 'top' });
  return { sort, top };
}

function measure(row: CostRow, key: SortKey): bigint {
  switch (key) {
    case 'cost_usd':
      return row.net_nano;
    case 'tokens':
      return BigInt(bucketsTotal(row.tokens, TOKEN_BUCKETS));
    default:
      return BigInt(row[key]);
  }
}

/** Rows in the asked order, the first `top` kept and the others summed into one `other` row. */
export function rankCostRows(rows: readonly CostRow[], options: TopOptions): CostRow[] {
  const { sort, top } = options;
  const ordered = sort
    ? [...rows].sort((a, b) => {
        const d = measure(a, sort.key) - measure(b, sort.key);
        // Stable otherwise: equal measures keep the ledger's order (net cost, then keys).
        return d === 0n ? 0 : d > 0n === sort.descending ? -1 : 1;
      })
    : [...rows];
  if (top === null || ordered.length <= top) return ordered;
  const rest = ordered.slice(top);
  const other: CostRow = {
    keys: Object.fromEntries(Object.keys(rest[0]?.keys ?? {}).map((k) => [k, null])),
    requests: 0,
    tokens: {},
    cost_nano: 0n,
    unpriced_requests: 0,
    estimated_requests: 0,
    refused_requests: 0,
    adjustments_nano: 0n,
    net_nano: 0n,
    other: { groups: rest.length },
  };
  for (const row of rest) {
    other.requests += row.requests;
    other.tokens = addBuckets(other.tokens, row.tokens);
    other.cost_nano += row.cost_nano;
    other.unpriced_requests += row.unpriced_requests;
    other.estimated_requests += row.estimated_requests;
    other.refused_requests += row.refused_requests;
    other.adjustments_nano += row.adjustments_nano;
    other.net_nano += row.net_nano;
  }
  return [...ordered.slice(0, top), other];
}
