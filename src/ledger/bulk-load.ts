import type Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type RawBuilder } from 'kysely';
import { migrateToLatest } from './migrations.js';
import { openPostgresKysely } from './postgres/store.js';
import { ROLLUP_COLUMNS, ROLLUP_KEYS, RollupBatch, incrementClause } from './rollups.js';
import type { EventRow } from './rows.js';
import type { LedgerDatabase } from './schema.js';
import { EVENT_COLUMNS, SqliteBulkWriter } from './sqlite/bulk-writer.js';
import { openSqliteDatabase } from './sqlite/store.js';

/**
 * Bulk loading, for tools that write millions of generated rows at once (`pertoken seed`, the
 * ledger benchmarks), bypassing the per-request group commit: one transaction per batch of tens
 * of thousands of rows. Idempotent like every ledger write: an id already stored is skipped and
 * not counted in the rollups again, so loading the same rows twice adds nothing. Each dialect has
 * its own bulk path; both maintain the rollups like the ledger's own writes.
 */

/** Which ledger: the embedded SQLite file or a PostgreSQL database (and schema). */
export type LedgerTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema?: string };

export interface BulkLoader {
  /** Inserts one batch in one transaction; returns how many rows were new. */
  write(rows: readonly EventRow[]): Promise<number>;
  /**
   * Whether the ledger holds an event whose id does not start with `idPrefix`: how a loader that
   * namespaces its ids (seed: `seed:`) tells its own rows from anyone else's.
   */
  hasEventsOutside(idPrefix: string): Promise<boolean>;
  /** Ends the load and closes the connection. */
  close(): Promise<void>;
}

type BulkSink = Pick<BulkLoader, 'write'>;

/**
 * SQLite: the store's own prepared-statement writer (sqlite/bulk-writer.ts), one transaction per
 * batch, rollups summed in memory per batch. Synchronous inside; the database handle must not be
 * used by anyone else meanwhile.
 */
function sqliteBulkSink(database: Database.Database): BulkSink {
  const writer = new SqliteBulkWriter(database);
  return { write: async (rows) => writer.transaction(() => writer.insertEvents(rows)) };
}

/** PostgreSQL type of each event column, for the unnest() casts. */
function pgType(column: (typeof EVENT_COLUMNS)[number]): 'text' | 'bigint' | 'integer' {
  if (column === 'http_status' || column === 'streamed') return 'integer';
  if (
    column === 'time_ms' ||
    column === 'latency_ms' ||
    column === 'ttft_ms' ||
    column === 'cost_nano' ||
    column.startsWith('tok_')
  ) {
    return 'bigint';
  }
  return 'text';
}

/** One array parameter per column: `unnest($1::text[], $2::bigint[], …)` is one statement per batch. */
function unnest(columns: readonly string[], arrays: unknown[][], types: readonly string[]): RawBuilder<unknown> {
  return sql`unnest(${sql.join(arrays.map((values, i) => sql`${values}::${sql.raw(types[i]!)}[]`))}) as t(${sql.join(columns.map((c) => sql.ref(c)))})`;
}

/** BIGINT values travel as decimal text inside the array literal (pg has no bigint array encoding). */
function arrayValue(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : (value ?? null);
}

/**
 * PostgreSQL: each batch is three statements, `INSERT … SELECT FROM unnest(arrays) ON CONFLICT (id)
 * DO NOTHING RETURNING id` and the upserts of the returned rows' sums into both rollups, again from
 * unnest — the usual way to bulk-load without COPY (no extra dependency), through Kysely's sql tag.
 */
function postgresBulkSink(db: Kysely<LedgerDatabase>): BulkSink {
  const eventTypes = EVENT_COLUMNS.map(pgType);
  return {
    async write(rows) {
      if (rows.length === 0) return 0;
      const arrays = EVENT_COLUMNS.map((c) => rows.map((row) => arrayValue(row[c])));
      return db.transaction().execute(async (trx) => {
        const { rows: returned } = await sql<{
          id: string;
        }>`insert into events (${sql.join(EVENT_COLUMNS.map((c) => sql.ref(c)))})
          select * from ${unnest(EVENT_COLUMNS, arrays, eventTypes)} on conflict (id) do nothing returning id`.execute(
          trx,
        );
        const inserted = new Set(returned.map((r) => r.id));
        const rollups = new RollupBatch();
        for (const row of rows) if (inserted.has(row.id)) rollups.addEvent(row);
        for (const table of ['rollup_hourly', 'rollup_daily'] as const) {
          const entries = rollups.rows(table);
          if (entries.length === 0) continue;
          const columns = ROLLUP_COLUMNS[table];
          const types = columns.map((_, i) => (i === 0 || i >= ROLLUP_KEYS[table].length ? 'bigint' : 'text'));
          const columnArrays = columns.map((_, i) => entries.map((entry) => arrayValue(entry[i])));
          await sql`insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))})
            select * from ${unnest(columns, columnArrays, types)}
            on conflict (${sql.join(ROLLUP_KEYS[table].map((c) => sql.ref(c)))}) do update set ${sql.raw(incrementClause(table))}`.execute(
            trx,
          );
        }
        return inserted.size;
      });
    },
  };
}

/** The first id after every id starting with `prefix` (not empty), in byte order: `seed:` -> `seed;`. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * Opens and migrates the ledger at `target` for a bulk load; the caller closes the loader. The
 * connection is the loader's own: on SQLite nobody else may write meanwhile.
 */
export async function openBulkLoader(target: LedgerTarget): Promise<BulkLoader> {
  if (target.kind === 'sqlite') {
    const database = openSqliteDatabase({ path: target.path });
    // A bigger page cache for the session keeps the secondary indexes' hot pages in memory.
    database.pragma('cache_size = -262144');
    const db = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database }) });
    try {
      await migrateToLatest(db as unknown as Kysely<unknown>, { dialect: 'sqlite' });
    } catch (err) {
      await db.destroy();
      throw err;
    }
    // An empty ledger holds nothing a crash could lose but the loaded data: skip the fsync of every
    // WAL checkpoint while loading, then sync once at the end. A ledger with data keeps its setting.
    const empty = database.prepare('select not exists (select 1 from events) as empty').get() as {
      empty: bigint | number;
    };
    const fresh = Number(empty.empty) === 1;
    if (fresh) database.pragma('synchronous = OFF');
    // Two seeks on the primary key (TEXT compares bytewise in SQLite), whatever the ledger's size.
    const below = database.prepare('select 1 from events where id < ? limit 1');
    const above = database.prepare('select 1 from events where id >= ? limit 1');
    return {
      ...sqliteBulkSink(database),
      hasEventsOutside: async (idPrefix) =>
        idPrefix !== '' && (below.get(idPrefix) !== undefined || above.get(prefixEnd(idPrefix)) !== undefined),
      close: async () => {
        if (fresh) {
          database.pragma('synchronous = NORMAL');
          database.pragma('wal_checkpoint(TRUNCATE)');
        }
        await db.destroy();
      },
    };
  }
  const { db, schema } = openPostgresKysely({ url: target.url, ...(target.schema ? { schema: target.schema } : {}) });
  try {
    await migrateToLatest(db as unknown as Kysely<unknown>, { schema, dialect: 'postgres' });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return {
    ...postgresBulkSink(db),
    // PostgreSQL orders text by the database's collation, not bytewise, so an id range is no
    // prefix test there: this stops at the first foreign id (at once in a live ledger) and reads
    // the whole table only when every id has the prefix.
    async hasEventsOutside(idPrefix) {
      if (idPrefix === '') return false;
      const found = await db
        .selectFrom('events')
        .select(sql<number>`1`.as('one'))
        .where(sql<string>`substr(id, 1, ${idPrefix.length})`, '<>', idPrefix)
        .limit(1)
        .executeTakeFirst();
      return found !== undefined;
    },
    close: () => db.destroy(),
  };
}
