/**
 * The ledger: durable usage events, crash reservations, hourly rollups and cost queries behind the
 * `Store` interface. Statements and migrations are Kysely and dialect-neutral; `sqlite/` opens the
 * embedded database, a `postgres/` folder only needs to open a pool and reuse KyselyLedgerStore.
 */
export * from './types.js';
export { newEventId, isValidEventId, isUlid, ulidTime } from './ids.js';
export { KyselyLedgerStore, type LedgerStore, type LedgerStats, type KyselyStoreOptions } from './kysely-store.js';
export { createSqliteStore, openSqliteDatabase, type SqliteStoreOptions, type SqliteSynchronous } from './sqlite/store.js';
export { LEDGER_MIGRATIONS, createLedgerMigrator, migrateToLatest } from './migrations.js';
export { GroupCommitter, DEFAULT_MAX_BATCH, type GroupCommitOptions, type GroupCommitStats } from './group-commit.js';
export type { LedgerDatabase, EventsTable, ReservationsTable, RollupHourlyTable } from './schema.js';
export type { CostStrategy } from './queries.js';
export { MAX_PAGE } from './events.js';
export { INTERRUPTED_ISSUE } from './recovery.js';
export { SettleRetrier, type SettleRetryOptions } from './retry.js';
