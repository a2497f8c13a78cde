import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { PertokenError } from '../../errors.js';
import { KyselyLedgerStore, type LedgerStore } from '../kysely-store.js';
import type { LedgerDatabase } from '../schema.js';
import { SqliteBulkWriter } from './bulk-writer.js';
import { WalCheckpointer } from './checkpointer.js';

/**
 * The embedded ledger: one better-sqlite3 connection in WAL mode behind Kysely.
 *
 * Durability: a commit appends to the WAL. With `synchronous: 'NORMAL'` (default) the WAL is not
 * fsynced per commit, so a committed transaction survives a process crash or kill -9 (the data is
 * in the OS page cache) but the last commits may be lost on power loss or a kernel crash; the
 * database never corrupts either way. `synchronous: 'FULL'` fsyncs the WAL on every commit —
 * group commit keeps that to one fsync per batch — and survives power loss too.
 */

export type SqliteSynchronous = 'NORMAL' | 'FULL';

export interface SqliteStoreOptions {
  /** Database file; ':memory:' for a private in-memory ledger (tests). Parent dirs are created. */
  path: string;
  /** See the module comment. Default 'NORMAL'. */
  synchronous?: SqliteSynchronous;
  /** How long a statement waits for another process's lock before failing. Default 5000. */
  busyTimeoutMs?: number;
  /** Items per group-commit transaction. Default 512. */
  maxBatch?: number;
  /**
   * Where WAL checkpoints run: 'background' (default for files) on a worker thread, so the event
   * loop never waits for one (sqlite/checkpointer.ts); 'inline' leaves SQLite's auto-checkpoint
   * inside the committing call (short-lived CLI processes).
   */
  checkpoint?: 'background' | 'inline';
  /** Pause between background checkpoints (WalCheckpointerOptions.intervalMs). */
  checkpointIntervalMs?: number;
  /** Told when the background checkpointer fails (the store falls back to inline checkpoints). */
  onCheckpointError?: (err: Error) => void;
}

function isMemory(path: string): boolean {
  return path === ':memory:' || path === '';
}

/** Opens the file and applies the pragmas; the caller runs `migrate()` before use. */
export function openSqliteDatabase(options: SqliteStoreOptions): Database.Database {
  const synchronous = options.synchronous ?? 'NORMAL';
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new PertokenError('config_invalid', `synchronous must be NORMAL or FULL, got ${String(synchronous)}`, {
      param: 'synchronous',
    });
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  let db: Database.Database;
  try {
    if (!isMemory(options.path)) mkdirSync(dirname(resolve(options.path)), { recursive: true });
    db = new Database(options.path);
  } catch (err: unknown) {
    throw new PertokenError('store_unavailable', `cannot open ledger ${options.path}: ${String(err)}`, {
      cause: err,
    });
  }
  try {
    if (!isMemory(options.path)) db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    // Every INTEGER comes back as a bigint: nano-USD sums pass 2^53 at ~$9M and must never
    // round-trip through a JS number. Non-money columns are converted explicitly on read.
    db.defaultSafeIntegers(true);
  } catch (err: unknown) {
    db.close();
    throw new PertokenError('store_unavailable', `cannot configure ledger ${options.path}: ${String(err)}`, {
      cause: err,
    });
  }
  return db;
}

/**
 * Starts the background checkpointer for a file database unless told 'inline'; returns what stops
 * it (to run before the connection closes), or undefined when there is none.
 */
export function startCheckpointer(
  database: Database.Database,
  options: SqliteStoreOptions,
): (() => Promise<void>) | undefined {
  if (isMemory(options.path) || options.checkpoint === 'inline') return undefined;
  const checkpointer = new WalCheckpointer(database, {
    path: options.path,
    ...(options.checkpointIntervalMs === undefined ? {} : { intervalMs: options.checkpointIntervalMs }),
    ...(options.onCheckpointError === undefined ? {} : { onError: options.onCheckpointError }),
  });
  return () => checkpointer.close();
}

export function createSqliteStore(options: SqliteStoreOptions): LedgerStore {
  const database = openSqliteDatabase(options);
  const db = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database }) });
  return new KyselyLedgerStore({
    db,
    dialect: 'sqlite',
    maxBatch: options.maxBatch,
    sqliteWriter: new SqliteBulkWriter(database),
    beforeClose: startCheckpointer(database, options),
  });
}
