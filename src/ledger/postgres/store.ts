import { Kysely, PostgresDialect } from 'kysely';
import { KyselyLedgerStore, type LedgerStore } from '../kysely-store.js';
import type { LedgerDatabase } from '../schema.js';
import { createPostgresPool, type PostgresPoolOptions } from './pool.js';

/**
 * The shared ledger on PostgreSQL: the same KyselyLedgerStore, statements and migrations as the
 * embedded SQLite ledger, over a pg pool (see pool.ts for what is configured per pool). Group
 * commit works as on SQLite: concurrent reserve/settle calls share one transaction per batch.
 * Constructing it opens no connection; migrate() is the first to talk to the server.
 */

export interface PostgresStoreOptions extends PostgresPoolOptions {
  /** Items per group-commit transaction. Default 512. */
  maxBatch?: number;
}

/** A Kysely instance on the ledger's pool (for tools that read the ledger tables directly). */
export function openPostgresKysely(options: PostgresPoolOptions): { db: Kysely<LedgerDatabase>; schema: string } {
  const pool = createPostgresPool(options);
  return { db: new Kysely<LedgerDatabase>({ dialect: new PostgresDialect({ pool }) }), schema: pool.schema };
}

export function createPostgresStore(options: PostgresStoreOptions): LedgerStore {
  const { db, schema } = openPostgresKysely(options);
  return new KyselyLedgerStore({ db, dialect: 'postgres', maxBatch: options.maxBatch, schema });
}
