import { sql, type Kysely } from 'kysely';
import { PertokenError } from '../errors.js';
import {
  addManualAdjustment,
  queryAdjustments,
  reprice,
  type AdjustmentQuery,
  type ManualAdjustment,
  type RepriceOptions,
  type RepriceResult,
  type StoredAdjustment,
} from './adjustments.js';
import {
  importBillingRows,
  queryBillingRows,
  type BillingImportBatch,
  type BillingImportResult,
  type BillingRowQuery,
  type StoredBillingRow,
} from './billing-rows.js';
import { scanEvents, type ScanQuery } from './export.js';
import { pruneEvents, type PruneOptions, type PruneResult } from './retention.js';
import { getEvent, listEvents } from './events.js';
import { GroupCommitter, type GroupCommitStats } from './group-commit.js';
import { migrateToLatest } from './migrations.js';
import { queryCosts, type CostStrategy } from './queries.js';
import { recoverInterrupted } from './recovery.js';
import {
  queryClientAddresses,
  queryKeyFirstSeen,
  queryRequestRepeats,
  type ClientAddressQuery,
  type NewClientAddress,
  type RequestRepeat,
  type RequestRepeatQuery,
} from './request-queries.js';
import { eventToRow, reservationToRow, type EventRow } from './rows.js';
import type { LedgerDatabase } from './schema.js';
import type { SqliteBulkWriter } from './sqlite/bulk-writer.js';
import type {
  CostQuery,
  CostRow,
  EventPage,
  EventQuery,
  InsertResult,
  InterruptedPricer,
  Reservation,
  Store,
  UsageEvent,
} from './types.js';
import { applyWriteOps, insertEventRows, type WriteOp } from './writes.js';

/**
 * The Store on top of any Kysely dialect: group-committed reserve/settle, idempotent inserts,
 * recovery and queries all go through the shared Kysely statements. A dialect folder only opens
 * its database (pragmas, pool) and hands the Kysely instance over — SQLite also its prepared-
 * statement writer, which then carries the hot writes (settle batches, insertEvents).
 */

export type LedgerStats = GroupCommitStats;

/** A Store plus what operators and tests observe: group-commit counters. */
export interface LedgerStore extends Store {
  /** Group-commit counters (transactions, items, failures, largest batch, queue length). */
  stats(): LedgerStats;
  /** Same as Store.queryCosts; `strategy: 'raw'` skips the rollups (to verify them). */
  queryCosts(query: CostQuery, strategy?: CostStrategy): Promise<CostRow[]>;
  /** Waits until every reserve/settle submitted so far has committed or failed. */
  flush(): Promise<void>;
  /** Appends adjustments where the current price differs from list + adjustments (adjustments.ts). */
  reprice(options: RepriceOptions): Promise<RepriceResult>;
  /** Appends a manual credit/charge; false when its id was already recorded. */
  addAdjustment(adjustment: ManualAdjustment): Promise<boolean>;
  /** Deletes raw events and reservations older than N days in bounded batches (retention.ts). */
  pruneEvents(options: PruneOptions): Promise<PruneResult>;
  /** Events in [from, to), oldest first, one page at a time (export.ts). */
  scanEvents(query: ScanQuery): AsyncIterable<UsageEvent[]>;
}

export interface KyselyStoreOptions {
  db: Kysely<LedgerDatabase>;
  dialect: Store['dialect'];
  /**
   * SQLite only: the same database's prepared-statement writer. Event inserts and group commits
   * then go through it instead of Kysely-built statements (sqlite/bulk-writer.ts).
   */
  sqliteWriter?: SqliteBulkWriter;
  /** Items per group-commit transaction (default 512). */
  maxBatch?: number;
  /** PostgreSQL schema of the ledger tables, for the migrator (see LedgerMigratorOptions). */
  schema?: string;
  /** Runs at close after the last commit, before the database closes (stops helpers such as the checkpointer). */
  beforeClose?: (() => Promise<void>) | undefined;
}

export class KyselyLedgerStore implements LedgerStore {
  readonly dialect: Store['dialect'];
  readonly #db: Kysely<LedgerDatabase>;
  readonly #committer: GroupCommitter<WriteOp>;
  readonly #schema: string | undefined;
  readonly #sqliteWriter: SqliteBulkWriter | undefined;
  readonly #beforeClose: (() => Promise<void>) | undefined;
  #closed = false;

  constructor(options: KyselyStoreOptions) {
    this.dialect = options.dialect;
    this.#db = options.db;
    this.#schema = options.schema;
    this.#sqliteWriter = options.sqliteWriter;
    this.#beforeClose = options.beforeClose;
    const db = options.db;
    const fast = options.sqliteWriter;
    this.#committer = new GroupCommitter<WriteOp>({
      maxBatch: options.maxBatch,
      write:
        fast === undefined
          ? (ops) => db.transaction().execute((trx) => applyWriteOps(trx, ops))
          : (ops) => this.#withSqliteWriter((w) => w.transactionWithoutBlocking(() => w.applyWriteOps(ops))),
    });
  }

  async migrate(): Promise<void> {
    this.#assertOpen();
    await migrateToLatest(this.#db as unknown as Kysely<unknown>, { schema: this.#schema, dialect: this.dialect });
  }

  /**
   * Runs synchronous better-sqlite3 work while holding Kysely's (only) connection, so it can never
   * interleave with a Kysely transaction that is open on the same database handle.
   */
  #withSqliteWriter<T>(fn: (writer: SqliteBulkWriter) => T | Promise<T>): Promise<T> {
    const writer = this.#sqliteWriter;
    if (writer === undefined) throw new PertokenError('internal', 'no SQLite writer');
    return this.#db.connection().execute(async () => fn(writer));
  }

  async reserve(reservation: Reservation): Promise<void> {
    // Validation happens here, per caller, so one bad item cannot fail a shared batch.
    const row = reservationToRow(reservation);
    await this.#committer.submit({ kind: 'reserve', row });
  }

  async settle(event: UsageEvent): Promise<void> {
    const row = eventToRow(event);
    await this.#committer.submit({ kind: 'settle', row });
  }

  async insertEvents(events: UsageEvent[]): Promise<InsertResult> {
    this.#assertOpen();
    const rows: EventRow[] = events.map((e, i) => eventToRow(e, `events[${i}]`));
    if (rows.length === 0) return { accepted: [], duplicate: [] };
    const inserted =
      this.#sqliteWriter === undefined
        ? await this.#db.transaction().execute((trx) => insertEventRows(trx, rows))
        : await this.#withSqliteWriter(async (w) => {
            const ids = new Set<string>();
            await w.transactionWithoutBlocking(() => w.insertEvents(rows, ids));
            return ids;
          });
    const accepted: string[] = [];
    const duplicate: string[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      if (inserted.has(row.id) && !seen.has(row.id)) accepted.push(row.id);
      else duplicate.push(row.id);
      seen.add(row.id);
    }
    return { accepted, duplicate };
  }

  async recoverInterrupted(pricer: InterruptedPricer): Promise<number> {
    this.#assertOpen();
    await this.#committer.flush();
    return recoverInterrupted(this.#db, pricer);
  }

  async queryCosts(query: CostQuery, strategy: CostStrategy = 'auto'): Promise<CostRow[]> {
    this.#assertOpen();
    return queryCosts(this.#db, query, strategy);
  }

  async listEvents(query: EventQuery): Promise<EventPage> {
    this.#assertOpen();
    return listEvents(this.#db, query);
  }

  async getEvent(id: string): Promise<UsageEvent | null> {
    this.#assertOpen();
    return getEvent(this.#db, id);
  }

  async importBillingRows(batch: BillingImportBatch): Promise<BillingImportResult> {
    this.#assertOpen();
    return importBillingRows(this.#db, batch);
  }

  async queryBillingRows(query: BillingRowQuery): Promise<StoredBillingRow[]> {
    this.#assertOpen();
    return queryBillingRows(this.#db, query);
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    try {
      await sql`select 1`.execute(this.#db);
    } catch (err: unknown) {
      throw new PertokenError('store_unavailable', `ledger ping failed: ${String(err)}`, { cause: err });
    }
  }

  async reprice(options: RepriceOptions): Promise<RepriceResult> {
    this.#assertOpen();
    return reprice(this.#db, options);
  }

  async addAdjustment(adjustment: ManualAdjustment): Promise<boolean> {
    this.#assertOpen();
    return addManualAdjustment(this.#db, adjustment);
  }

  async queryAdjustments(query: AdjustmentQuery): Promise<StoredAdjustment[]> {
    this.#assertOpen();
    return queryAdjustments(this.#db, query);
  }

  async pruneEvents(options: PruneOptions): Promise<PruneResult> {
    this.#assertOpen();
    return pruneEvents(this.#db, options);
  }

  scanEvents(query: ScanQuery): AsyncIterable<UsageEvent[]> {
    this.#assertOpen();
    return scanEvents(this.#db, query);
  }

  async queryRequestRepeats(query: RequestRepeatQuery): Promise<RequestRepeat[]> {
    this.#assertOpen();
    return queryRequestRepeats(this.#db, query);
  }

  async queryClientAddresses(query: ClientAddressQuery): Promise<NewClientAddress[]> {
    this.#assertOpen();
    return queryClientAddresses(this.#db, query);
  }

  async queryKeyFirstSeen(keys: readonly string[]): Promise<Map<string, Date>> {
    this.#assertOpen();
    return queryKeyFirstSeen(this.#db, keys);
  }

  stats(): LedgerStats {
    return this.#committer.stats();
  }

  flush(): Promise<void> {
    return this.#committer.flush();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#committer.close();
    } finally {
      try {
        await this.#beforeClose?.();
      } finally {
        await this.#db.destroy();
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new PertokenError('store_unavailable', 'ledger is closed');
  }
}
