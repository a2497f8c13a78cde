/**
 * Settles and releases that could not reach Redis, kept in memory and replayed in order when the
 * connection is ready again. Replaying is safe because both are idempotent per lease id (the lease
 * record in Redis says whether it already happened). Bounded: past `max` entries new writes are
 * dropped and counted — the ledger still has the spend; only the shared counter misses it.
 */
import { isCountersUnavailable } from '../validate.js';

export type QueuedWrite = () => Promise<unknown>;

export class WriteQueue {
  readonly #pending: QueuedWrite[] = [];
  #flushing: Promise<void> | undefined;
  dropped = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#pending.length;
  }

  /** False when full (the write is dropped and counted). */
  push(write: QueuedWrite): boolean {
    if (this.#pending.length >= this.#max) {
      this.dropped++;
      return false;
    }
    this.#pending.push(write);
    return true;
  }

  /** Replays queued writes in order; stops at the first outage and keeps the rest. */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const write = this.#pending[0]!;
      try {
        await write();
      } catch (err) {
        if (isCountersUnavailable(err)) return;
        this.dropped++; // not an outage: retrying cannot help
      }
      this.#pending.shift();
    }
  }
}
