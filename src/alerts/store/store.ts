import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { PertokenError } from '../../errors.js';
import { newEventId } from '../../ledger/index.js';
import { migrateAlerts } from './migrations.js';
import { AlertReader, AlertRepo } from './repo.js';
import type { AlertDatabase } from './schema.js';
import type { Silence } from '../types.js';

/** How long a SQLite writer waits for another process's write lock before giving up. */
const SQLITE_LOCK_DEADLINE_MS = 15_000;

export interface WriteOptions {
  /**
   * Serialise with every other exclusive write on this database, across replicas (the lifecycle:
   * two evaluations must not both open, resolve or notify the same alert). SQLite's write lock
   * already does this; PostgreSQL takes a transaction-scoped advisory lock for it.
   */
  exclusive?: boolean;
}

/**
 * The alert database: reads directly, writes through `write()` in one transaction. On SQLite a
 * write transaction starts with BEGIN IMMEDIATE, waiting for the lock asynchronously: a deferred
 * transaction that reads then writes fails with SQLITE_BUSY when another process wrote in between,
 * and better-sqlite3's busy wait would block this process's event loop meanwhile.
 */
export class AlertStore extends AlertReader {
  readonly dialect: 'sqlite' | 'postgres';
  readonly #db: Kysely<AlertDatabase>;
  readonly #schema: string | null;
  #closed = false;

  constructor(db: Kysely<AlertDatabase>, options: { dialect: 'sqlite' | 'postgres'; schema?: string }) {
    super(db);
    this.#db = db;
    this.dialect = options.dialect;
    this.#schema = options.schema ?? null;
  }

  async migrate(): Promise<void> {
    await migrateAlerts(this.#db as unknown as Kysely<unknown>, this.dialect, this.#schema);
  }

  /** Runs `fn` in one write transaction: everything it wrote commits together or not at all. */
  write<T>(fn: (repo: AlertRepo) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    if (this.dialect === 'sqlite') return this.#sqliteWrite(fn);
    return this.#db.transaction().execute(async (trx) => {
      if (options.exclusive)
        await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.pertoken_alerts'))`.execute(trx);
      return fn(new AlertRepo(trx));
    });
  }

  /** `POST /api/v1/admin/silences` */
  async createSilence(input: Omit<Silence, 'id' | 'created_at'>, now: Date): Promise<Silence> {
    const silence: Silence = { ...input, id: newEventId(now), created_at: now };
    await this.write((repo) => repo.insertSilence(silence));
    return silence;
  }

  /** Ends a silence now; false when there is no such silence. */
  expireSilence(id: string, now: Date): Promise<boolean> {
    return this.write((repo) => repo.expireSilence(id, now));
  }

  async ping(): Promise<void> {
    try {
      await sql`select 1`.execute(this.#db);
    } catch (err: unknown) {
      throw new PertokenError('store_unavailable', `alert store ping failed: ${String(err)}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.destroy();
  }

  #sqliteWrite<T>(fn: (repo: AlertRepo) => Promise<T>): Promise<T> {
    // connection() holds this store's one connection for the whole transaction.
    return this.#db.connection().execute(async (conn) => {
      const deadline = Date.now() + SQLITE_LOCK_DEADLINE_MS;
      for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
        try {
          await sql`begin immediate`.execute(conn);
          break;
        } catch (err: unknown) {
          if (!isBusy(err) || Date.now() > deadline)
            throw new PertokenError('store_unavailable', `alert store: cannot take the write lock: ${String(err)}`, {
              cause: err,
            });
          await sleep(wait + Math.floor(Math.random() * wait));
        }
      }
      try {
        const result = await fn(new AlertRepo(conn));
        await sql`commit`.execute(conn);
        return result;
      } catch (err: unknown) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw err;
      }
    });
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}
