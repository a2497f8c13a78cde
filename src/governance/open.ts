import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { createPostgresPool, openSqliteDatabase } from '../ledger/index.js';
import type { GovernanceDatabase } from './schema.js';
import { GovernanceStore } from './store.js';

export type GovernanceStoreOptions =
  /** An embedded file; several processes (replicas on one host, tests) may share it (WAL). */
  | { sqlitePath: string }
  /**
   * The shared PostgreSQL of a multi-replica deployment (PERTOKEN_DATABASE_URL); the tables sit
   * beside the ledger's, in `schema` (default public).
   */
  | { postgresUrl: string; schema?: string; poolSize?: number };

/** Opens (does not migrate) the governance database. */
export function openGovernanceStore(options: GovernanceStoreOptions): GovernanceStore {
  if ('sqlitePath' in options) {
    const database = openSqliteDatabase({ path: options.sqlitePath, busyTimeoutMs: 10_000 });
    return new GovernanceStore(new Kysely<GovernanceDatabase>({ dialect: new SqliteDialect({ database }) }), {
      dialect: 'sqlite',
    });
  }
  const pool = createPostgresPool({
    url: options.postgresUrl,
    poolSize: options.poolSize ?? 4,
    ...(options.schema ? { schema: options.schema } : {}),
  });
  return new GovernanceStore(new Kysely<GovernanceDatabase>({ dialect: new PostgresDialect({ pool }) }), {
    dialect: 'postgres',
    schema: pool.schema,
  });
}
