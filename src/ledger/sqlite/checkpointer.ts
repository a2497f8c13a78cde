import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/**
 * WAL checkpoints off the event loop.
 *
 * SQLite's auto-checkpoint runs inside the COMMIT that pushes the WAL past 1000 pages, on the
 * thread that commits: better-sqlite3 is synchronous, so every in-flight request waited for the
 * copy and its two fsyncs (10–30 ms on this VM's disk, every in-flight request stalled at once).
 * Under `synchronous=NORMAL` a commit itself never fsyncs. A worker thread with its own connection
 * runs PASSIVE checkpoints instead: they copy committed frames into the database file (and do the
 * fsyncs) without taking the write lock, so commits on the main connection carry on meanwhile.
 *
 * The WAL is rewound (written again from its start) only when a write begins after every frame
 * was copied; a checkpoint running beside a steady write load usually finishes a few frames
 * behind, so the worker alone cannot bound it. The committing connection therefore keeps an
 * auto-checkpoint, at `inlineCheckpointFrames` instead of 1000: by then the worker has copied all
 * but the last moments' frames, the inline checkpoint copies those, and the next write rewinds.
 * One short stall per `inlineCheckpointFrames` pages instead of a full one per 1000. Measured
 * worse in the gateway benchmark, and dropped: a RESTART from the worker (the main connection's
 * next transaction still waited inside SQLite while it ran — with the busy handler, and without
 * it too, most likely in the WAL read-lock retry loop, which sleeps whatever the busy timeout:
 * 150–250 ms event-loop stalls in two runs), and
 * running the worker's next pass at once while behind (its back-to-back fsyncs of the WAL made the
 * main thread's appends to it wait: 90–300 ms stalls).
 *
 * If the worker cannot start or fails, the connection goes back to SQLite's default
 * auto-checkpoint: a broken worker costs latency, never an ever-growing WAL.
 */

export interface WalCheckpointerOptions {
  /** The database file (the worker opens its own connection to it). */
  path: string;
  /** Pause between PASSIVE checkpoints. Default 250 ms. */
  intervalMs?: number;
  /**
   * WAL length (pages) at which the committing connection checkpoints inline what the worker has
   * not copied yet, which lets the WAL rewind. Default 32768 (128 MiB at 4 KiB pages).
   */
  inlineCheckpointFrames?: number;
  /** Told when the worker fails (the connection is back on auto-checkpoint by then). */
  onError?: (err: Error) => void;
  /** The SQLite driver module the worker loads; tests point it elsewhere to make the worker fail. */
  driver?: string;
}

export interface CheckpointResult {
  /** The checkpoint could not finish (a lock was held); it is retried on the next tick. */
  busy: boolean;
  /** Frames in the WAL when the checkpoint ran. */
  walFrames: number;
  /** Frames of the WAL now copied into the database file. */
  checkpointedFrames: number;
}

/** SQLite's default auto-checkpoint threshold, restored when the worker is gone. */
const AUTO_CHECKPOINT_PAGES = 1000;
const INLINE_CHECKPOINT_FRAMES = 32_768;

/** CommonJS, run with `eval`: no file to locate next to the compiled module or under vitest. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
const run = (mode) => {
  const [row] = db.pragma('wal_checkpoint(' + mode + ')');
  return { busy: row.busy !== 0, walFrames: row.log, checkpointedFrames: row.checkpointed };
};
let timer = null;
const schedule = () => {
  timer = setTimeout(() => {
    try { run('PASSIVE'); } catch (err) { parentPort.postMessage({ type: 'failed', message: String(err && err.message || err) }); return; }
    schedule();
  }, workerData.intervalMs);
};
parentPort.on('message', (message) => {
  if (message.type === 'checkpoint') {
    try { parentPort.postMessage({ type: 'result', id: message.id, result: run('PASSIVE') }); }
    catch (err) { parentPort.postMessage({ type: 'result', id: message.id, error: String(err && err.message || err) }); }
  } else if (message.type === 'close') {
    clearTimeout(timer);
    db.close();
    parentPort.close();
  }
});
schedule();
`;

type WorkerMessage =
  { type: 'failed'; message: string } | { type: 'result'; id: number; result?: CheckpointResult; error?: string };

interface Waiter {
  resolve: (result: CheckpointResult) => void;
  reject: (err: Error) => void;
}

export class WalCheckpointer {
  readonly #database: Database.Database;
  readonly #worker: Worker;
  readonly #onError: (err: Error) => void;
  readonly #waiters = new Map<number, Waiter>();
  #nextId = 1;
  #failed: Error | null = null;
  #exited: Promise<void>;

  /** Moves `database`'s auto-checkpoint to inlineCheckpointFrames and starts the worker. */
  constructor(database: Database.Database, options: WalCheckpointerOptions) {
    this.#database = database;
    this.#onError = options.onError ?? (() => undefined);
    const inlineFrames = options.inlineCheckpointFrames ?? INLINE_CHECKPOINT_FRAMES;
    if (!Number.isSafeInteger(inlineFrames) || inlineFrames < 1)
      throw new RangeError(`inlineCheckpointFrames must be a positive integer, got ${inlineFrames}`);
    database.pragma(`wal_autocheckpoint = ${inlineFrames}`);
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        path: options.path,
        driver: options.driver ?? createRequire(import.meta.url).resolve('better-sqlite3'),
        intervalMs: options.intervalMs ?? 250,
        busyTimeoutMs: 5000,
      },
    });
    // A background helper: it must never keep the process alive on its own.
    this.#worker.unref();
    this.#worker.on('message', (message: WorkerMessage) => this.#receive(message));
    this.#worker.on('error', (err) => this.#fail(err));
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
  }

  /** Set once the worker failed; the connection is on SQLite's default auto-checkpoint from then on. */
  get failure(): Error | null {
    return this.#failed;
  }

  /** Runs one PASSIVE checkpoint now (as the timer would) and reports how far the WAL is copied. */
  checkpoint(): Promise<CheckpointResult> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiters.set(id, { resolve, reject });
      this.#worker.postMessage({ type: 'checkpoint', id });
    });
  }

  /** Stops the worker; the connection's own close then checkpoints what is left. */
  async close(): Promise<void> {
    // Referenced again while it winds down: an unref'd worker keeps nothing alive, so a process
    // with nothing else left to do may exit while awaiting its exit, mid-shutdown (a benchmark
    // script did, with code 13: unsettled top-level await).
    this.#worker.ref();
    if (this.#failed === null) this.#worker.postMessage({ type: 'close' });
    await this.#exited;
  }

  #receive(message: WorkerMessage): void {
    if (message.type === 'failed') {
      this.#fail(new Error(message.message));
    } else if (message.type === 'result') {
      const waiter = this.#waiters.get(message.id);
      this.#waiters.delete(message.id);
      if (message.result !== undefined) waiter?.resolve(message.result);
      else waiter?.reject(new Error(message.error ?? 'checkpoint failed'));
    }
  }

  #fail(err: Error): void {
    if (this.#failed !== null) return;
    this.#failed = new Error(`WAL checkpoint worker failed, back to auto-checkpoint: ${err.message}`, { cause: err });
    try {
      if (this.#database.open) this.#database.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    } finally {
      for (const waiter of this.#waiters.values()) waiter.reject(this.#failed);
      this.#waiters.clear();
      void this.#worker.terminate();
      this.#onError(this.#failed);
    }
  }
}
