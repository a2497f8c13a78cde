import { isRowDataError } from '../postgres/errors.js';
import type { InsertResult, UsageEvent } from '../types.js';
import type { OutboxQueue } from './queue.js';

/**
 * Moves events from the local outbox to the shared ledger, one batch per PostgreSQL transaction,
 * through the shared ledger's own idempotent write path (`insertEvents`: INSERT … ON CONFLICT (id)
 * DO NOTHING, rollups incremented only for rows actually inserted). A batch is deleted locally
 * only after PostgreSQL committed it, so every failure mode repeats work instead of losing it:
 * a crash or a lost COMMIT reply re-ships the batch, and the conflict clause drops the repeats.
 * Order is not preserved and need not be: every statement is keyed by event id.
 *
 * Failures: any failure of the database or the way to it backs off exponentially (with jitter)
 * and retries the same batch — "spooling". Only an error that follows a row (PostgreSQL refusing
 * a value, e.g. a NUL character in text) splits the batch to find the row, which is then set aside
 * in the outbox (quarantined, counted in stats, retried after a restart) so it cannot block the rest.
 */

export interface ShipperTarget {
  /** Brings the shared schema up to date; called before the first batch and after failures. */
  migrate(): Promise<void>;
  insertEvents(events: UsageEvent[]): Promise<InsertResult>;
}

export type OutboxErrorContext = 'ship' | 'migrate' | 'quarantine' | 'measure';

export interface ShipperOptions {
  queue: OutboxQueue;
  target: ShipperTarget;
  /** Events per PostgreSQL transaction. Default 1000. */
  batchSize?: number;
  /** Pause when the outbox has less than a full batch. Default 100 ms. */
  idleIntervalMs?: number;
  /** First retry delay after a failure; doubles per consecutive failure. Default 200 ms. */
  retryBaseDelayMs?: number;
  /** Longest retry delay. Default 10 000 ms. */
  retryMaxDelayMs?: number;
  /** How often backlog and age are measured besides after each attempt. Default 1000 ms. */
  measureIntervalMs?: number;
  onError?: (err: unknown, context: OutboxErrorContext) => void;
  now?: () => number;
}

export interface ShipperStats {
  /** Events waiting in the local outbox, quarantined ones included. */
  backlog: number;
  /** Age of the oldest queued event by its event time (ms), null when the outbox is empty. */
  oldestAgeMs: number | null;
  /** The last attempt to reach PostgreSQL failed: events accumulate locally until it answers. */
  spooling: boolean;
  /** Consecutive failed attempts (0 when the last one succeeded). */
  consecutiveFailures: number;
  /** Events set aside because PostgreSQL refuses a value in them (kept in the outbox). */
  quarantined: number;
  /** Events PostgreSQL stored as new. */
  shippedEvents: number;
  /** Events PostgreSQL already had: re-ships after an unanswered COMMIT, repeats from other replicas. */
  duplicateEvents: number;
  /** Committed ship transactions. */
  shipBatches: number;
  /** Failed ship attempts. */
  shipFailures: number;
  lastShippedAt: Date | null;
  lastError: string | null;
}

export interface DrainResult {
  /** Whether the outbox held nothing shippable when drain returned. */
  drained: boolean;
  /** Events still in the outbox (they ship after a restart). */
  remaining: number;
}

type CycleOutcome = 'full' | 'partial' | 'empty';

interface DrainWaiter {
  /** Only a cycle that started at or after this sequence number saw everything to drain. */
  fromCycle: number;
  resolve: () => void;
}

export class Shipper {
  readonly #queue: OutboxQueue;
  readonly #target: ShipperTarget;
  readonly #batchSize: number;
  readonly #idleMs: number;
  readonly #baseDelay: number;
  readonly #maxDelay: number;
  readonly #measureMs: number;
  readonly #onError: (err: unknown, context: OutboxErrorContext) => void;
  readonly #now: () => number;

  readonly #quarantined = new Map<string, string>();
  #gaps = false;
  #remoteReady = false;
  #loop: Promise<void> | null = null;
  #measureTimer: NodeJS.Timeout | null = null;
  #stopping = false;
  #wake: (() => void) | null = null;
  #cycleSeq = 0;
  #drainUntil = 0;
  #waiters: DrainWaiter[] = [];
  #backlog = 0;
  #oldestTimeMs: number | null = null;
  #counters = { shippedEvents: 0, duplicateEvents: 0, shipBatches: 0, shipFailures: 0, consecutiveFailures: 0 };
  #spooling = false;
  #lastShippedAt: Date | null = null;
  #lastError: string | null = null;

  constructor(options: ShipperOptions) {
    this.#queue = options.queue;
    this.#target = options.target;
    this.#batchSize = options.batchSize ?? 1000;
    this.#idleMs = options.idleIntervalMs ?? 100;
    this.#baseDelay = options.retryBaseDelayMs ?? 200;
    this.#maxDelay = options.retryMaxDelayMs ?? 10_000;
    this.#measureMs = options.measureIntervalMs ?? 1000;
    this.#onError = options.onError ?? (() => undefined);
    this.#now = options.now ?? Date.now;
    for (const [name, value] of Object.entries({
      batchSize: this.#batchSize,
      idleIntervalMs: this.#idleMs,
      retryBaseDelayMs: this.#baseDelay,
      retryMaxDelayMs: this.#maxDelay,
      measureIntervalMs: this.#measureMs,
    })) {
      if (!Number.isInteger(value) || value < 1)
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
  }

  /**
   * Starts shipping. `remoteReady` says whether the shared schema was migrated already (when
   * PostgreSQL was away at start-up, the loop migrates first). Resumes whatever the outbox holds.
   */
  async start(remoteReady: boolean): Promise<void> {
    if (this.#loop !== null) return;
    this.#remoteReady = remoteReady;
    this.#spooling = !remoteReady;
    // Gaps left by events quarantined before a restart: count once, so that stats stay exact.
    const span = await this.#queue.measure(false);
    const exact = await this.#queue.measure(true);
    this.#gaps = span.backlog !== exact.backlog;
    this.#setMeasure(exact.backlog, exact.oldestTimeMs);
    this.#loop = this.#run();
    // Backoff can hold the loop for seconds; metrics should not be that stale.
    this.#measureTimer = setInterval(() => void this.refresh(), this.#measureMs);
    this.#measureTimer.unref();
  }

  /** Lets the current batch finish, then stops; the outbox keeps what was not shipped. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#measureTimer !== null) clearInterval(this.#measureTimer);
    this.#wake?.();
    await this.#loop;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  /**
   * Ships without pausing until the outbox holds nothing shippable or `timeoutMs` passed (then the
   * rest stays in the outbox for a later run). Callers flush local group commits first.
   */
  async drain(timeoutMs: number): Promise<DrainResult> {
    if (this.#loop === null || this.#stopping) return this.#drainResult(false);
    const deadline = this.#now() + Math.max(0, timeoutMs);
    this.#drainUntil = Math.max(this.#drainUntil, deadline);
    let timer: NodeJS.Timeout | undefined;
    const drained = await new Promise<boolean>((resolve) => {
      this.#waiters.push({ fromCycle: this.#cycleSeq + 1, resolve: () => resolve(true) });
      timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
      this.#wake?.();
    });
    clearTimeout(timer);
    await this.refresh();
    return this.#drainResult(drained);
  }

  stats(): ShipperStats {
    return {
      backlog: this.#backlog,
      oldestAgeMs: this.#oldestTimeMs === null ? null : Math.max(0, this.#now() - this.#oldestTimeMs),
      spooling: this.#spooling,
      consecutiveFailures: this.#counters.consecutiveFailures,
      quarantined: this.#quarantined.size,
      shippedEvents: this.#counters.shippedEvents,
      duplicateEvents: this.#counters.duplicateEvents,
      shipBatches: this.#counters.shipBatches,
      shipFailures: this.#counters.shipFailures,
      lastShippedAt: this.#lastShippedAt,
      lastError: this.#lastError,
    };
  }

  /**
   * Marks PostgreSQL as failing (a direct write found it away) so that writes spool; the next
   * cycle talks to PostgreSQL (migrate) before clearing the mark, even with nothing to ship.
   */
  markSpooling(err: unknown): void {
    this.#spooling = true;
    this.#remoteReady = false;
    this.#lastError = messageOf(err);
  }

  get spooling(): boolean {
    return this.#spooling;
  }

  #drainResult(drained: boolean): DrainResult {
    return { drained: drained && this.#backlog <= this.#quarantined.size, remaining: this.#backlog };
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      let outcome: CycleOutcome | 'failed';
      const cycle = ++this.#cycleSeq;
      try {
        outcome = await this.#cycle();
        this.#counters.consecutiveFailures = 0;
        this.#spooling = false;
      } catch (err: unknown) {
        outcome = 'failed';
        this.#counters.shipFailures++;
        this.#counters.consecutiveFailures++;
        this.#spooling = true;
        this.#remoteReady = false; // a dropped schema or a failover: migrate again before shipping
        this.#lastError = messageOf(err);
        this.#onError(err, 'ship');
      }
      await this.refresh();
      if (outcome === 'empty') this.#resolveWaiters(cycle);
      if (this.#stopping) break;
      if (outcome === 'full') continue;
      const draining = this.#now() < this.#drainUntil;
      if (outcome === 'failed') await this.#sleep(this.#backoff(), draining);
      else if (!draining) await this.#sleep(this.#idleMs, false);
      else if (outcome === 'empty') await this.#sleep(Math.min(this.#idleMs, 10), true);
    }
  }

  async #cycle(): Promise<CycleOutcome> {
    if (!this.#remoteReady) {
      await this.#target.migrate();
      this.#remoteReady = true;
    }
    const events = await this.#queue.take(this.#batchSize, new Set(this.#quarantined.keys()));
    if (events.length === 0) return 'empty';
    await this.#ship(events);
    return events.length === this.#batchSize ? 'full' : 'partial';
  }

  /** Ships `events` in one transaction; a row-data error splits the batch to isolate the row. */
  async #ship(events: UsageEvent[]): Promise<void> {
    let result: InsertResult;
    try {
      result = await this.#target.insertEvents(events);
    } catch (err: unknown) {
      if (!isRowDataError(err)) throw err;
      const [only] = events;
      if (events.length === 1 && only !== undefined) {
        this.#quarantined.set(only.id, messageOf(err));
        this.#gaps = true;
        this.#onError(err, 'quarantine');
        return;
      }
      const half = Math.ceil(events.length / 2);
      await this.#ship(events.slice(0, half));
      await this.#ship(events.slice(half));
      return;
    }
    await this.#queue.remove(events.map((e) => e.id));
    this.#counters.shipBatches++;
    this.#counters.shippedEvents += result.accepted.length;
    this.#counters.duplicateEvents += result.duplicate.length;
    this.#lastShippedAt = new Date(this.#now());
  }

  /** Measures backlog and age now (stats() returns the last measure). */
  async refresh(): Promise<void> {
    try {
      const measure = await this.#queue.measure(this.#gaps);
      this.#setMeasure(measure.backlog, measure.oldestTimeMs);
    } catch (err: unknown) {
      this.#onError(err, 'measure');
    }
  }

  #setMeasure(backlog: number, oldestTimeMs: number | null): void {
    this.#backlog = backlog;
    this.#oldestTimeMs = oldestTimeMs;
    if (backlog === 0) this.#gaps = false;
  }

  #resolveWaiters(cycle: number): void {
    const waiting: DrainWaiter[] = [];
    for (const waiter of this.#waiters) {
      if (cycle >= waiter.fromCycle) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#waiters = waiting;
  }

  /** Exponential with equal jitter: half the delay fixed, half random, so replicas spread out. */
  #backoff(): number {
    const exponent = Math.min(this.#counters.consecutiveFailures - 1, 30);
    const delay = Math.min(this.#maxDelay, this.#baseDelay * 2 ** exponent);
    return Math.round(delay / 2 + (Math.random() * delay) / 2);
  }

  /** Waits `ms`, or less when woken (stop, drain); a drain never waits past its deadline. */
  #sleep(ms: number, draining: boolean): Promise<void> {
    const wait = draining ? Math.min(ms, Math.max(0, this.#drainUntil - this.#now())) : ms;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
