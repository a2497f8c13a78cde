/**
 * A value computed in the background and served stale: `get()` answers at once with the last
 * computed value and starts one recomputation when that value is older than `maxAgeMs`. What
 * Prometheus gauges backed by ledger queries need: a scrape never waits on a query. A failed
 * computation goes to `onError` and the previous value is kept.
 */
export interface StaleValueOptions<T> {
  initial: T;
  /** Computes the value as of `now`. */
  compute: (now: Date) => Promise<T>;
  maxAgeMs: number;
  now?: () => Date;
  onError: (err: unknown) => void;
}

export class StaleValue<T> {
  readonly #o: StaleValueOptions<T>;
  readonly #now: () => Date;
  #value: T;
  /** When the last computation started (ms); null before the first. */
  #startedAt: number | null = null;
  #running: Promise<void> | null = null;

  constructor(options: StaleValueOptions<T>) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#value = options.initial;
  }

  /** The last computed value; starts a background refresh when it is stale. */
  get(): T {
    const at = this.#now().getTime();
    if (this.#startedAt === null || at - this.#startedAt >= this.#o.maxAgeMs) void this.refresh();
    return this.#value;
  }

  /** Recomputes now (joining a refresh already running); never rejects. */
  refresh(): Promise<void> {
    this.#running ??= this.#compute().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Resolves when no refresh is running (shutdown waits for it before closing the store). */
  async idle(): Promise<void> {
    await this.#running;
  }

  async #compute(): Promise<void> {
    const now = this.#now();
    this.#startedAt = now.getTime();
    try {
      this.#value = await this.#o.compute(now);
    } catch (err: unknown) {
      this.#o.onError(err);
    }
  }
}
