import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { testSchemaName } from '../../testing/global-setup.js';
import { canReach } from '../../testing/net.js';
import type { LedgerStore } from '../kysely-store.js';
import { createPostgresStore } from '../postgres/store.js';
import { createSqliteStore } from '../sqlite/store.js';
import { tempDir } from './fixtures.js';

/**
 * Runs the ledger suite on every dialect named in DIALECTS (default `sqlite,postgres`).
 *
 * PostgreSQL comes from PERTOKEN_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 * Under CI=true an unreachable PostgreSQL fails the run; elsewhere its cases are skipped with a
 * visible message. Each target lives in its own schema `pertoken_test_<random>`, dropped at the end.
 */

export type DialectName = 'sqlite' | 'postgres';
export type LedgerTable = 'events' | 'reservations' | 'rollup_hourly' | 'rollup_daily';

export const TEST_DATABASE_URL = process.env.PERTOKEN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One empty ledger location: a SQLite file or a PostgreSQL schema. */
export interface LedgerTarget {
  readonly dialect: DialectName;
  /** Opens and migrates a store here; opening again reaches the same data (a restart). */
  open(options?: { maxBatch?: number }): Promise<LedgerStore>;
  /** Row count through a separate connection: what another process would see. */
  count(table: LedgerTable): Promise<number>;
  /** Makes the database itself refuse inserting the event `id` with `message`. */
  failInsertOf(id: string, message: string): Promise<void>;
  /** Closes every store opened here and removes the data. */
  dispose(): Promise<void>;
}

export interface DialectCase {
  name: DialectName;
  /** Null when runnable; otherwise why the cases are skipped. */
  skip: string | null;
  target(): Promise<LedgerTarget>;
}

/** Dropped by the run's global teardown (src/testing/global-setup.ts), never mid-run. */
export function randomSchemaName(prefix = 'pertoken_test'): string {
  return testSchemaName(prefix);
}

function requestedDialects(): DialectName[] {
  const raw = (process.env.DIALECTS ?? 'sqlite,postgres')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  for (const d of raw) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`DIALECTS: unknown dialect ${d}`);
  return [...new Set(raw)] as DialectName[];
}

let postgresSkip: Promise<string | null> | undefined;

/** Whether PostgreSQL cases run; throws under CI when they cannot (CI must not skip them). */
export function postgresAvailability(): Promise<string | null> {
  postgresSkip ??= canReach(TEST_DATABASE_URL, 1500).then((ok) => {
    if (ok) return null;
    const message = `PostgreSQL at ${new URL(TEST_DATABASE_URL).host} is unreachable`;
    if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires it (set DIALECTS=sqlite to opt out)`);
    console.warn(`\n  !! ${message}: SKIPPING the PostgreSQL ledger cases\n`);
    return `${message} (skipped)`;
  });
  return postgresSkip;
}

export async function ledgerDialects(): Promise<DialectCase[]> {
  const cases: DialectCase[] = [];
  for (const name of requestedDialects()) {
    if (name === 'sqlite') cases.push({ name, skip: null, target: async () => sqliteTarget() });
    else cases.push({ name, skip: await postgresAvailability(), target: () => postgresTarget() });
  }
  return cases;
}

/** Whether DIALECTS asks for PostgreSQL and it is reachable (null) or why not. */
export async function postgresSkipReason(): Promise<string | null> {
  if (!requestedDialects().includes('postgres')) return 'DIALECTS does not include postgres';
  return postgresAvailability();
}

function sqliteTarget(): LedgerTarget {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'ledger.db');
  const stores: LedgerStore[] = [];
  const withDb = <T>(fn: (db: Database.Database) => T, readonly = true): T => {
    const db = new Database(path, { readonly });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    dialect: 'sqlite',
    async open(options = {}) {
      const store = createSqliteStore({ path, ...options });
      stores.push(store);
      await store.migrate();
      return store;
    },
    async count(table) {
      return withDb((db) => (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n);
    },
    async failInsertOf(id, message) {
      withDb((db) => {
        db.exec(
          `create trigger fail_${id.replace(/\W/g, '_')} before insert on events when new.id = '${id}'
           begin select raise(abort, '${message}'); end`,
        );
      }, false);
    },
    async dispose() {
      for (const store of stores.splice(0)) await store.close();
      cleanup();
    },
  };
}

/** A fresh schema in the test database, its own admin connection, and stores on it. */
export async function createTestSchema(): Promise<{
  schema: string;
  admin: pg.Client;
  drop(): Promise<void>;
}> {
  const schema = randomSchemaName();
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  return {
    schema,
    admin,
    async drop() {
      await admin.end();
    },
  };
}

async function postgresTarget(): Promise<LedgerTarget> {
  const { schema, admin, drop } = await createTestSchema();
  const stores: LedgerStore[] = [];
  return {
    dialect: 'postgres',
    async open(options = {}) {
      const store = createPostgresStore({ url: TEST_DATABASE_URL, schema, poolSize: 4, ...options });
      stores.push(store);
      await store.migrate();
      return store;
    },
    async count(table) {
      const { rows } = await admin.query<{ n: string }>(`select count(*) as n from ${schema}.${table}`);
      return Number(rows[0]?.n ?? 0);
    },
    async failInsertOf(id, message) {
      const name = `fail_${id.replace(/\W/g, '_')}`;
      await admin.query(
        `create function ${schema}.${name}() returns trigger language plpgsql as $$
         begin if new.id = '${id}' then raise exception '${message}'; end if; return new; end $$`,
      );
      await admin.query(
        `create trigger ${name} before insert on ${schema}.events for each row execute function ${schema}.${name}()`,
      );
    },
    async dispose() {
      try {
        for (const store of stores.splice(0)) await store.close();
      } finally {
        await drop();
      }
    },
  };
}
