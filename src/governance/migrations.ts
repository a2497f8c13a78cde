import type { Kysely, Migration } from 'kysely';
import { runMigrations } from '../migrate.js';

/**
 * Governance tables have their own migration set and bookkeeping tables, so they can live in the
 * ledger's database (PostgreSQL) or a file of their own (SQLite) without touching the ledger's
 * migration list. Append-only: add the next number, never edit a released migration.
 */

const governanceCore: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('gov_tenants')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text')
      .addColumn('rpm', 'bigint')
      .addColumn('tpm', 'bigint')
      .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('created_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('gov_projects')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('rpm', 'bigint')
      .addColumn('tpm', 'bigint')
      .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('created_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('gov_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('project', 'text')
      .addColumn('name', 'text')
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('models', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('rpm', 'bigint')
      .addColumn('tpm', 'bigint')
      .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('salt', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('prev_salt', 'text')
      .addColumn('prev_hash', 'text')
      .addColumn('prev_until_ms', 'bigint')
      .addColumn('created_ms', 'bigint', (c) => c.notNull())
      .addColumn('expires_ms', 'bigint')
      .addColumn('revoked_ms', 'bigint')
      .addColumn('rotated_ms', 'bigint')
      .addColumn('updated_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('gov_keys_tenant_idx').on('gov_keys').columns(['tenant']).execute();
    await db.schema
      .createTable('gov_budgets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('definition', 'text', (c) => c.notNull())
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('created_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_ms', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('gov_audit')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('time_ms', 'bigint', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('target_id', 'text', (c) => c.notNull())
      .addColumn('before_json', 'text')
      .addColumn('after_json', 'text')
      .addColumn('remote', 'text')
      .execute();
    await db.schema.createIndex('gov_audit_time_idx').on('gov_audit').columns(['time_ms', 'id']).execute();
    await db.schema
      .createTable('gov_alerts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('time_ms', 'bigint', (c) => c.notNull())
      .addColumn('budget_id', 'text', (c) => c.notNull())
      .addColumn('period_start_ms', 'bigint', (c) => c.notNull())
      .addColumn('threshold', 'text', (c) => c.notNull())
      .addColumn('spent_nano', 'bigint', (c) => c.notNull())
      .addColumn('limit_nano', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('gov_alerts_once', ['budget_id', 'period_start_ms', 'threshold'])
      .execute();
    await db.schema.createIndex('gov_alerts_time_idx').on('gov_alerts').columns(['time_ms']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['gov_alerts', 'gov_audit', 'gov_budgets', 'gov_keys', 'gov_projects', 'gov_tenants']) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};

/** Model-scoped RPM/TPM of tenants, projects and keys, as JSON beside their own rpm/tpm. */
const modelLimits: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const table of ['gov_tenants', 'gov_projects', 'gov_keys']) {
      await db.schema
        .alterTable(table)
        .addColumn('model_limits', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
    }
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['gov_tenants', 'gov_projects', 'gov_keys']) {
      await db.schema.alterTable(table).dropColumn('model_limits').execute();
    }
  },
};

export const GOVERNANCE_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_governance_core': governanceCore,
  '0002_model_limits': modelLimits,
});

/** Runs the pending migrations (src/migrate.ts); `schema` names the PostgreSQL schema, created when missing. */
export function migrateGovernance(
  db: Kysely<unknown>,
  dialect: 'sqlite' | 'postgres',
  schema: string | null = null,
): Promise<void> {
  return runMigrations(
    db,
    { what: 'governance', table: 'pertoken_governance_migration', migrations: GOVERNANCE_MIGRATIONS },
    { dialect, schema },
  );
}
