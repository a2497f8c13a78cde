import { PertokenError } from '../errors.js';

/**
 * Group commit: writes from concurrent requests wait for the next flush and share ONE transaction,
 * so a commit (and its fsync, when synchronous=FULL) is paid per batch, not per request. A flush
 * starts on the next macrotask (setImmediate) or at once when `maxBatch` items are waiting; while a
 * flush runs, new items gather for the next one. A caller's promise settles only after its batch's
 * transaction committed — or rejects with every other item of that batch if it failed.
 */

export interface GroupCommitOptions<T> {
  /** Writes one batch in one transaction; must throw if the transaction did not commit. */
  write(batch: readonly T[]): Promise<void>;
  /** Items per transaction; reaching it flushes without waiting for the next tick. Default 512. */
  maxBatch?: number;
}

export interface GroupCommitStats {
  /** Transactions committed. */
  flushes: number;
  /** Transactions that failed (each rejected all of its items). */
  failedFlushes: number;
  /** Items whose transaction committed. */
  committedItems: number;
  /** Items that rejected because their transaction failed. */
  failedItems: number;
  /** Largest batch written so far. */
  largestBatch: number;
  /** Items waiting for a flush right now. */
  pending: number;
}

interface Entry<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export const DEFAULT_MAX_BATCH = 512;

export class GroupCommitter<T> {
  readonly #write: (batch: readonly T[]) => Promise<void>;
  readonly #maxBatch: number;
  #pending: Entry<T>[] = [];
  #scheduled = false;
  #draining: Promise<void> | null = null;
  #closed = false;
  #stats = { flushes: 0, failedFlushes: 0, committedItems: 0, failedItems: 0, largestBatch: 0 };

  constructor(options: GroupCommitOptions<T>) {
    this.#write = options.write;
    this.#maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isInteger(this.#maxBatch) || this.#maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${this.#maxBatch}`);
    }
  }

  /** Resolves once `item` is committed; rejects with store_unavailable if its batch failed. */
  submit(item: T): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new PertokenError('store_unavailable', 'ledger is closed'));
    }
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#pending.length >= this.#maxBatch) this.#kick();
      else this.#schedule();
    });
  }

  /** Waits until every item submitted so far has been committed or rejected. */
  async flush(): Promise<void> {
    while (this.#pending.length > 0 || this.#draining !== null) {
      this.#kick();
      await this.#draining;
    }
  }

  /** Refuses new items, then flushes what is queued. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  stats(): GroupCommitStats {
    return { ...this.#stats, pending: this.#pending.length };
  }

  #schedule(): void {
    if (this.#scheduled || this.#draining !== null) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#draining !== null || this.#pending.length === 0) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = null;
      // Items submitted between the drain loop's last check and here found a drain running and
      // did not schedule one themselves.
      if (this.#pending.length >= this.#maxBatch) this.#kick();
      else if (this.#pending.length > 0) this.#schedule();
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxBatch);
      try {
        await this.#write(batch.map((e) => e.item));
      } catch (err) {
        this.#stats.failedFlushes++;
        this.#stats.failedItems += batch.length;
        const error =
          err instanceof PertokenError
            ? err
            : new PertokenError(
                'store_unavailable',
                `ledger write failed: ${err instanceof Error ? err.message : String(err)}`,
                { cause: err },
              );
        for (const entry of batch) entry.reject(error);
        continue;
      }
      this.#stats.flushes++;
      this.#stats.committedItems += batch.length;
      this.#stats.largestBatch = Math.max(this.#stats.largestBatch, batch.length);
      for (const entry of batch) entry.resolve();
    }
  }
}
