import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../kysely-store.js';
import type { LedgerDatabase } from '../schema.js';
import { createTestSchema, postgresSkipReason, randomSchemaName, TEST_DATABASE_URL } from '../testing/dialects.js';
import { makeEvent } from '../testing/fixtures.js';
import { waitFor } from '../testing/outbox.js';
import { isTransientDatabaseError } from './errors.js';
import { createPostgresPool, type LedgerPool } from './pool.js';
import { createPostgresStore } from './store.js';

/** What only the PostgreSQL store has: its pool, types, schema and connection handling. */

const skip = await postgresSkipReason();

describe('createPostgresStore: configuration errors need no server', () => {
  it.each([
    [{ schema: 'no-dashes' }, 'schema'],
    [{ schema: 'x; drop table events' }, 'schema'],
    [{ schema: '' }, 'schema'],
    [{ url: 'mysql://localhost/db' }, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ poolSize: 0 }, 'poolSize'],
    [{ queryTimeoutMs: 1.5 }, 'queryTimeoutMs'],
  ])('rejects %j with config_invalid', (patch, param) => {
    expect(() => createPostgresStore({ url: 'postgres://u@127.0.0.1:5432/db', ...patch })).toThrow(
      expect.objectContaining({ code: 'config_invalid', param }),
    );
  });

  it('opens no connection until used; an unreachable server fails ping and migrate as store_unavailable', async () => {
    const store = createPostgresStore({ url: 'postgres://postgres@127.0.0.1:1/test', connectTimeoutMs: 500 });
    try {
      const ping = await store.ping().catch((e: unknown) => e);
      expect(ping).toMatchObject({ code: 'store_unavailable' });
      expect(isTransientDatabaseError(ping)).toBe(true);
      const migrate = await store.migrate().catch((e: unknown) => e);
      expect(migrate).toMatchObject({ code: 'store_unavailable' });
      expect(isTransientDatabaseError(migrate)).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(skip !== null)(`PostgreSQL pool and schema${skip ? ` — ${skip}` : ''}`, () => {
  let schema: string;
  let admin: pg.Client;
  let dropSchema: () => Promise<void>;
  const closers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    ({ schema, admin, drop: dropSchema } = await createTestSchema());
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await dropSchema();
  });

  function kysely(pool: LedgerPool): Kysely<LedgerDatabase> {
    const db = new Kysely<LedgerDatabase>({ dialect: new PostgresDialect({ pool }) });
    closers.push(() => db.destroy());
    return db;
  }

  function store(options: { schema?: string; url?: string } = {}): LedgerStore {
    const s = createPostgresStore({ url: TEST_DATABASE_URL, schema, poolSize: 2, ...options });
    closers.push(() => s.close());
    return s;
  }

  it('reads BIGINT as an exact bigint through its own pool and leaves pg.types alone', async () => {
    const before = pg.types.getTypeParser(20, 'text');
    const db = kysely(createPostgresPool({ url: TEST_DATABASE_URL, schema }));
    const { rows } = await sql<{ big: unknown; count: unknown; total: unknown }>`
      select 9223372036854775807::bigint as big, count(*) as count,
             sum(x) as total from (values (1152921504606846983::bigint), (1152921504606846984::bigint)) as t(x)`.execute(
      db,
    );
    expect(rows[0]).toEqual({ big: 9223372036854775807n, count: 2n, total: '2305843009213693967' });

    expect(pg.types.getTypeParser(20, 'text')).toBe(before);
    const plain = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await plain.connect();
    try {
      const result = await plain.query<{ big: unknown }>('select 9007199254740993::bigint as big');
      expect(result.rows[0]?.big).toBe('9007199254740993'); // the process default is untouched
    } finally {
      await plain.end();
    }
  });

  it('keeps each schema its own ledger, migration table included', async () => {
    const other = await createTestSchema();
    closers.push(() => other.drop());
    const a = store();
    const b = store({ schema: other.schema });
    await a.migrate();
    await b.migrate(); // must create its own tables although schema A already has a migration table
    await a.settle(makeEvent({ id: 'only-in-a' }));
    expect(await a.getEvent('only-in-a')).not.toBeNull();
    expect(await b.getEvent('only-in-a')).toBeNull();
    const { rows } = await admin.query<{ table_schema: string }>(
      `select table_schema from information_schema.tables where table_name = 'pertoken_migration'
       and table_schema in ($1, $2) order by table_schema`,
      [schema, other.schema].sort(),
    );
    expect(rows.map((r) => r.table_schema)).toEqual([schema, other.schema].sort());
  });

  it('creates a schema that does not exist yet on migrate', async () => {
    const fresh = randomSchemaName();
    const s = store({ schema: fresh });
    await s.migrate();
    await s.settle(makeEvent({ id: 'in-fresh' }));
    const { rows } = await admin.query<{ n: string }>(`select count(*) as n from ${fresh}.events`);
    expect(rows[0]?.n).toBe('1');
  });

  it('keeps options given in the URL next to its own search_path', async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('options', '-c statement_timeout=4321');
    const db = kysely(createPostgresPool({ url: url.toString(), schema }));
    const timeout = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db);
    const path = await sql<{ search_path: string }>`show search_path`.execute(db);
    expect(timeout.rows[0]?.statement_timeout).toBe('4321ms');
    expect(path.rows[0]?.search_path).toBe(schema);
  });

  it('plans reports for SSDs with 32MB of work_mem unless told otherwise; the URL or workMem override it', async () => {
    const workMem = async (pool: LedgerPool): Promise<string | undefined> =>
      (await sql<{ work_mem: string }>`show work_mem`.execute(kysely(pool))).rows[0]?.work_mem;
    expect(await workMem(createPostgresPool({ url: TEST_DATABASE_URL, schema }))).toBe('32MB');
    const db = kysely(createPostgresPool({ url: TEST_DATABASE_URL, schema }));
    const cost = await sql<{ random_page_cost: string }>`show random_page_cost`.execute(db);
    expect(cost.rows[0]?.random_page_cost).toBe('1.1');
    expect(await workMem(createPostgresPool({ url: TEST_DATABASE_URL, schema, workMem: '8MB' }))).toBe('8MB');
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('options', '-c work_mem=64MB');
    expect(await workMem(createPostgresPool({ url: url.toString(), schema }))).toBe('64MB');
    expect(() => createPostgresPool({ url: TEST_DATABASE_URL, schema, workMem: '32MB; drop table events' })).toThrow(
      expect.objectContaining({ code: 'config_invalid', param: 'workMem' }),
    );
  });

  it('drops a connection whose statement outlived queryTimeoutMs instead of reusing it', async () => {
    const pool = createPostgresPool({ url: TEST_DATABASE_URL, schema, poolSize: 1, queryTimeoutMs: 300 });
    const db = kysely(pool);
    const pid = async (): Promise<number> =>
      (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;
    const first = await pid();
    await expect(sql`select pg_sleep(3)`.execute(db)).rejects.toThrow('Query read timeout');
    const second = await pid(); // a half-dead connection would still be busy with pg_sleep
    expect(second).not.toBe(first);
  });

  it('survives the server terminating its connections: reports them and reconnects', async () => {
    const name = `pertoken_test_${randomBytes(4).toString('hex')}`;
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('application_name', name);
    const errors: unknown[] = [];
    const pool = createPostgresPool({ url: url.toString(), schema, poolSize: 2, onError: (err) => errors.push(err) });
    const db = kysely(pool);
    await sql`select 1`.execute(db);
    expect(pool.pg.idleCount).toBe(1);
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [name]);
    await waitFor('the idle connection to report its end', () => errors.length > 0);
    expect(isTransientDatabaseError(errors[0])).toBe(true);
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
    expect(rows).toEqual([{ one: 1 }]);
  });
});
