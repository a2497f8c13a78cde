import { sql, type Kysely, type Migration } from 'kysely';
import { runMigrations } from '../../migrate.js';

/**
 * Alert tables have their own migration set and bookkeeping tables (like governance's), so they
 * live beside the ledger's in PostgreSQL or in a file of their own with SQLite. Append-only: add
 * the next number, never edit a released migration.
 */

const alertsCore: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('alert_alerts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('open_fingerprint', 'text', (c) => c.unique())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('tenant', 'text')
      .addColumn('variant', 'text')
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('value', 'double precision', (c) => c.notNull())
      .addColumn('baseline', 'double precision')
      .addColumn('started_ms', 'bigint', (c) => c.notNull())
      .addColumn('ended_ms', 'bigint')
      .addColumn('updated_ms', 'bigint', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('notified_ms', 'bigint')
      .addColumn('notified_sinks', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();
    await db.schema.createIndex('alert_alerts_started_idx').on('alert_alerts').columns(['started_ms', 'id']).execute();
    await db.schema.createIndex('alert_alerts_state_idx').on('alert_alerts').columns(['state', 'ended_ms']).execute();
    await db.schema
      .createIndex('alert_alerts_tenant_idx')
      .on('alert_alerts')
      .columns(['tenant', 'started_ms'])
      .execute();
    await db.schema.createIndex('alert_alerts_fingerprint_idx').on('alert_alerts').columns(['fingerprint']).execute();
    await db.schema
      .createTable('alert_silences')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('matchers', 'text', (c) => c.notNull())
      .addColumn('from_ms', 'bigint', (c) => c.notNull())
      .addColumn('to_ms', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('created_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('alert_silences_to_idx').on('alert_silences').columns(['to_ms']).execute();
    await db.schema
      .createTable('alert_outbox')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('batch', 'text', (c) => c.notNull())
      .addColumn('alert_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('change', 'text', (c) => c.notNull())
      .addColumn('sink', 'text', (c) => c.notNull())
      .addColumn('route', 'integer', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_ms', 'bigint', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_attempt_ms', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('lease_token', 'text')
      .addColumn('lease_until_ms', 'bigint')
      .addColumn('delivered_ms', 'bigint')
      // One row per (alert, change, sink): a change is queued to a sink once, whoever queues it.
      .addUniqueConstraint('alert_outbox_once', ['alert_id', 'seq', 'sink'])
      .execute();
    // Pending rows only: the delivery loop's scan stays small however long the history grows.
    await db.schema
      .createIndex('alert_outbox_pending_idx')
      .on('alert_outbox')
      .columns(['sink', 'id'])
      .where(sql.ref('delivered_ms'), 'is', null)
      .execute();
    await db.schema.createIndex('alert_outbox_lease_idx').on('alert_outbox').columns(['lease_token']).execute();
    await db.schema.createIndex('alert_outbox_delivered_idx').on('alert_outbox').columns(['delivered_ms']).execute();
    await db.schema
      .createTable('alert_sinks')
      .addColumn('sink', 'text', (c) => c.primaryKey())
      .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('retry_ms', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('resend_ms', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['alert_sinks', 'alert_outbox', 'alert_silences', 'alert_alerts']) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};

export const ALERT_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_alerts_core': alertsCore,
});

/** Runs the pending migrations (src/migrate.ts); `schema` names the PostgreSQL schema, created when missing. */
export function migrateAlerts(
  db: Kysely<unknown>,
  dialect: 'sqlite' | 'postgres',
  schema: string | null = null,
): Promise<void> {
  return runMigrations(
    db,
    { what: 'alerts', table: 'pertoken_alerts_migration', migrations: ALERT_MIGRATIONS },
    { dialect, schema },
  );
}
