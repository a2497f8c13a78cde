import type { Kysely } from 'kysely';
import { PertokenError } from '../errors.js';
import { DAY_MS } from './rollups.js';
import type { LedgerDatabase } from './schema.js';

/**
 * Raw-event retention. Events (and leftover reservations) older than N days are deleted in bounded
 * batches, each its own short statement, so a prune never holds the write lock long enough to stall
 * the gateway's group commits. Rollups and adjustments are kept forever: reports over whole hours
 * stay exact after the raw rows are gone; what raw events answer loses the pruned rows — per-event
 * listings, the partial hours at the edges of a report range, and reports grouped or filtered by
 * user (no rollup keeps the user; see queries.ts).
 */

type Db = Kysely<LedgerDatabase>;

export const DEFAULT_PRUNE_BATCH = 5000;

export interface PruneOptions {
  /** Delete rows whose time is before now − olderThanDays × 24 h. At least 1. */
  olderThanDays: number;
  /** Rows per delete statement. Default 5000. */
  batchSize?: number;
  /** Default: the current time. */
  now?: Date;
}

export interface PruneResult {
  /** Rows with time_ms below this were deleted. */
  cutoff: Date;
  deleted_events: number;
  deleted_reservations: number;
  /** Delete statements that removed at least one row. */
  batches: number;
}

function checkOptions(options: PruneOptions): { cutoffMs: number; batchSize: number } {
  const days = options.olderThanDays;
  if (typeof days !== 'number' || !Number.isSafeInteger(days) || days < 1) {
    throw new PertokenError(
      'invalid_request',
      `olderThanDays must be a whole number of days >= 1, got ${String(days)}`,
      {
        param: 'olderThanDays',
      },
    );
  }
  const batchSize = options.batchSize ?? DEFAULT_PRUNE_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new PertokenError('invalid_request', `batchSize must be a positive integer, got ${String(batchSize)}`, {
      param: 'batchSize',
    });
  }
  const now = options.now ?? new Date();
  return { cutoffMs: now.getTime() - days * DAY_MS, batchSize };
}

async function deleteOlder(
  db: Db,
  table: 'events' | 'reservations',
  cutoffMs: number,
  batchSize: number,
): Promise<number> {
  // DELETE ... WHERE id IN (SELECT ... LIMIT n): the portable bounded delete (SQLite's own
  // DELETE ... LIMIT needs a compile option, PostgreSQL has none). Oldest first, on the time index.
  const result = await db
    .deleteFrom(table)
    .where('id', 'in', (eb) =>
      eb.selectFrom(table).select('id').where('time_ms', '<', cutoffMs).orderBy('time_ms').limit(batchSize),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Deletes events and reservations older than the cutoff, batch by batch. */
export async function pruneEvents(db: Db, options: PruneOptions): Promise<PruneResult> {
  const { cutoffMs, batchSize } = checkOptions(options);
  const result: PruneResult = { cutoff: new Date(cutoffMs), deleted_events: 0, deleted_reservations: 0, batches: 0 };
  for (const table of ['events', 'reservations'] as const) {
    for (;;) {
      const n = await deleteOlder(db, table, cutoffMs, batchSize);
      if (n > 0) result.batches++;
      if (table === 'events') result.deleted_events += n;
      else result.deleted_reservations += n;
      if (n < batchSize) break;
      // better-sqlite3 is synchronous: let requests in between batches.
      await yieldToEventLoop();
    }
  }
  return result;
}

export interface RetentionJobOptions {
  batchSize?: number;
  onResult?: (result: PruneResult) => void;
  /** A failed run is reported here and retried at the next interval. */
  onError?: (err: unknown) => void;
}

/**
 * Prunes now and then every `intervalMs` (the timer does not keep the process alive). Returns
 * `stop`, which cancels the timer and resolves once a run in progress has finished.
 */
export function startRetentionJob(
  store: { pruneEvents(options: PruneOptions): Promise<PruneResult> },
  days: number,
  intervalMs: number,
  options: RetentionJobOptions = {},
): () => Promise<void> {
  checkOptions({ olderThanDays: days, batchSize: options.batchSize });
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
    throw new PertokenError('invalid_request', `intervalMs must be a positive integer, got ${String(intervalMs)}`, {
      param: 'intervalMs',
    });
  }
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;

  const run = (): void => {
    timer = null;
    if (stopped) return;
    running = store
      .pruneEvents({
        olderThanDays: days,
        ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      })
      .then(
        (result) => options.onResult?.(result),
        (err: unknown) => options.onError?.(err),
      )
      .finally(() => {
        if (stopped) return;
        timer = setTimeout(run, intervalMs);
        timer.unref();
      });
  };
  timer = setTimeout(run, 0);
  timer.unref();

  return async () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    await running;
  };
}
