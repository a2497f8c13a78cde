import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { createPostgresPool, openSqliteDatabase } from '../../ledger/index.js';
import type { AlertDatabase } from './schema.js';
import { AlertStore } from './store.js';

export type AlertStoreOptions =
  /** An embedded file; several processes (replicas on one host, tests) may share it (WAL). */
  | { sqlitePath: string }
  /** The shared PostgreSQL of a multi-replica deployment; the tables sit beside the ledger's, in `schema`. */
  | { postgresUrl: string; schema?: string; poolSize?: number };

/** Opens (does not migrate) the alert database. */
export function openAlertStore(options: AlertStoreOptions): AlertStore {
  if ('sqlitePath' in options) {
    // A short busy wait: writers wait for the lock asynchronously (AlertStore.write), so a long
    // synchronous one would only stall the event loop.
    const database = openSqliteDatabase({ path: options.sqlitePath, busyTimeoutMs: 20 });
    return new AlertStore(new Kysely<AlertDatabase>({ dialect: new SqliteDialect({ database }) }), {
      dialect: 'sqlite',
    });
  }
  const pool = createPostgresPool({
    url: options.postgresUrl,
    poolSize: options.poolSize ?? 4,
    ...(options.schema ? { schema: options.schema } : {}),
  });
  return new AlertStore(new Kysely<AlertDatabase>({ dialect: new PostgresDialect({ pool }) }), {
    dialect: 'postgres',
    schema: pool.schema,
  });
}
