import type { Logger } from 'pino';
import type { Signals } from '../counters/index.js';
import type { GovernanceStore } from './store.js';
import type { BudgetRule, KeyRecord, Project, Tenant } from './types.js';

/** The topic every replica watches: any admin change bumps it. */
export const GOVERNANCE_TOPIC = 'governance';

export interface Snapshot {
  keys: ReadonlyMap<string, KeyRecord>;
  tenants: ReadonlyMap<string, Tenant>;
  projects: ReadonlyMap<string, Project>;
  budgets: readonly BudgetRule[];
  /** Keys ever issued (revoked included): in `auto` mode, more than zero means keys are required. */
  keyCount: number;
}

export interface DirectoryOptions {
  store: GovernanceStore;
  signals: Signals;
  log: Logger;
  /** Backstop: a snapshot older than this is reloaded even without a signal (default 5 s). */
  ttlMs: number;
  nowMs?: () => number;
}

/**
 * An in-memory snapshot of the governance tables, so the request path never waits on the database.
 * Any admin change (on any replica) bumps a signal topic in the shared counters; every replica
 * drops its snapshot on that signal and reloads on the next request — revocation is visible
 * everywhere within the pub/sub latency (milliseconds). The TTL bounds staleness when the signal
 * channel is down (or there is none, e.g. replicas sharing only a database).
 */
export class Directory {
  readonly #options: DirectoryOptions;
  readonly #now: () => number;
  #generation = 0;
  #snapshot: { value: Snapshot; generation: number; loadedAt: number } | null = null;
  #loading: Promise<Snapshot> | null = null;
  #unwatch: (() => Promise<void>) | null = null;

  constructor(options: DirectoryOptions) {
    this.#options = options;
    this.#now = options.nowMs ?? Date.now;
  }

  /** Subscribes to change signals; without it only the TTL refreshes the snapshot. */
  async start(): Promise<void> {
    try {
      this.#unwatch = await this.#options.signals.watch(GOVERNANCE_TOPIC, () => this.invalidate());
    } catch (err) {
      this.#options.log.warn({ err }, 'governance: cannot watch change signals; caches refresh by TTL only');
    }
  }

  async stop(): Promise<void> {
    const unwatch = this.#unwatch;
    this.#unwatch = null;
    if (unwatch) await unwatch().catch(() => undefined);
  }

  invalidate(): void {
    this.#generation++;
  }

  /** Called after a committed change: this replica at once, the others through the signal. */
  async changed(): Promise<void> {
    this.invalidate();
    try {
      await this.#options.signals.bump(GOVERNANCE_TOPIC);
    } catch (err) {
      this.#options.log.warn({ err }, 'governance: change signal not sent; other replicas see it within the cache TTL');
    }
  }

  /** The current snapshot; one that predates the caller's last seen change is never returned. */
  async snapshot(): Promise<Snapshot> {
    const wanted = this.#generation;
    for (;;) {
      const current = this.#snapshot;
      if (current && current.generation >= wanted && this.#now() - current.loadedAt < this.#options.ttlMs)
        return current.value;
      this.#loading ??= this.#load().finally(() => {
        this.#loading = null;
      });
      const loaded = await this.#loading;
      // A load that started before the change we must see is followed by a fresh one.
      if ((this.#snapshot?.generation ?? -1) >= wanted) return loaded;
    }
  }

  async #load(): Promise<Snapshot> {
    const generation = this.#generation;
    const loadedAt = this.#now();
    const { store } = this.#options;
    const [keys, tenants, projects, budgets] = await Promise.all([
      store.listKeys(),
      store.listTenants(),
      store.listProjects(),
      store.listBudgets(),
    ]);
    const value: Snapshot = {
      keys: new Map(keys.map((k) => [k.id, k])),
      tenants: new Map(tenants.map((t) => [t.id, t])),
      projects: new Map(projects.map((p) => [p.id, p])),
      budgets,
      keyCount: keys.length,
    };
    // A signal that arrived while loading leaves the generation ahead: the next call reloads.
    this.#snapshot = { value, generation, loadedAt };
    return value;
  }
}
