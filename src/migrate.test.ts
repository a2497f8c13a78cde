import { Kysely, PostgresDialect, sql, type Migration } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresSkipReason, randomSchemaName, TEST_DATABASE_URL } from './ledger/testing/dialects.js';
import { runMigrations, type MigrationSet } from './migrate.js';

const skip = await postgresSkipReason();

/** Two migrations; the second one fails on demand (to see the whole run roll back). */
function migrationSet(calls: string[], failSecond = false): MigrationSet {
  const one: Migration = {
    async up(db) {
      calls.push('0001');
      await db.schema
        .createTable('things')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .execute();
    },
  };
  const two: Migration = {
    async up(db) {
      calls.push('0002');
      await db.schema.alterTable('things').addColumn('size', 'bigint').execute();
      if (failSecond) throw new Error('boom');
    },
  };
  return { what: 'test', table: 'test_migration', migrations: { '0002_size': two, '0001_things': one } };
}

describe.skipIf(skip !== null)(`runMigrations on PostgreSQL${skip ? ` — ${skip}` : ''}`, () => {
  const dbs: Kysely<unknown>[] = [];
  const open = (schema: string): Kysely<unknown> => {
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2, options: `-c search_path=${schema}` });
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    dbs.push(db);
    return db;
  };
  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.destroy();
  });

  it('replicas starting together on a fresh schema: it is created, each migration runs once, in name order', async () => {
    const schema = randomSchemaName();
    const calls: string[] = [];
    await Promise.all(
      [0, 1, 2].map(() => runMigrations(open(schema), migrationSet(calls), { dialect: 'postgres', schema })),
    );
    expect(calls).toEqual(['0001', '0002']);
    const { rows } = await sql<{
      name: string;
    }>`select name from ${sql.table(`${schema}.test_migration`)} order by name`.execute(open(schema));
    expect(rows.map((r) => r.name)).toEqual(['0001_things', '0002_size']);
  });

  it('a failing migration rolls the whole run back and names itself; the next run starts over', async () => {
    const schema = randomSchemaName();
    const db = open(schema);
    const failing = runMigrations(db, migrationSet([], true), { dialect: 'postgres', schema });
    await expect(failing).rejects.toMatchObject({
      code: 'store_unavailable',
      message: 'test migration 0002_size failed: boom',
    });
    const tables = await sql<{
      n: string;
    }>`select count(*) as n from information_schema.tables where table_schema = ${schema}`.execute(db);
    expect(Number(tables.rows[0]?.n)).toBe(0); // transactional DDL: not even the bookkeeping table

    const calls: string[] = [];
    await runMigrations(db, migrationSet(calls), { dialect: 'postgres', schema });
    expect(calls).toEqual(['0001', '0002']);
  });

  it("continues a database migrated by Kysely's Migrator (same bookkeeping table) and runs only what is new", async () => {
    const schema = randomSchemaName();
    const db = open(schema);
    await sql`create schema ${sql.id(schema)}`.execute(db);
    await sql`create table ${sql.table(`${schema}.test_migration`)} (name varchar(255) not null primary key, timestamp varchar(255) not null)`.execute(
      db,
    );
    await sql`create table ${sql.table(`${schema}.things`)} (id text primary key)`.execute(db);
    await sql`insert into ${sql.table(`${schema}.test_migration`)} values ('0001_things', '2026-01-01T00:00:00.000Z')`.execute(
      db,
    );

    const calls: string[] = [];
    await runMigrations(db, migrationSet(calls), { dialect: 'postgres', schema });
    expect(calls).toEqual(['0002']);
    await runMigrations(db, migrationSet(calls), { dialect: 'postgres', schema }); // up to date: one SELECT
    expect(calls).toEqual(['0002']);
  });

  it('upTo stops after the named migration; an unknown name is an error', async () => {
    const schema = randomSchemaName();
    const calls: string[] = [];
    await runMigrations(open(schema), migrationSet(calls), { dialect: 'postgres', schema, upTo: '0001_things' });
    expect(calls).toEqual(['0001']);
    await expect(
      runMigrations(open(schema), migrationSet(calls), { dialect: 'postgres', schema, upTo: '0009_nope' }),
    ).rejects.toThrow('no migration named 0009_nope');
  });
});
