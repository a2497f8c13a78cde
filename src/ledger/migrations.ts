import { sql, type CreateTableBuilder, type Kysely, type Migration } from 'kysely';
import { runMigrations } from '../migrate.js';
import { adjustmentsMigration } from './migration-0002-adjustments.js';
import { billingRowsMigration } from './migration-0003-billing-rows.js';
import { requestIdentityMigration } from './migration-0004-request-identity.js';
import { refusedRequestsMigration } from './migration-0005-refused-requests.js';
import { ROLLUP_KEYS, type RollupTable } from './rollups.js';
import { BUCKET_COLUMNS } from './schema.js';

/** The rollups' sums as 0001 created them; later sums are added by their own migration (0005). */
const ROLLUP_SUMS_0001 = [
  'requests',
  'cost_nano',
  'unpriced_requests',
  'estimated_requests',
  'adjustment_nano',
  ...BUCKET_COLUMNS,
] as const;

/**
 * One migration set for every dialect, kept in code (no migration folder to ship or locate at run
 * time). Only types both SQLite and PostgreSQL understand alike: bigint, text, integer. Migrations
 * are append-only: never edit a released one, add the next number. (0001 and 0002 were reshaped
 * before any release: rollups v2 — hourly without user, plus daily.)
 */

export type LedgerDialect = 'sqlite' | 'postgres';

/**
 * A rollup table: bucket start, dimensions ('' for null: they are in the primary key), sums.
 * On SQLite the daily rollup is WITHOUT ROWID: the table is its primary-key B-tree, so a report's
 * range of days is read in key order without a rowid lookup per row. The hourly one keeps its
 * rowid: it takes ~0.4 new rows per event, and appending a row plus a small key entry was ~30%
 * cheaper per upsert than inserting a 26-column record into the middle of a clustered B-tree.
 */
async function createRollup(db: Kysely<unknown>, dialect: LedgerDialect, table: RollupTable): Promise<void> {
  const [bucket, ...dims] = ROLLUP_KEYS[table];
  // Typed with `string` columns: the loops below add columns Kysely cannot track by name.
  let builder: CreateTableBuilder<string, string> = db.schema
    .createTable(table)
    .addColumn(bucket, 'bigint', (c) => c.notNull());
  for (const dim of dims) builder = builder.addColumn(dim, 'text', (c) => c.notNull().defaultTo(''));
  for (const column of ROLLUP_SUMS_0001) builder = builder.addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0));
  // Bucket first: every cost query is a range of hours or days, optionally narrowed by dimensions.
  builder = builder.addPrimaryKeyConstraint(`${table}_pk`, [bucket, ...dims]);
  if (dialect === 'sqlite' && table === 'rollup_daily') builder = builder.modifyEnd(sql`without rowid`);
  await builder.execute();
}

/** Kysely's Migrator bookkeeping format, kept by src/migrate.ts (its old lock table is unused). */
const MIGRATION_TABLE = 'pertoken_migration';

const ledgerCore = (dialect: LedgerDialect): Migration => ({
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
    await db.schema.createIndex('events_time_idx').on('events').columns(['time_ms desc', 'id desc']).execute();
    // The common scoped read: one tenant's events/costs over a time range.
    await db.schema
      .createIndex('events_tenant_time_idx')
      .on('events')
      .columns(['tenant', 'time_ms desc', 'id desc'])
      .execute();
    // Per-user reports read raw events (no rollup keeps the user): this makes one user's range a
    // short index range. Partial, because most calls name no user and the index costs every insert.
    await db.schema
      .createIndex('events_user_time_idx')
      .on('events')
      .columns(['user_id', 'time_ms'])
      .where(sql.ref('user_id'), 'is not', null)
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

    await createRollup(db, dialect, 'rollup_hourly');
    await createRollup(db, dialect, 'rollup_daily');
    // A tenant's own report: one tenant over a range of hours or days.
    await db.schema
      .createIndex('rollup_hourly_tenant_idx')
      .on('rollup_hourly')
      .columns(['tenant', 'hour_ms'])
      .execute();
    await db.schema.createIndex('rollup_daily_tenant_idx').on('rollup_daily').columns(['tenant', 'day_ms']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('rollup_daily').ifExists().execute();
    await db.schema.dropTable('rollup_hourly').ifExists().execute();
    await db.schema.dropTable('reservations').ifExists().execute();
    await db.schema.dropTable('events').ifExists().execute();
  },
});

/** Names sort in application order. */
export function ledgerMigrations(dialect: LedgerDialect): Readonly<Record<string, Migration>> {
  return Object.freeze({
    '0001_ledger_core': ledgerCore(dialect),
    '0002_adjustments': adjustmentsMigration,
    '0003_billing_rows': billingRowsMigration,
    '0004_request_identity': requestIdentityMigration,
    '0005_refused_requests': refusedRequestsMigration,
  });
}

export interface LedgerMigrateOptions {
  /** Which database: a few statements differ (SQLite's WITHOUT ROWID rollups). */
  dialect: LedgerDialect;
  /** PostgreSQL schema that holds the ledger (the connection's search_path points there). */
  schema?: string;
  /** Stop after this migration (upgrade tests). */
  upTo?: string;
}

/** Brings the schema to the latest migration; throws store_unavailable naming the failed step. */
export function migrateToLatest(db: Kysely<unknown>, options: LedgerMigrateOptions): Promise<void> {
  const set = { what: 'ledger', table: MIGRATION_TABLE, migrations: ledgerMigrations(options.dialect) };
  return runMigrations(db, set, options);
}
