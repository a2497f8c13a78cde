import type Database from 'better-sqlite3';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { HOUR_MS } from '../rollups.js';
import type { EventRow } from '../rows.js';
import { BUCKET_COLUMNS, ROLLUP_DIMS, toNumber, type LedgerDatabase } from '../schema.js';

/**
 * Bulk loading for the seed generator, bypassing the per-request group commit: one transaction
 * per batch of tens of thousands of rows. Idempotent like every ledger write: an id already stored
 * is skipped and not counted in the rollups again, so re-running a seed adds nothing.
 */

export interface BulkSink {
  /** Inserts one batch in one transaction; returns how many rows were new. */
  write(rows: readonly EventRow[]): Promise<number>;
}

const EVENT_COLUMNS = [
  'id', 'time_ms', 'origin', 'source', 'tenant', 'project', 'user_id', 'feature', 'key_id', 'trace_id', 'tags',
  'provider', 'requested_model', 'model', 'route', 'status', 'http_status', 'streamed', 'latency_ms', 'ttft_ms',
  ...BUCKET_COLUMNS,
  'usage_source', 'cost_nano', 'price_ref', 'raw_usage', 'usage_issues',
] as const satisfies ReadonlyArray<keyof EventRow>;

const SUM_COLUMNS = ['requests', 'cost_nano', 'unpriced_requests', 'estimated_requests', ...BUCKET_COLUMNS] as const;

/**
 * SQLite: prepared single-row statements (better-sqlite3 binds a positional array in C++ far
 * faster than it parses a multi-row VALUES) and rollups summed in memory per batch, then upserted.
 * Synchronous inside; the database handle must not be used by anyone else meanwhile.
 */
export function sqliteBulkSink(database: Database.Database): BulkSink {
  const insert = database.prepare(
    `insert into events (${EVENT_COLUMNS.join(', ')}) values (${EVENT_COLUMNS.map(() => '?').join(', ')}) on conflict (id) do nothing`,
  );
  const rollupColumns = ['hour_ms', ...ROLLUP_DIMS, ...SUM_COLUMNS];
  const upsert = database.prepare(
    `insert into rollup_hourly (${rollupColumns.join(', ')}) values (${rollupColumns.map(() => '?').join(', ')})
     on conflict (hour_ms, ${ROLLUP_DIMS.join(', ')}) do update set ${SUM_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`,
  );
  const values = new Array<unknown>(EVENT_COLUMNS.length);
  const load = database.transaction((rows: readonly EventRow[]): number => {
    const fresh: EventRow[] = [];
    for (const row of rows) {
      for (let c = 0; c < EVENT_COLUMNS.length; c++) values[c] = row[EVENT_COLUMNS[c]!] ?? null;
      if (insert.run(values).changes === 1) fresh.push(row);
    }
    for (const entry of rollupSums(fresh)) upsert.run(entry);
    return fresh.length;
  });
  return { write: async (rows) => load(rows) };
}

const num = (value: unknown): number => (typeof value === 'number' ? value : toNumber(value));

/**
 * Rollup rows [hour_ms, ...ROLLUP_DIMS, ...SUM_COLUMNS] of freshly inserted events, one per key.
 * Sums are doubles: one batch stays far below 2^53 nano-USD (50k events at $1000 each would fit).
 */
function rollupSums(rows: readonly EventRow[]): Array<Array<string | number>> {
  const sums = new Map<string, Array<string | number>>();
  const base = 1 + ROLLUP_DIMS.length;
  for (const row of rows) {
    const hour = Math.floor(num(row.time_ms) / HOUR_MS) * HOUR_MS;
    const dims = [row.tenant, row.project ?? '', row.key_id ?? '', row.feature ?? '', row.user_id ?? '', row.provider, row.model, row.requested_model];
    const key = `${hour}\u0001${dims.join('\u0001')}`;
    let entry = sums.get(key);
    if (entry === undefined) {
      entry = [hour, ...dims, ...SUM_COLUMNS.map(() => 0)];
      sums.set(key, entry);
    }
    (entry[base] as number)++;
    if (row.cost_nano === null || row.cost_nano === undefined) (entry[base + 2] as number)++;
    else entry[base + 1] = (entry[base + 1] as number) + num(row.cost_nano);
    if (row.usage_source === 'estimated') (entry[base + 3] as number)++;
    for (let b = 0; b < BUCKET_COLUMNS.length; b++) {
      entry[base + 4 + b] = (entry[base + 4 + b] as number) + num(row[BUCKET_COLUMNS[b]!] ?? 0);
    }
  }
  // Sorted keys: concurrent writers (PostgreSQL replicas) lock rollup rows in one order.
  return [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => entry);
}

/** PostgreSQL type of each event column, for the unnest() casts. */
function pgType(column: (typeof EVENT_COLUMNS)[number]): 'text' | 'bigint' | 'integer' {
  if (column === 'http_status' || column === 'streamed') return 'integer';
  if (column === 'time_ms' || column === 'latency_ms' || column === 'ttft_ms' || column === 'cost_nano' || column.startsWith('tok_')) {
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
 * PostgreSQL: each batch is two statements, `INSERT … SELECT FROM unnest(arrays) ON CONFLICT (id)
 * DO NOTHING RETURNING id` and the rollup upsert of the rows it returned, again from unnest — the
 * usual way to bulk-load without COPY (no extra dependency), through Kysely's sql tag.
 */
export function postgresBulkSink(db: Kysely<LedgerDatabase>): BulkSink {
  const eventTypes = EVENT_COLUMNS.map(pgType);
  const rollupColumns = ['hour_ms', ...ROLLUP_DIMS, ...SUM_COLUMNS];
  const rollupTypes = rollupColumns.map((c) => ((ROLLUP_DIMS as readonly string[]).includes(c) ? 'text' : 'bigint'));
  return {
    async write(rows) {
      if (rows.length === 0) return 0;
      const arrays = EVENT_COLUMNS.map((c) => rows.map((row) => arrayValue(row[c])));
      return db.transaction().execute(async (trx) => {
        const { rows: returned } = await sql<{ id: string }>`insert into events (${sql.join(EVENT_COLUMNS.map((c) => sql.ref(c)))})
          select * from ${unnest(EVENT_COLUMNS, arrays, eventTypes)} on conflict (id) do nothing returning id`.execute(trx);
        const inserted = new Set(returned.map((r) => r.id));
        const sums = rollupSums(rows.filter((row) => inserted.has(row.id)));
        if (sums.length > 0) {
          const rollupArrays = rollupColumns.map((_, i) => sums.map((entry) => arrayValue(entry[i])));
          await sql`insert into rollup_hourly (${sql.join(rollupColumns.map((c) => sql.ref(c)))})
            select * from ${unnest(rollupColumns, rollupArrays, rollupTypes)}
            on conflict (hour_ms, ${sql.join(ROLLUP_DIMS.map((d) => sql.ref(d)))}) do update set
            ${sql.join(SUM_COLUMNS.map((c) => sql`${sql.ref(c)} = ${sql.ref(`rollup_hourly.${c}`)} + ${sql.ref(`excluded.${c}`)}`))}`.execute(trx);
        }
        return inserted.size;
      });
    },
  };
}
