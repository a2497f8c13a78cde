import { sql, type Kysely, type Migration } from 'kysely';
import { PertokenError } from './errors.js';

/**
 * The one migration runner of the ledger, governance and alert stores, in place of Kysely's
 * Migrator, whose bookkeeping introspects the whole database on every run: `getTables()` lists
 * every column of every table in every schema. On a PostgreSQL that holds many schemas (several
 * deployments, a test database) that catalog scan outlived a 600 ms statement timeout, so a
 * replica retrying its migration never got through. This runner reads only its own table.
 *
 * Bookkeeping stays in Kysely's format (`name` primary key, `timestamp` ISO text), so databases
 * migrated by earlier versions carry on. On PostgreSQL the pending migrations run in one
 * transaction behind an advisory lock keyed by the schema (replicas starting together, and the
 * ledger, governance and alert stores of one schema, serialise; other schemas do not wait); a
 * database already up to date costs one SELECT.
 */

export interface MigrationSet {
  /** Named in errors: "ledger migration 0002_adjustments failed: …". */
  what: string;
  /** The bookkeeping table. */
  table: string;
  /** Applied in the order of their names. */
  migrations: Readonly<Record<string, Migration>>;
}

export interface MigrateOptions {
  dialect: 'sqlite' | 'postgres';
  /** PostgreSQL schema holding the tables; created when missing. Default: the connection's search_path. */
  schema?: string | null;
  /** Stop after this migration (tests of upgrades from an older schema). Default: all. */
  upTo?: string;
}

export async function runMigrations(db: Kysely<unknown>, set: MigrationSet, options: MigrateOptions): Promise<void> {
  const names = Object.keys(set.migrations).sort();
  const last = options.upTo === undefined ? names.length : names.indexOf(options.upTo) + 1;
  if (last === 0) throw new PertokenError('internal', `${set.what}: no migration named ${options.upTo}`);
  const wanted = names.slice(0, last);
  const schema = options.dialect === 'postgres' ? (options.schema ?? null) : null;
  const table = sql.table(schema === null ? set.table : `${schema}.${set.table}`);

  const applied = await appliedNames(db, table).catch(() => null); // no table yet, or the database is away
  if (applied !== null && wanted.every((name) => applied.has(name))) return;

  let current = '(bookkeeping)';
  try {
    await db.transaction().execute(async (trx) => {
      if (options.dialect === 'postgres')
        await sql`select pg_advisory_xact_lock(hashtext(${`pertoken-migrate:${schema ?? ''}`}))`.execute(trx);
      // A replica pointed at a fresh schema (PERTOKEN_DATABASE_SCHEMA) creates it rather than failing.
      // Under the lock: two concurrent CREATE SCHEMA IF NOT EXISTS can both miss it and one fails
      // on the catalog's unique index.
      if (schema !== null && schema !== 'public') {
        current = `(creating schema ${schema})`;
        await sql`create schema if not exists ${sql.id(schema)}`.execute(trx);
      }
      await sql`create table if not exists ${table} (
        name varchar(255) not null primary key,
        timestamp varchar(255) not null
      )`.execute(trx);
      const done = await appliedNames(trx, table);
      for (const name of wanted) {
        if (done.has(name)) continue;
        current = name;
        await (set.migrations[name] as Migration).up(trx);
        await sql`insert into ${table} (name, timestamp) values (${name}, ${new Date().toISOString()})`.execute(trx);
      }
    });
  } catch (err: unknown) {
    throw storeError(`${set.what} migration ${current} failed`, err);
  }
}

async function appliedNames(db: Kysely<unknown>, table: ReturnType<typeof sql.table>): Promise<Set<string>> {
  const { rows } = await sql<{ name: string }>`select name from ${table}`.execute(db);
  return new Set(rows.map((r) => r.name));
}

function storeError(what: string, err: unknown): PertokenError {
  if (err instanceof PertokenError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new PertokenError('store_unavailable', `${what}: ${detail}`, { cause: err });
}
