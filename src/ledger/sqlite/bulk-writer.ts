import type Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { PertokenError } from '../../errors.js';
import { ROLLUP_COLUMNS, ROLLUP_KEYS, RollupBatch, incrementClause, type RollupTable } from '../rollups.js';
import type { EventRow, ReservationRow } from '../rows.js';
import { BUCKET_COLUMNS } from '../schema.js';
import type { WriteOp } from '../writes.js';

/**
 * SQLite's write fast path: the same rows and the same SQL as writes.ts, as better-sqlite3
 * statements prepared once. Kysely compiles every multi-row INSERT anew and better-sqlite3 then
 * parses it anew (~10 µs per event); a prepared statement binds a positional array in C++
 * (~1 µs). PostgreSQL keeps the Kysely path (one round trip per chunk matters more there).
 *
 * Everything here is synchronous and must run inside one `transaction()` while no one else uses
 * the connection: KyselyLedgerStore holds Kysely's connection for the duration (see there).
 */

export const EVENT_COLUMNS = [
  'id',
  'time_ms',
  'origin',
  'source',
  'tenant',
  'project',
  'user_id',
  'feature',
  'key_id',
  'trace_id',
  'tags',
  'provider',
  'requested_model',
  'model',
  'route',
  'status',
  'http_status',
  'streamed',
  'latency_ms',
  'ttft_ms',
  ...BUCKET_COLUMNS,
  'usage_source',
  'cost_nano',
  'price_ref',
  'raw_usage',
  'usage_issues',
  'request_hash',
  'client_address',
] as const satisfies ReadonlyArray<keyof EventRow>;

const RESERVATION_COLUMNS = [
  'id',
  'time_ms',
  'source',
  'tenant',
  'project',
  'user_id',
  'feature',
  'key_id',
  'trace_id',
  'tags',
  'provider',
  'requested_model',
  'route',
  'streamed',
  'estimated_input_tokens',
] as const satisfies ReadonlyArray<keyof ReservationRow>;

/**
 * Both lists must name every column of their table: a column added to the schema but not here
 * would be silently written as its default by the fast path. `Exhaustive` fails to compile then,
 * naming the missing column.
 */
type Exhaustive<All, Listed extends All> = [Exclude<All, Listed>] extends [never] ? true : Exclude<All, Listed>;
const EVENT_COLUMNS_EXHAUSTIVE: Exhaustive<keyof EventRow, (typeof EVENT_COLUMNS)[number]> = true;
const RESERVATION_COLUMNS_EXHAUSTIVE: Exhaustive<keyof ReservationRow, (typeof RESERVATION_COLUMNS)[number]> = true;
void EVENT_COLUMNS_EXHAUSTIVE;
void RESERVATION_COLUMNS_EXHAUSTIVE;

const placeholders = (n: number): string => `(${new Array<string>(n).fill('?').join(', ')})`;

interface Statements {
  insertEvent: Database.Statement;
  insertReservation: Database.Statement;
  deleteReservation: Database.Statement;
  upsert: Record<RollupTable, Database.Statement>;
}

/** Back-off between attempts while another connection holds the write lock (ms). */
const LOCK_RETRY_MAX_DELAY_MS = 20;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

export class SqliteBulkWriter {
  readonly #database: Database.Database;
  readonly #busyTimeoutMs: number;
  #statements: Statements | undefined;
  /** One reusable parameter array: binding copies it, so it can be refilled per row. */
  readonly #eventValues = new Array<unknown>(EVENT_COLUMNS.length);

  constructor(database: Database.Database) {
    this.#database = database;
    this.#busyTimeoutMs = Number(database.pragma('busy_timeout', { simple: true }));
  }

  /** Runs `fn` in one IMMEDIATE transaction (rolled back if it throws). */
  transaction<T>(fn: () => T): T {
    return this.#database.transaction(fn).immediate();
  }

  /**
   * transaction(), but a wait for the write lock never blocks the event loop. With SQLite's
   * busy_timeout the waiting happens inside the synchronous call, sleeping the whole process
   * while another process (a CLI `reprice` or `prune`, say) writes the file. Here
   * the attempt fails at once and is retried after a timer, for as long as busy_timeout allows.
   * A failed attempt changed nothing: the lock is taken at BEGIN IMMEDIATE, before any write.
   */
  async transactionWithoutBlocking<T>(fn: () => T): Promise<T> {
    const database = this.#database;
    const deadline = performance.now() + this.#busyTimeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, LOCK_RETRY_MAX_DELAY_MS)) {
      database.pragma('busy_timeout = 0');
      try {
        return this.transaction(fn);
      } catch (err) {
        if (!isBusy(err)) throw err;
        if (performance.now() >= deadline) {
          throw new PertokenError(
            'store_unavailable',
            `ledger is locked by another writer for over ${this.#busyTimeoutMs} ms`,
            { cause: err },
          );
        }
      } finally {
        database.pragma(`busy_timeout = ${this.#busyTimeoutMs}`);
      }
      await sleep(delay);
    }
  }

  /**
   * Inserts events (ON CONFLICT (id) DO NOTHING, duplicates inside `rows` included) and adds only
   * the rows actually inserted to both rollups. Adds the inserted ids to `inserted` when given;
   * returns how many were inserted.
   */
  insertEvents(rows: readonly EventRow[], inserted?: Set<string>): number {
    const { insertEvent } = this.#prepared();
    const values = this.#eventValues;
    const rollups = new RollupBatch();
    let count = 0;
    for (const row of rows) {
      for (let c = 0; c < EVENT_COLUMNS.length; c++) values[c] = row[EVENT_COLUMNS[c]!] ?? null;
      if (insertEvent.run(values).changes !== 1) continue;
      count++;
      inserted?.add(row.id);
      rollups.addEvent(row);
    }
    this.applyRollups(rollups);
    return count;
  }

  /** Adds a batch's sums to both rollups (single writer: no lock order to keep, so unsorted). */
  applyRollups(batch: RollupBatch): void {
    const { upsert } = this.#prepared();
    for (const table of ['rollup_hourly', 'rollup_daily'] as const) {
      const statement = upsert[table];
      for (const entry of batch.rows(table, false)) statement.run(entry);
    }
  }

  /** A group-commit batch in arrival order, like writes.ts's applyWriteOps. */
  applyWriteOps(ops: readonly WriteOp[]): void {
    const { insertReservation, deleteReservation } = this.#prepared();
    const settled: EventRow[] = [];
    const reservationValues = new Array<unknown>(RESERVATION_COLUMNS.length);
    for (const op of ops) {
      if (op.kind === 'reserve') {
        // A reserve ends a run of settles, which are written first: operations keep their order,
        // as in writes.ts ("reserve X, settle X" in one batch leaves no reservation behind).
        if (settled.length > 0) this.#settle(settled.splice(0), deleteReservation);
        for (let c = 0; c < RESERVATION_COLUMNS.length; c++)
          reservationValues[c] = op.row[RESERVATION_COLUMNS[c]!] ?? null;
        insertReservation.run(reservationValues);
      } else {
        settled.push(op.row);
      }
    }
    if (settled.length > 0) this.#settle(settled, deleteReservation);
  }

  #settle(rows: EventRow[], deleteReservation: Database.Statement): void {
    this.insertEvents(rows);
    for (const row of rows) deleteReservation.run(row.id);
  }

  #prepared(): Statements {
    // Prepared on first use: the tables exist only after migrate().
    if (this.#statements !== undefined) return this.#statements;
    const db = this.#database;
    const upsert = (table: RollupTable): Database.Statement =>
      db.prepare(
        `insert into ${table} (${ROLLUP_COLUMNS[table].join(', ')}) values ${placeholders(ROLLUP_COLUMNS[table].length)}
         on conflict (${ROLLUP_KEYS[table].join(', ')}) do update set ${incrementClause(table)}`,
      );
    this.#statements = {
      insertEvent: db.prepare(
        `insert into events (${EVENT_COLUMNS.join(', ')}) values ${placeholders(EVENT_COLUMNS.length)} on conflict (id) do nothing`,
      ),
      insertReservation: db.prepare(
        `insert into reservations (${RESERVATION_COLUMNS.join(', ')}) values ${placeholders(RESERVATION_COLUMNS.length)}
         on conflict (id) do nothing`,
      ),
      deleteReservation: db.prepare('delete from reservations where id = ?'),
      upsert: { rollup_hourly: upsert('rollup_hourly'), rollup_daily: upsert('rollup_daily') },
    };
    return this.#statements;
  }
}
