import type Database from 'better-sqlite3';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { ROLLUP_COLUMNS, ROLLUP_KEYS, RollupBatch, incrementClause } from '../rollups.js';
import type { EventRow } from '../rows.js';
import type { LedgerDatabase } from '../schema.js';
import { EVENT_COLUMNS, SqliteBulkWriter } from '../sqlite/bulk-writer.js';

/**
 * Bulk loading for the seed generator, bypassing the per-request group commit: one transaction
 * per batch of tens of thousands of rows. Idempotent like every ledger write: an id already stored
 * is skipped and not counted in the rollups again, so re-running a seed adds nothing.
 */

export interface BulkSink {
  /** Inserts one batch in one transaction; returns how many rows were new. */
  write(rows: readonly EventRow[]): Promise<number>;
}

/**
 * SQLite: the store's own prepared-statement writer (sqlite/bulk-writer.ts), one transaction per
 * batch, rollups summed in memory per batch. Synchronous inside; the database handle must not be
 * used by anyone else meanwhile.
 */
export function sqliteBulkSink(database: Database.Database): BulkSink {
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
export function postgresBulkSink(db: Kysely<LedgerDatabase>): BulkSink {
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
