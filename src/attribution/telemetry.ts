/**
 * Live serving telemetry of GPU pools: pertoken scrapes the Prometheus endpoints a pool names
 * (`gpu_pools[].metrics.urls`: vLLM, TGI or SGLang) and measures what the engines are doing,
 * instead of inferring it from the tokens billed through the gateway.
 *
 * Scraping is bounded: one GET per URL per interval, never two of one URL at once (a tick that
 * finds the last scrape still running waits for it instead), a deadline per scrape (undici's
 * headers/body timeouts plus an abort at `timeout_ms`), and at most 4 MiB read. A failed scrape is
 * counted and its message kept for the snapshot; nothing is thrown into the app.
 *
 * From two consecutive successful scrapes of an engine come its rates (counter increase over the
 * time between them; a counter that went down was reset, and its new value is the increase), and
 * one interval of busy-share history. Per pool, over the engines whose last scrape succeeded:
 *
 * - `running`, `waiting` (queue depth): summed; `kv_cache_usage`: the engines' mean, 0..1.
 * - `prompt_tokens_per_s`, `generation_tokens_per_s`: summed rates.
 * - `busy_share`: the share of scraped time that was busy, over the last `busyWindowMs` (1 h), all
 *   engines together. An interval between two scrapes is busy when the engine had a request
 *   running at either end or counted tokens in between. With sparse traffic and a coarse interval
 *   this overstates: one short request marks its whole interval busy.
 * - `gpu_utilization`: served work over the pool's capacity, both in input-token units (an output
 *   token weighs `output_weight`), as the pools report counts it: prompt/s + weight × generation/s
 *   over capacity. Above 1 means the capacity figure is too low.
 * - `live_cost_per_mtok_usd`: what the pool costs per hour now (rate × GPUs of the rate segment in
 *   effect; every provisioned hour is paid, busy or idle) over the tokens per hour it serves at the
 *   measured rates, × 1e6; exact nano-USD, rounded half-even once.
 */
import type { GpuPoolConfig } from '../config/index.js';
import { invalidInput, PertokenError } from '../errors.js';
import { formatUsd } from '../money.js';
import {
  costPerMtok,
  hourlyNano,
  perSecond,
  rateBetween,
  round,
  sumOrNull,
  utilization,
  type Rate,
  type TimedReading,
} from './live-figures.js';
import { timeoutError, undiciScrape, type ScrapeFetch } from './metrics-scrape.js';
import type { Pool } from './pools.js';
import { MAX_EXPOSITION_BYTES, parseExposition } from './prometheus-text.js';
import { readEngine, type EngineKind } from './serving-engines.js';

export type { ScrapeFetch, ScrapeRequest } from './metrics-scrape.js';

const DEFAULT_BUSY_WINDOW_MS = 3_600_000;
/** Busy-share history per URL, whatever the window: scrapeNow() in a loop must not grow it unbounded. */
const MAX_INTERVALS = 10_000;

/** One pool to watch, with its scrape settings (`gpu_pools[].metrics`). */
export interface TelemetryTarget {
  readonly pool: Pool;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** The targets of the configured pools that name metrics endpoints, paired by pool name. */
export function telemetryTargets(pools: readonly Pool[], configs: readonly GpuPoolConfig[]): TelemetryTarget[] {
  return configs.flatMap((config) => {
    const pool = pools.find((p) => p.name === config.name);
    if (config.metrics === undefined || pool === undefined) return [];
    return [{ pool, intervalMs: config.metrics.interval_ms, timeoutMs: config.metrics.timeout_ms }];
  });
}

export interface PoolTelemetryOptions {
  /** Epoch milliseconds; default Date.now. */
  now?: () => number;
  fetch?: ScrapeFetch;
  /** Largest answer read; default 4 MiB. */
  maxBytes?: number;
  /** History behind busy_share; default one hour. */
  busyWindowMs?: number;
}

export interface TelemetryUrlJson {
  url: string;
  /** Whether the latest scrape succeeded. */
  ok: boolean;
  engine: EngineKind | null;
  scrapes: number;
  errors: number;
  /** The last failure's message (kept after the URL recovers; `ok` tells the current state). */
  error?: string;
}

export interface PoolTelemetryJson {
  pool: string;
  /** When the latest scrape of the pool ended. */
  scraped_at: string;
  urls: TelemetryUrlJson[];
  running: number | null;
  waiting: number | null;
  kv_cache_usage: number | null;
  prompt_tokens_per_s: number | null;
  generation_tokens_per_s: number | null;
  busy_share: number | null;
  gpu_utilization: number | null;
  /** The pool's cost per hour at the rate in effect now; null when it is not provisioned now. */
  cost_usd_per_hour: string | null;
  live_cost_per_mtok_usd: string | null;
}

interface Interval {
  readonly end: number;
  readonly ms: number;
  readonly busy: boolean;
}

interface UrlState {
  readonly url: string;
  inFlight: Promise<void> | null;
  /** Scrapes that ended, either way. */
  scrapes: number;
  errors: number;
  ok: boolean;
  lastError: string | null;
  previous: TimedReading | null;
  latest: TimedReading | null;
  intervals: Interval[];
}

interface PoolState {
  readonly target: TelemetryTarget;
  readonly urls: UrlState[];
  timer: NodeJS.Timeout | null;
  scrapedAt: number | null;
}

export class PoolTelemetry {
  readonly #pools = new Map<string, PoolState>();
  readonly #now: () => number;
  readonly #fetch: ScrapeFetch;
  readonly #maxBytes: number;
  readonly #busyWindowMs: number;
  #stopping = new AbortController();

  constructor(targets: readonly TelemetryTarget[], options: PoolTelemetryOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#fetch = options.fetch ?? undiciScrape;
    this.#maxBytes = positive(options.maxBytes ?? MAX_EXPOSITION_BYTES, 'telemetry.maxBytes');
    this.#busyWindowMs = positive(options.busyWindowMs ?? DEFAULT_BUSY_WINDOW_MS, 'telemetry.busyWindowMs');
    for (const target of targets) {
      const name = target.pool.name;
      const param = `gpu_pools.${name}.metrics`;
      if (this.#pools.has(name)) throw invalidInput(param, `pool "${name}" is watched twice`, 'config_invalid');
      if (target.pool.telemetryUrls.length === 0)
        throw invalidInput(`${param}.urls`, 'name at least one metrics URL', 'config_invalid');
      positive(target.intervalMs, `${param}.interval_ms`);
      positive(target.timeoutMs, `${param}.timeout_ms`);
      this.#pools.set(name, {
        target,
        urls: [...new Set(target.pool.telemetryUrls)].map(newUrlState),
        timer: null,
        scrapedAt: null,
      });
    }
  }

  /** Scrapes every pool now, then every pool's interval. Timers never keep the process alive. */
  start(): void {
    this.#rearm();
    for (const pool of this.#pools.values()) {
      if (pool.timer !== null) continue;
      void this.#tick(pool);
      pool.timer = setInterval(() => void this.#tick(pool), pool.target.intervalMs);
      pool.timer.unref();
    }
  }

  /** Clears every timer, aborts the scrapes under way and resolves once they have settled. */
  async stop(): Promise<void> {
    for (const pool of this.#pools.values()) {
      if (pool.timer !== null) clearInterval(pool.timer);
      pool.timer = null;
    }
    this.#stopping.abort(new PertokenError('upstream_error', 'telemetry stopped'));
    await Promise.all(this.#inFlight());
  }

  /** One scrape of every URL not already being scraped; resolves when those under way have settled. */
  async scrapeNow(): Promise<void> {
    this.#rearm();
    await Promise.all([...this.#pools.values()].map((pool) => this.#tick(pool)));
  }

  /** Pools being watched. */
  get pools(): string[] {
    return [...this.#pools.keys()];
  }

  /** The pool's live figures; null for an unwatched pool or before each URL has been scraped twice. */
  snapshot(poolName: string): PoolTelemetryJson | null {
    const state = this.#pools.get(poolName);
    if (state === undefined || state.scrapedAt === null || state.urls.some((u) => u.scrapes < 2)) return null;
    const now = this.#now();
    const live = state.urls.filter((u) => u.ok && u.latest !== null);
    const latest = live.map((u) => u.latest).filter((r): r is TimedReading => r !== null);
    const kv = latest.map((r) => r.kvCacheUsage).filter((v): v is number => v !== null);
    const rates = live.map((u) => rateBetween(u.previous, u.latest)).filter((r): r is Rate => r !== null);
    const promptPerS = sumOrNull(rates.map((r) => perSecond(r.prompt, r.ms)));
    const generationPerS = sumOrNull(rates.map((r) => perSecond(r.generation, r.ms)));
    const hourly = hourlyNano(state.target.pool, now);
    return {
      pool: poolName,
      scraped_at: new Date(state.scrapedAt).toISOString(),
      urls: state.urls.map((u) => ({
        url: u.url,
        ok: u.ok,
        engine: u.latest?.engine ?? null,
        scrapes: u.scrapes,
        errors: u.errors,
        ...(u.lastError === null ? {} : { error: u.lastError }),
      })),
      running: latest.length === 0 ? null : latest.reduce((s, r) => s + r.running, 0),
      waiting: latest.length === 0 ? null : latest.reduce((s, r) => s + r.waiting, 0),
      kv_cache_usage: kv.length === 0 ? null : round(kv.reduce((a, b) => a + b, 0) / kv.length, 4),
      prompt_tokens_per_s: promptPerS === null ? null : round(promptPerS, 3),
      generation_tokens_per_s: generationPerS === null ? null : round(generationPerS, 3),
      busy_share: this.#busyShare(state, now),
      gpu_utilization: utilization(state.target.pool, promptPerS, generationPerS),
      cost_usd_per_hour: hourly === null ? null : formatUsd(hourly),
      live_cost_per_mtok_usd: hourly === null ? null : costPerMtok(hourly, rates),
    };
  }

  /** Every watched pool's snapshot that exists yet. */
  snapshots(): PoolTelemetryJson[] {
    return this.pools.map((name) => this.snapshot(name)).filter((s): s is PoolTelemetryJson => s !== null);
  }

  #rearm(): void {
    if (this.#stopping.signal.aborted) this.#stopping = new AbortController();
  }

  #inFlight(): Promise<void>[] {
    return [...this.#pools.values()].flatMap((p) => p.urls.flatMap((u) => (u.inFlight ? [u.inFlight] : [])));
  }

  #tick(pool: PoolState): Promise<void> {
    return Promise.all(
      pool.urls.map((url) => {
        // Never two scrapes of one URL at once: a slow one is waited for, not doubled.
        url.inFlight ??= this.#scrape(pool, url).finally(() => {
          url.inFlight = null;
        });
        return url.inFlight;
      }),
    ).then(() => undefined);
  }

  async #scrape(pool: PoolState, url: UrlState): Promise<void> {
    const { timeoutMs } = pool.target;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(timeoutError(timeoutMs)), timeoutMs);
    timer.unref();
    const stopping = this.#stopping.signal;
    const signal = AbortSignal.any([deadline.signal, stopping]);
    try {
      const text = await this.#fetch(url.url, { timeoutMs, maxBytes: this.#maxBytes, signal });
      const at = this.#now();
      const exposition = parseExposition(text);
      const reading = readEngine(exposition);
      if (reading === null) {
        throw new PertokenError(
          'upstream_error',
          `no vLLM, TGI or SGLang metrics in the answer (${exposition.samples.size} metrics, ` +
            `${exposition.skipped} unreadable lines)`,
        );
      }
      this.#record(url, { ...reading, at });
    } catch (err) {
      // The abort's own reason says why (deadline or stop) better than the client's wrapper of it.
      const cause: unknown = signal.aborted ? signal.reason : err;
      url.ok = false;
      url.errors += 1;
      url.lastError = cause instanceof Error ? cause.message : String(cause);
    } finally {
      clearTimeout(timer);
      url.scrapes += 1;
      pool.scrapedAt = this.#now();
    }
  }

  #record(url: UrlState, reading: TimedReading): void {
    const previous = url.latest;
    url.ok = true;
    url.previous = previous;
    url.latest = reading;
    if (previous === null || reading.at <= previous.at) return;
    const counted = (a: number | null, b: number | null): boolean => a !== null && b !== null && a !== b;
    const busy =
      previous.running > 0 ||
      reading.running > 0 ||
      counted(previous.promptTokens, reading.promptTokens) ||
      counted(previous.generationTokens, reading.generationTokens);
    url.intervals.push({ end: reading.at, ms: reading.at - previous.at, busy });
    const since = reading.at - this.#busyWindowMs;
    const kept = url.intervals.findIndex((i) => i.end > since);
    const drop = Math.max(kept === -1 ? url.intervals.length : kept, url.intervals.length - MAX_INTERVALS);
    if (drop > 0) url.intervals.splice(0, drop);
  }

  #busyShare(pool: PoolState, now: number): number | null {
    const since = now - this.#busyWindowMs;
    let total = 0;
    let busy = 0;
    for (const url of pool.urls) {
      for (const i of url.intervals) {
        if (i.end <= since) continue;
        total += i.ms;
        if (i.busy) busy += i.ms;
      }
    }
    return total === 0 ? null : round(busy / total, 4);
  }
}

function newUrlState(url: string): UrlState {
  return {
    url,
    inFlight: null,
    scrapes: 0,
    errors: 0,
    ok: false,
    lastError: null,
    previous: null,
    latest: null,
    intervals: [],
  };
}

function positive(value: number, param: string): number {
  if (!Number.isFinite(value) || value <= 0) throw invalidInput(param, 'must be a positive number', 'config_invalid');
  return value;
}
