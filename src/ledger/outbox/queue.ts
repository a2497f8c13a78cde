import { sql, type Kysely } from 'kysely';
import { rowToEvent } from '../rows.js';
import { toNumber, type LedgerDatabase } from '../schema.js';
import type { UsageEvent } from '../types.js';

/**
 * The local outbox seen as a queue. The outbox is an ordinary SQLite ledger (same schema, same
 * group-committed write path); its `events` table holds exactly the events not yet shipped.
 * Shipped events are deleted, and the outbox's rollup rows — a by-product of reusing the write
 * path, never read — are cleared in the same transaction so they cannot grow without bound.
 */

const DELETE_CHUNK = 500;

export interface BacklogMeasure {
  /** Events waiting in the outbox (quarantined ones included). */
  backlog: number;
  /** Event time of the oldest-queued event, null when empty. */
  oldestTimeMs: number | null;
}

export class OutboxQueue {
  readonly #db: Kysely<LedgerDatabase>;

  constructor(db: Kysely<LedgerDatabase>) {
    this.#db = db;
  }

  /** Up to `limit` events in the order they were queued (rowid), skipping `exclude`. */
  async take(limit: number, exclude: ReadonlySet<string>): Promise<UsageEvent[]> {
    let query = this.#db.selectFrom('events').selectAll();
    if (exclude.size > 0) query = query.where('id', 'not in', [...exclude]);
    const rows = await query
      .orderBy(sql`rowid`)
      .limit(limit)
      .execute();
    return rows.map(rowToEvent);
  }

  /** Forgets shipped events, in one local transaction. */
  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#db.transaction().execute(async (trx) => {
      for (let i = 0; i < ids.length; i += DELETE_CHUNK) {
        await trx
          .deleteFrom('events')
          .where('id', 'in', ids.slice(i, i + DELETE_CHUNK))
          .execute();
      }
      await trx.deleteFrom('rollup_hourly').execute();
      await trx.deleteFrom('rollup_daily').execute();
    });
  }

  /**
   * Backlog size without counting rows (count(*) walks the whole table: ~25 ms per million rows
   * on the event loop). SQLite gives a new row max(rowid)+1 and the shipper deletes queued events
   * oldest first, so the rowids in the table are contiguous and max - min + 1 is the exact
   * count — unless quarantined events left gaps behind them; then it counts (rare, and already
   * an alerting state).
   */
  async measure(hasGaps: boolean): Promise<BacklogMeasure> {
    const first = await this.#db
      .selectFrom('events')
      .select([sql<unknown>`rowid`.as('rid'), 'time_ms'])
      .orderBy(sql`rowid`)
      .limit(1)
      .executeTakeFirst();
    if (first === undefined) return { backlog: 0, oldestTimeMs: null };
    let backlog: number;
    if (hasGaps) {
      const row = await this.#db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      backlog = toNumber(row.n);
    } else {
      const last = await this.#db
        .selectFrom('events')
        .select(sql<unknown>`rowid`.as('rid'))
        .orderBy(sql`rowid`, 'desc')
        .limit(1)
        .executeTakeFirstOrThrow();
      backlog = toNumber(last.rid) - toNumber(first.rid) + 1;
    }
    return { backlog, oldestTimeMs: toNumber(first.time_ms) };
  }
}
