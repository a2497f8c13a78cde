import { Migrator, type CreateTableBuilder, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { PertokenError } from '../errors.js';
import { adjustmentsMigration } from './migration-0002-adjustments.js';
import { BUCKET_COLUMNS, ROLLUP_DIMS } from './schema.js';

/**
 * One migration set for every dialect, kept in code (no migration folder to ship or locate at run
 * time). Only types both SQLite and PostgreSQL understand alike: bigint, text, integer. Migrations
 * are append-only: never edit a released one, add the next number.
 */

const MIGRATION_TABLE = 'pertoken_migration';
const MIGRATION_LOCK_TABLE = 'pertoken_migration_lock';

const ledgerCore: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    let events = db.schema
      .createTable('events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('time_ms', 'bigint', (c) => c.notNull())
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('project', 'text')
      .addColumn('user_id', 'text')
      .addColumn('feature', 'text')
      .addColumn('key_id', 'text')
      .addColumn('trace_id', 'text')
      .addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('requested_model', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('route', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('http_status', 'integer')
      .addColumn('streamed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('latency_ms', 'bigint')
      .addColumn('ttft_ms', 'bigint');
    for (const column of BUCKET_COLUMNS) {
      events = events.addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0));
    }
    await events
      .addColumn('usage_source', 'text', (c) => c.notNull())
      .addColumn('cost_nano', 'bigint')
      .addColumn('price_ref', 'text')
      .addColumn('raw_usage', 'text')
      .addColumn('usage_issues', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();
    // listEvents pages newest first by (time_ms, id); raw cost queries scan a time range.
    await db.schema
      .createIndex('events_time_idx')
      .on('events')
      .columns(['time_ms desc', 'id desc'])
      .execute();
    // The common scoped read: one tenant's events/costs over a time range.
    await db.schema
      .createIndex('events_tenant_time_idx')
      .on('events')
      .columns(['tenant', 'time_ms desc', 'id desc'])
      .execute();

    await db.schema
      .createTable('reservations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('time_ms', 'bigint', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('project', 'text')
      .addColumn('user_id', 'text')
      .addColumn('feature', 'text')
      .addColumn('key_id', 'text')
      .addColumn('trace_id', 'text')
      .addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('requested_model', 'text', (c) => c.notNull())
      .addColumn('route', 'text', (c) => c.notNull())
      .addColumn('streamed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('estimated_input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();

    // Typed with `string` columns: the loops below add columns Kysely cannot track by name.
    let rollup: CreateTableBuilder<'rollup_hourly', string> = db.schema
      .createTable('rollup_hourly')
      .addColumn('hour_ms', 'bigint', (c) => c.notNull());
    for (const dim of ROLLUP_DIMS) {
      rollup = rollup.addColumn(dim, 'text', (c) => c.notNull().defaultTo(''));
    }
    rollup = rollup
      .addColumn('requests', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('cost_nano', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('unpriced_requests', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('estimated_requests', 'bigint', (c) => c.notNull().defaultTo(0));
    for (const column of BUCKET_COLUMNS) {
      rollup = rollup.addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0));
    }
    // hour first: every cost query is a range of hours, optionally narrowed by dimensions.
    await rollup.addPrimaryKeyConstraint('rollup_hourly_pk', ['hour_ms', ...ROLLUP_DIMS]).execute();
    await db.schema
      .createIndex('rollup_hourly_tenant_idx')
      .on('rollup_hourly')
      .columns(['tenant', 'hour_ms'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('rollup_hourly').ifExists().execute();
    await db.schema.dropTable('reservations').ifExists().execute();
    await db.schema.dropTable('events').ifExists().execute();
  },
};

/** Names sort in application order (Kysely's Migrator requires it). */
export const LEDGER_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_ledger_core': ledgerCore,
  '0002_adjustments': adjustmentsMigration,
});

class InCodeMigrationProvider implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve({ ...LEDGER_MIGRATIONS });
  }
}

export interface LedgerMigratorOptions {
  /**
   * PostgreSQL schema that holds the ledger (the connection's search_path points there). Kysely
   * looks for its migration table in every schema unless told which one, so a second ledger in
   * the same database would otherwise find the first one's table and skip creating its own.
   */
  schema?: string;
}

export function createLedgerMigrator(db: Kysely<unknown>, options: LedgerMigratorOptions = {}): Migrator {
  return new Migrator({
    db,
    provider: new InCodeMigrationProvider(),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(options.schema === undefined ? {} : { migrationTableSchema: options.schema }),
  });
}

/** Brings the schema to the latest migration; throws store_unavailable naming the failed step. */
export async function migrateToLatest(db: Kysely<unknown>, options: LedgerMigratorOptions = {}): Promise<void> {
  // A replica pointed at a fresh schema (PERTOKEN_DATABASE_SCHEMA) creates it rather than failing.
  if (options.schema && options.schema !== 'public') {
    try {
      await db.schema.createSchema(options.schema).ifNotExists().execute();
    } catch (err) {
      throw new PertokenError('store_unavailable', `cannot create schema ${options.schema}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  const { error, results } = await createLedgerMigrator(db, options).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const detail = error instanceof Error ? error.message : String(error);
    throw new PertokenError('store_unavailable', `ledger migration ${failed} failed: ${detail}`, {
      cause: error,
    });
  }
}
