import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { PertokenError } from '../errors.js';

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

export const GOVERNANCE_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_governance_core': governanceCore,
});

class InCodeProvider implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve({ ...GOVERNANCE_MIGRATIONS });
  }
}

/**
 * `schema` must be given on PostgreSQL: without it Kysely's Migrator finds the migration tables of
 * another schema in the same database (another deployment, another test run) and never creates
 * its own.
 */
export async function migrateGovernance(db: Kysely<unknown>, schema: string | null = null): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new InCodeProvider(),
    migrationTableName: 'pertoken_governance_migration',
    migrationLockTableName: 'pertoken_governance_migration_lock',
    ...(schema === null ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new PertokenError(
      'store_unavailable',
      `governance migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
