import { Kysely, SqliteDialect } from 'kysely';
import { PertokenError } from '../../errors.js';
import type { AdjustmentQuery, StoredAdjustment } from '../adjustments.js';
import type { BillingImportBatch, BillingImportResult, BillingRowQuery, StoredBillingRow } from '../billing-rows.js';
import { KyselyLedgerStore, type LedgerStats, type LedgerStore } from '../kysely-store.js';
import { isRowDataError, isTransientDatabaseError, toStoreError } from '../postgres/errors.js';
import { createPostgresStore } from '../postgres/store.js';
import type { CostStrategy } from '../queries.js';
import type { ClientAddressQuery, NewClientAddress, RequestRepeat, RequestRepeatQuery } from '../request-queries.js';
import type { LedgerDatabase } from '../schema.js';
import { openSqliteDatabase, startCheckpointer, type SqliteSynchronous } from '../sqlite/store.js';
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
} from '../types.js';
import { OutboxQueue } from './queue.js';
import { Shipper, type DrainResult, type OutboxErrorContext, type ShipperStats } from './shipper.js';

/**
 * A gateway replica's ledger when PostgreSQL is the shared truth.
 *
 * Writes: reserve/settle commit to a local SQLite outbox (the embedded store with its group
 * commit, so "committed before the response ends" holds even while PostgreSQL is away), and a
 * shipper moves settled events to PostgreSQL in the background (see shipper.ts). Reservations and
 * crash recovery stay local: a replica killed mid-request settles its own interrupted requests
 * into its outbox at the next start, and they ship from there. The event API (insertEvents) writes
 * to PostgreSQL directly, so its accepted/duplicate answer is the shared truth; while PostgreSQL
 * is away it spools to the outbox instead, and may then acknowledge as accepted an id PostgreSQL
 * already holds (it is still stored once).
 *
 * Reads (costs, events) come from PostgreSQL: every replica answers alike, and an event shows in
 * reports once shipped (one idle interval, ~100 ms, later; after the outage while PostgreSQL is
 * away). getEvent also looks in the local outbox, so an event this replica settled a moment ago
 * is found before it ships.
 *
 * Spooling is bounded by the outbox's disk: when that is full too, settles fail and the gateway's
 * SettleRetrier keeps the events in memory and spills them to a file at shutdown. Each replica
 * needs its own outbox file: recovery would settle another live process's reservations.
 */

/** Where a replicated-store error came from: shipping, the pool, or the outbox's WAL checkpointer. */
export type ReplicatedErrorContext = OutboxErrorContext | 'pool' | 'checkpoint';

export interface ReplicatedStoreOptions {
  /** The local SQLite outbox file (one per replica; parent directories are created). */
  outboxPath: string;
  /** postgres://… of the shared ledger. */
  postgresUrl: string;
  /** PostgreSQL schema of the shared ledger. Default 'public'. */
  schema?: string;
  /** PostgreSQL connections. Default 10. */
  poolSize?: number;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  /** Outbox durability (see SqliteStoreOptions). Default 'NORMAL'. */
  synchronous?: SqliteSynchronous;
  /** Items per local group-commit transaction. Default 512. */
  maxBatch?: number;
  /** Events per PostgreSQL transaction. Default 1000. */
  shipBatchSize?: number;
  idleIntervalMs?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Failures worth logging: shipping, migration, quarantined rows, pool socket errors. */
  onError?: (err: unknown, context: ReplicatedErrorContext) => void;
}

export interface OutboxStats extends ShipperStats {
  /** Group-commit counters of the local outbox. */
  local: LedgerStats;
}

export interface ReplicatedStore extends Store {
  readonly dialect: 'postgres';
  /**
   * The PostgreSQL ledger itself, for work on the shared truth that is no replica's own
   * (repricing, retention, export). Writes through it bypass the outbox.
   */
  readonly shared: LedgerStore;
  /** Backlog, age, spooling and shipping counters, for /metrics and alerts. */
  stats(): OutboxStats;
  /**
   * For SIGTERM: commits queued local writes, then ships until the outbox is empty or `timeoutMs`
   * (default 10 000) passed. What is left stays in the outbox and ships after a restart.
   */
  drain(options?: { timeoutMs?: number }): Promise<DrainResult>;
  /** Waits for queued local (outbox) commits. */
  flush(): Promise<void>;
  queryCosts(query: CostQuery, strategy?: CostStrategy): Promise<CostRow[]>;
}

export function createReplicatedStore(options: ReplicatedStoreOptions): ReplicatedStore {
  const onError = options.onError ?? (() => undefined);
  const remote = createPostgresStore({
    url: options.postgresUrl,
    schema: options.schema,
    poolSize: options.poolSize,
    connectTimeoutMs: options.connectTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs,
    onError: (err) => onError(err, 'pool'),
  });
  const outbox = {
    path: options.outboxPath,
    synchronous: options.synchronous,
    onCheckpointError: (err: Error) => onError(err, 'checkpoint'),
  };
  const database = openSqliteDatabase(outbox);
  const db = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database }) });
  const local = new KyselyLedgerStore({
    db,
    dialect: 'sqlite',
    maxBatch: options.maxBatch,
    beforeClose: startCheckpointer(database, outbox),
  });
  const shipper = new Shipper({
    queue: new OutboxQueue(db),
    target: remote,
    batchSize: options.shipBatchSize,
    idleIntervalMs: options.idleIntervalMs,
    retryBaseDelayMs: options.retryBaseDelayMs,
    retryMaxDelayMs: options.retryMaxDelayMs,
    onError,
  });
  return new OutboxLedgerStore(local, remote, shipper, onError);
}

class OutboxLedgerStore implements ReplicatedStore {
  readonly dialect = 'postgres' as const;
  readonly #local: LedgerStore;
  readonly #remote: LedgerStore;
  readonly #shipper: Shipper;
  readonly #onError: (err: unknown, context: ReplicatedErrorContext) => void;
  #closed = false;

  get shared(): LedgerStore {
    return this.#remote;
  }

  constructor(
    local: LedgerStore,
    remote: LedgerStore,
    shipper: Shipper,
    onError: (err: unknown, context: ReplicatedErrorContext) => void,
  ) {
    this.#local = local;
    this.#remote = remote;
    this.#shipper = shipper;
    this.#onError = onError;
  }

  /**
   * Migrates the outbox, then PostgreSQL, then starts shipping. PostgreSQL being unreachable does
   * not stop the replica (it spools; the shipper migrates once it answers); a configuration
   * error (authentication, unknown database) does.
   */
  async migrate(): Promise<void> {
    this.#assertOpen();
    await this.#local.migrate();
    let remoteReady = true;
    try {
      await this.#remote.migrate();
    } catch (err: unknown) {
      if (!isTransientDatabaseError(err)) throw err;
      remoteReady = false;
      this.#onError(err, 'migrate');
    }
    await this.#shipper.start(remoteReady);
  }

  reserve(reservation: Reservation): Promise<void> {
    return this.#local.reserve(reservation);
  }

  settle(event: UsageEvent): Promise<void> {
    return this.#local.settle(event);
  }

  async insertEvents(events: UsageEvent[]): Promise<InsertResult> {
    this.#assertOpen();
    if (!this.#shipper.spooling) {
      try {
        return await this.#remote.insertEvents(events);
      } catch (err: unknown) {
        if (err instanceof PertokenError) throw err; // validation: nothing was written
        if (isRowDataError(err)) {
          const detail = err instanceof Error ? err.message : String(err);
          throw new PertokenError('invalid_request', `the ledger refused an event: ${detail}`, { cause: err });
        }
        if (!isTransientDatabaseError(err)) throw err;
        this.#shipper.markSpooling(err);
        this.#onError(err, 'ship');
      }
    }
    const spooled = await this.#local.insertEvents(events);
    await this.#shipper.refresh();
    return spooled;
  }

  recoverInterrupted(pricer: InterruptedPricer): Promise<number> {
    return this.#local.recoverInterrupted(pricer);
  }

  async queryCosts(query: CostQuery, strategy: CostStrategy = 'auto'): Promise<CostRow[]> {
    return this.#read('cost query', () => this.#remote.queryCosts(query, strategy));
  }

  // Bill imports are rare admin work on the shared truth: no outbox, PostgreSQL down is an error.
  async importBillingRows(batch: BillingImportBatch): Promise<BillingImportResult> {
    return this.#read('billing import', () => this.#remote.importBillingRows(batch));
  }

  async queryBillingRows(query: BillingRowQuery): Promise<StoredBillingRow[]> {
    return this.#read('billing query', () => this.#remote.queryBillingRows(query));
  }

  async queryAdjustments(query: AdjustmentQuery): Promise<StoredAdjustment[]> {
    return this.#read('adjustment query', () => this.#remote.queryAdjustments(query));
  }

  async listEvents(query: EventQuery): Promise<EventPage> {
    return this.#read('event list', () => this.#remote.listEvents(query));
  }

  // The detectors' reads see shipped events only, like cost queries (one idle interval behind).
  async queryRequestRepeats(query: RequestRepeatQuery): Promise<RequestRepeat[]> {
    return this.#read('request query', () => this.#remote.queryRequestRepeats(query));
  }

  async queryClientAddresses(query: ClientAddressQuery): Promise<NewClientAddress[]> {
    return this.#read('address query', () => this.#remote.queryClientAddresses(query));
  }

  async queryKeyFirstSeen(keys: readonly string[]): Promise<Map<string, Date>> {
    return this.#read('key query', () => this.#remote.queryKeyFirstSeen(keys));
  }

  async getEvent(id: string): Promise<UsageEvent | null> {
    let shared: UsageEvent | null;
    try {
      shared = await this.#read('event read', () => this.#remote.getEvent(id));
    } catch (err: unknown) {
      const queued = await this.#local.getEvent(id);
      if (queued !== null) return queued;
      throw err;
    }
    return shared ?? this.#local.getEvent(id);
  }

  /** Readiness is the outbox's: a replica keeps serving (and spooling) while PostgreSQL is away. */
  ping(): Promise<void> {
    return this.#local.ping();
  }

  stats(): OutboxStats {
    return { ...this.#shipper.stats(), local: this.#local.stats() };
  }

  flush(): Promise<void> {
    return this.#local.flush();
  }

  async drain(options: { timeoutMs?: number } = {}): Promise<DrainResult> {
    const started = Date.now();
    const timeoutMs = options.timeoutMs ?? 10_000;
    await this.#local.flush();
    return this.#shipper.drain(Math.max(0, timeoutMs - (Date.now() - started)));
  }

  /** Stops shipping (the batch in flight finishes), commits queued local writes, closes both. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#shipper.stop();
      await this.#local.close();
    } finally {
      await this.#remote.close();
    }
  }

  async #read<T>(what: string, read: () => Promise<T>): Promise<T> {
    this.#assertOpen();
    try {
      return await read();
    } catch (err: unknown) {
      throw toStoreError(err, `${what} failed: the shared ledger is unreachable`);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new PertokenError('store_unavailable', 'ledger is closed');
  }
}
