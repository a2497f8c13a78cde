/**
 * One ioredis connection with the behaviour a request path needs when Redis is sick: fail in
 * bounded time instead of queueing, never replay a half-sent script, and heal in the background.
 *
 * - lazyConnect: nothing happens at construction (no import-time or constructor side effects).
 * - enableOfflineQueue off + fail fast while not `ready`: an outage costs a request nothing but
 *   its fail mode, not a wait per call.
 * - commandTimeout: a connection that went silent (packets dropped, not refused) fails each call
 *   after at most that long, and the first timeout forces a reconnect, since a silent socket never
 *   reports itself broken.
 * - autoResendUnfulfilledCommands off: a reserve whose reply was lost is not run a second time
 *   behind the caller's back (the caller already treated it as failed; its lease expires).
 * - retryStrategy never gives up (capped backoff), so the connection comes back by itself.
 */
import { Redis } from 'ioredis';
import { PertokenError } from '../../errors.js';
import type { CounterStats, FailMode } from '../types.js';
import { countersUnavailable, isCountersUnavailable } from '../validate.js';
import { ADJUST_LUA, TAKE_LUA } from './rate-scripts.js';
import { RELEASE_LUA, RESERVE_LUA, SEED_LUA, SETTLE_LUA, STATUS_LUA } from './budget-scripts.js';
import { BUMP_LUA } from './signal-scripts.js';

type ScriptFn = (numKeys: number, ...keysAndArgs: string[]) => Promise<unknown>;

/** The scripts, defined with defineCommand: EVALSHA first, EVAL (which loads) on NOSCRIPT. */
export interface Scripts {
  ptReserve: ScriptFn;
  ptSettle: ScriptFn;
  ptRelease: ScriptFn;
  ptStatus: ScriptFn;
  ptSeed: ScriptFn;
  ptTake: ScriptFn;
  ptAdjust: ScriptFn;
  ptBump: ScriptFn;
}

const SCRIPTS: Record<keyof Scripts, string> = {
  ptReserve: RESERVE_LUA,
  ptSettle: SETTLE_LUA,
  ptRelease: RELEASE_LUA,
  ptStatus: STATUS_LUA,
  ptSeed: SEED_LUA,
  ptTake: TAKE_LUA,
  ptAdjust: ADJUST_LUA,
  ptBump: BUMP_LUA,
};

export type ScriptedRedis = Redis & Scripts;

export interface ConnectionOptions {
  url: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
}

type Counts = Omit<CounterStats, 'backend' | 'connected' | 'queuedWrites' | 'droppedWrites'>;

export class RedisConnection {
  readonly client: ScriptedRedis;
  readonly counts: Counts = { calls: 0, failures: 0, failOpenAdmits: 0, failClosedRefusals: 0 };
  #connecting: Promise<void> | undefined;
  /** Set when a timeout already forced a reconnect of the current socket. */
  #reconnectForced = false;
  #readyWatchdog: NodeJS.Timeout | undefined;
  readonly #options: ConnectionOptions;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.client = createClient(options);
    // Without a listener ioredis prints every connection error; outages are reported via stats().
    this.client.on('error', () => {});
    this.client.on('connect', () => this.#watchReady());
    this.client.on('ready', () => {
      this.#reconnectForced = false;
      clearTimeout(this.#readyWatchdog);
    });
  }

  get connected(): boolean {
    return this.client.status === 'ready';
  }

  /**
   * Runs one store operation. Any failure to reach Redis becomes
   * PertokenError('counters_unavailable'); a Redis error reply (a bug, not an outage) becomes
   * 'internal'.
   */
  async run<T>(operation: (client: ScriptedRedis) => Promise<T>): Promise<T> {
    this.counts.calls++;
    try {
      await this.#ensureReady();
      return await operation(this.client);
    } catch (err) {
      if (isErrorReply(err)) {
        throw new PertokenError('internal', `redis rejected a counters script: ${err.message}`, { cause: err });
      }
      this.counts.failures++;
      if (err instanceof Error && err.message === 'Command timed out') this.#forceReconnect();
      throw err instanceof PertokenError ? err : countersUnavailable(err);
    }
  }

  /**
   * For reserve/take: rethrows anything that is not an outage; for an outage, `closed` refuses
   * (and counts it), `open` returns so the caller can admit (and counts it).
   */
  admitOrRefuse(err: unknown, failMode: FailMode): void {
    if (!isCountersUnavailable(err)) throw err;
    if (failMode === 'closed') {
      this.counts.failClosedRefusals++;
      throw err;
    }
    this.counts.failOpenAdmits++;
  }

  /** A second connection with the same settings, for pub/sub (a subscribed socket can't run scripts). */
  duplicate(): Redis {
    const sub = this.client.duplicate({
      lazyConnect: true,
      enableOfflineQueue: true,
      autoResubscribe: false,
      maxRetriesPerRequest: null,
    });
    sub.on('error', () => {});
    return sub;
  }

  async close(): Promise<void> {
    clearTimeout(this.#readyWatchdog);
    this.client.disconnect();
  }

  async #ensureReady(): Promise<void> {
    const status = this.client.status;
    if (status === 'ready') return;
    if (status === 'wait' || this.#connecting) {
      this.#connecting ??= this.#firstConnect();
      return this.#connecting;
    }
    throw countersUnavailable(`redis connection is ${status}`);
  }

  /** The first connect, bounded: later ones happen in the background through retryStrategy. */
  async #firstConnect(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(countersUnavailable('redis connect timed out')), this.#options.connectTimeoutMs);
    });
    try {
      await Promise.race([this.client.connect(), timeout]);
    } finally {
      clearTimeout(timer);
      this.#connecting = undefined;
    }
  }

  #forceReconnect(): void {
    if (this.#reconnectForced || this.client.status !== 'ready') return;
    this.#reconnectForced = true;
    this.client.disconnect(true);
  }

  /** A socket that connects but never answers the ready check would otherwise hang forever. */
  #watchReady(): void {
    clearTimeout(this.#readyWatchdog);
    this.#readyWatchdog = setTimeout(() => {
      if (this.client.status === 'connect') this.client.disconnect(true);
    }, this.#options.connectTimeoutMs);
    this.#readyWatchdog.unref();
  }
}

function createClient(options: ConnectionOptions): ScriptedRedis {
  const client = new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    keepAlive: 5_000,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 5), 1_000),
  });
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua });
  return client as ScriptedRedis;
}

function isErrorReply(err: unknown): err is Error {
  return err instanceof Error && err.name === 'ReplyError';
}
