import type { CostRow, Store } from '../ledger/index.js';
import type { UsageRow, UsageSource } from './attribute.js';
import type { Window } from './window.js';

/** The ledger's rollups as attribution reads them: tenant × project × provider × model. */
export function ledgerUsage(store: Pick<Store, 'queryCosts'>): UsageSource {
  return async (window: Window): Promise<UsageRow[]> => {
    const rows = await store.queryCosts({
      from: window.from,
      to: window.to,
      groupBy: ['tenant', 'project', 'provider', 'model'],
      filter: {},
    });
    // A group of refused calls alone (ledger status `refused`) used nothing: no statement line.
    return rows.filter((row) => row.requests > 0 || row.adjustments_nano !== 0n).map(usageRowOf);
  };
}

/** A ledger group as attribution reads it: a group without a tenant is `default` (open mode). */
export function usageRowOf(row: CostRow): UsageRow {
  return {
    tenant: row.keys.tenant ?? 'default',
    project: row.keys.project ?? null,
    provider: row.keys.provider ?? '',
    model: row.keys.model ?? '',
    requests: row.requests,
    tokens: row.tokens,
    costNano: row.cost_nano,
    adjustmentsNano: row.adjustments_nano,
  };
}
