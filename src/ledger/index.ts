/**
 * The ledger: durable usage events, crash reservations, hourly and daily rollups and cost queries
 * behind the `Store` interface. Statements and migrations are Kysely and dialect-neutral; `sqlite/` opens the
 * embedded database, a `postgres/` folder only needs to open a pool and reuse KyselyLedgerStore.
 * This face exports what other folders use, nothing more.
 */
export * from './types.js';
export { newEventId } from './ids.js';
export type { LedgerStore } from './kysely-store.js';
export { createSqliteStore, openSqliteDatabase } from './sqlite/store.js';
export { GroupCommitter } from './group-commit.js';
export {
  checkQueryParams,
  FILTERS,
  parseFilters,
  parseGroupBy,
  parseInstant,
  parseLimit,
  parseRange,
} from './query-params.js';
export { presentCosts, presentEvent, type CostsJson } from './present.js';
export { parseTopOptions, rankCostRows, type TopOptions } from './top.js';
export { parseSeriesOptions, presentSeries, seriesCostQuery, type SeriesJson, type SeriesQuery } from './series.js';
export { canonicalClientAddress } from './client-address.js';
export type { ClientAddressQuery, NewClientAddress, RequestRepeat, RequestRepeatQuery } from './request-queries.js';
export { SettleRetrier } from './retry.js';
export type {
  AdjustmentQuery,
  ManualAdjustment,
  RepricePricer,
  RepriceResult,
  StoredAdjustment,
} from './adjustments.js';
export { startRetentionJob } from './retention.js';
export { createPostgresStore } from './postgres/store.js';
export { createPostgresPool } from './postgres/pool.js';
export { createReplicatedStore, type ReplicatedStore } from './outbox/replicated-store.js';
// For bulk loaders such as `pertoken seed` and the ledger benchmarks: batches of stored rows
// straight into a ledger, idempotent, rollups maintained.
export { openBulkLoader, type BulkLoader, type LedgerTarget } from './bulk-load.js';
export type { EventRow } from './rows.js';
// Imported provider bills (attribution/billing writes them, reconciliation reads them).
export type {
  BillingImportBatch,
  BillingImportResult,
  BillingRow,
  BillingRowQuery,
  StoredBillingRow,
} from './billing-rows.js';
