/**
 * The ledger: durable usage events, crash reservations, hourly and daily rollups and cost queries
 * behind the `Store` interface. Statements and migrations are Kysely and dialect-neutral; `sqlite/` opens the
 * embedded database, a `postgres/` folder only needs to open a pool and reuse KyselyLedgerStore.
 */
export * from './types.js';
export { newEventId, isValidEventId, isUlid, ulidTime } from './ids.js';
export { KyselyLedgerStore, type LedgerStore, type LedgerStats, type KyselyStoreOptions } from './kysely-store.js';
export {
  createSqliteStore,
  openSqliteDatabase,
  type SqliteStoreOptions,
  type SqliteSynchronous,
} from './sqlite/store.js';
export {
  ledgerMigrations,
  createLedgerMigrator,
  migrateToLatest,
  type LedgerDialect,
  type LedgerMigratorOptions,
} from './migrations.js';
export { GroupCommitter, DEFAULT_MAX_BATCH, type GroupCommitOptions, type GroupCommitStats } from './group-commit.js';
export type { LedgerDatabase, EventsTable, ReservationsTable, RollupHourlyTable, RollupDailyTable } from './schema.js';
export type { CostStrategy } from './queries.js';
export { MAX_PAGE } from './events.js';
export { parseFilters, parseGroupBy, parseInstant, parseLimit, parseRange } from './query-params.js';
export { presentCosts, presentEvent, type CostsJson, type CostMoneyJson, type CostRowJson } from './present.js';
export { INTERRUPTED_ISSUE } from './recovery.js';
export { SettleRetrier, type SettleRetryOptions } from './retry.js';
export {
  emptyRepriceResult,
  type ManualAdjustment,
  type RepriceOptions,
  type RepricePricer,
  type RepriceResult,
} from './adjustments.js';
export {
  startRetentionJob,
  DEFAULT_PRUNE_BATCH,
  type PruneOptions,
  type PruneResult,
  type RetentionJobOptions,
} from './retention.js';
export { DEFAULT_SCAN_PAGE, type ScanQuery } from './export.js';
export { createPostgresStore, openPostgresKysely, type PostgresStoreOptions } from './postgres/store.js';
export { createPostgresPool, type PostgresPoolOptions, type LedgerPool } from './postgres/pool.js';
export { isTransientDatabaseError } from './postgres/errors.js';
export {
  createReplicatedStore,
  type ReplicatedStore,
  type ReplicatedStoreOptions,
  type ReplicatedErrorContext,
  type OutboxStats,
} from './outbox/replicated-store.js';
export type { DrainResult, ShipperStats, OutboxErrorContext } from './outbox/shipper.js';
export {
  seedLedger,
  generateSeedRows,
  SEED_LIMITS,
  SEED_MODELS,
  type SeedOptions,
  type SeedProgress,
  type SeedResult,
  type SeedRunOptions,
  type SeedTarget,
} from './seed/index.js';
