import type { Logger } from 'pino';
import type { Config, KeyScope } from '../config/index.js';
import type { Counters } from '../counters/index.js';
import { PertokenError } from '../errors.js';
import type { Attribution, UsageEvent } from '../ledger/index.js';
import type { ConfiguredPriceBook } from '../pricing/index.js';
import { adapterFor, type RouteId } from '../providers/index.js';
import { GovernanceAdmin } from './admin.js';
import { governedAuthenticator, verifyKey } from './authenticate.js';
import {
  applicableBudgets,
  counterCharges,
  CounterSeeder,
  fullCounters,
  modelInScope,
  ThresholdWatcher,
  type BudgetCounter,
  type LedgerCosts,
} from './budgets.js';
import { Directory } from './directory.js';
import { FallbackPrices } from './fallback.js';
import { Gatekeeper, type AdmitRequest, type Admission } from './gate.js';
import { globMatch } from '../glob.js';
import type { Authenticator, Identity } from './identity.js';
import { keyInfo, presentAlert, presentAudit } from './present.js';
import { budgetStatus, budgetTenant } from './status.js';
import type { GovernanceStore } from './store.js';
import { syncConfig } from './sync.js';
import type { Budget, BudgetRule, KeyInfo, Project, Tenant } from './types.js';

export interface GovernanceOptions {
  config: Config;
  store: GovernanceStore;
  counters: Counters;
  /** Prices worst cases, and lists the models whose dearest rates are the unpriced fallback. */
  priceBook: ConfiguredPriceBook;
  /** The ledger's cost query: the truth counters are seeded from. */
  ledgerCosts: LedgerCosts;
  log: Logger;
  now?: () => Date;
}

/** Who may read through the query API: the admin (everything) or a `read` key (its tenant only). */
export type Reader = { kind: 'admin' } | { kind: 'tenant'; tenant: string; key_id: string };

/**
 * Governance of one app instance: keys, budgets, rate limits and the admin surface over a
 * governance store (shared by replicas) and the counters (memory, or Redis shared by replicas).
 */
export class Governance {
  readonly admin: GovernanceAdmin;
  readonly authenticate: Authenticator;
  readonly #o: GovernanceOptions;
  readonly #now: () => Date;
  readonly #directory: Directory;
  readonly #gate: Gatekeeper;
  readonly #seeder: CounterSeeder;
  readonly #watcher: ThresholdWatcher;
  readonly #fallback: FallbackPrices;

  constructor(options: GovernanceOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    const { config, store, counters, log } = options;
    this.#directory = new Directory({
      store,
      signals: counters.signals,
      log,
      ttlMs: config.governance.cache_ttl_ms,
      nowMs: () => this.#now().getTime(),
    });
    this.#fallback = new FallbackPrices(options.priceBook, config.governance.unpriced_fallback);
    this.#seeder = new CounterSeeder(counters.budgets, options.ledgerCosts, this.#fallback, log);
    this.#watcher = new ThresholdWatcher(store, log, this.#now);
    this.#gate = new Gatekeeper({
      directory: this.#directory,
      counters,
      priceBook: options.priceBook,
      fallback: this.#fallback,
      unpricedModels: config.governance.unpriced_models,
      seeder: this.#seeder,
      watcher: this.#watcher,
      routing: config.routing,
      reservationTtlMs: config.governance.reservation_ttl_ms,
      rateLimitFailMode: config.governance.rate_limit_fail_mode,
      log,
    });
    this.admin = new GovernanceAdmin({
      store,
      directory: this.#directory,
      rotationGraceSeconds: config.governance.rotation_grace_seconds,
      now: this.#now,
    });
    this.authenticate = governedAuthenticator(this.#directory, config.governance.require_keys, this.#now);
  }

  /** Writes what config declares (audited), then listens for changes made by other replicas. */
  async start(): Promise<void> {
    await syncConfig(this.#o.config, this.#o.store, this.admin, this.#now());
    await this.#directory.start();
  }

  async close(): Promise<void> {
    await this.#directory.stop();
  }

  /**
   * Route scope and model globs of a key, and the project a key without one of its own names in
   * x-pertoken-project: it must not be another tenant's. Open-mode callers may do anything.
   */
  async authorize(
    identity: Identity,
    attribution: Attribution,
    route: RouteId,
    requested: string,
    resolved: string,
  ): Promise<void> {
    const grant = identity.grant;
    if (!grant) return;
    // Typed as KeyScope: a route scope that key config cannot grant does not compile.
    const scope: KeyScope = adapterFor(route).scope;
    if (!grant.scopes.includes(scope)) {
      throw new PertokenError('forbidden', `virtual key ${identity.key_id ?? ''} has no "${scope}" scope`, {
        param: 'authorization',
      });
    }
    if (grant.models.length > 0 && !grant.models.some((g) => globMatch(g, requested) || globMatch(g, resolved))) {
      throw new PertokenError('forbidden', `virtual key ${identity.key_id ?? ''} may not use model "${requested}"`, {
        param: 'model',
      });
    }
    if (identity.project === null && attribution.project !== null) {
      const project = (await this.#directory.snapshot()).projects.get(attribution.project);
      if (project && project.tenant !== attribution.tenant) {
        throw new PertokenError('forbidden', `project "${project.id}" belongs to another tenant than this key's`, {
          param: 'x-pertoken-project',
        });
      }
    }
  }

  /** Whether a key allows a model (fallbacks a key may not use are skipped). */
  allowsModel(identity: Identity, model: string): boolean {
    const grant = identity.grant;
    return !grant || grant.models.length === 0 || grant.models.some((g) => globMatch(g, model));
  }

  admit(request: AdmitRequest): Promise<Admission> {
    return this.#gate.admit(request);
  }

  /**
   * The reader a presented `pt-` key stands for. A key without `read` scope gets 403; an invalid,
   * revoked or expired one 401.
   */
  async keyReader(presented: string): Promise<Reader> {
    const verdict = verifyKey(await this.#directory.snapshot(), presented, this.#now());
    if (!verdict.ok) throw new PertokenError('unauthorized', verdict.message);
    if (!verdict.key.scopes.includes('read'))
      throw new PertokenError('forbidden', `virtual key ${verdict.key.id} has no "read" scope`, {
        param: 'authorization',
      });
    return { kind: 'tenant', tenant: verdict.key.tenant, key_id: verdict.key.id };
  }

  tenants(): Promise<Tenant[]> {
    return this.#o.store.listTenants();
  }

  projects(tenant?: string): Promise<Project[]> {
    return this.#o.store.listProjects(tenant);
  }

  async keys(tenant?: string): Promise<KeyInfo[]> {
    return (await this.#o.store.listKeys(tenant)).map(keyInfo);
  }

  async key(id: string): Promise<KeyInfo> {
    const key = await this.#o.store.getKey(id);
    if (!key) throw new PertokenError('not_found', `no key "${id}"`, { param: 'id' });
    return keyInfo(key);
  }

  /** Every budget definition (the admin API's listing). */
  budgetDefinitions(): Promise<BudgetRule[]> {
    return this.#o.store.listBudgets();
  }

  /**
   * The budgets the ledger-based consumers (spend gauges, burn-rate and threshold alerts,
   * forecasts) work on: a USD allowance and no model scope, which their equality filters cannot
   * express. Model-scoped and token-only budgets are enforced and alerted at settle time instead.
   */
  async ledgerBudgets(): Promise<Budget[]> {
    return (await this.#o.store.listBudgets()).filter(
      (b): b is BudgetRule & Budget => b.limit_nano !== null && b.scope.model === undefined,
    );
  }

  /** GET /api/v1/budgets: every budget the reader may see, optionally one tenant's. */
  async budgets(tenant: string | null): Promise<Array<Record<string, unknown>>> {
    const snapshot = await this.#directory.snapshot();
    const now = this.#now();
    const visible = snapshot.budgets.filter((b) => tenant === null || budgetTenant(b, snapshot) === tenant);
    const deps = {
      budgets: this.#o.counters.budgets,
      seeder: this.#seeder,
      ledgerCosts: this.#o.ledgerCosts,
      fallback: this.#fallback,
      repo: this.#o.store,
    };
    return Promise.all(visible.map((b) => budgetStatus(deps, b, snapshot, now)));
  }

  async auditLog(query: {
    from?: Date;
    to?: Date;
    limit: number;
    target?: string;
    target_id?: string;
  }): Promise<Array<Record<string, unknown>>> {
    return (await this.#o.store.listAudit(query)).map(presentAudit);
  }

  async alerts(query: { from?: Date; to?: Date; limit: number }): Promise<Array<Record<string, unknown>>> {
    return (await this.#o.store.listAlerts(query)).map(presentAlert);
  }

  /**
   * Events ingested through the API count against budgets too (an unpriced one at the fallback
   * price, and their tokens). Call before the ledger insert (seeds counters from the ledger without
   * these events), then `afterIngest` with the accepted ones.
   */
  async beforeIngest(events: readonly UsageEvent[]): Promise<BudgetCounter[][]> {
    const snapshot = await this.#directory.snapshot();
    if (snapshot.budgets.length === 0) return events.map(() => []);
    const perEvent = events.map((e) =>
      applicableBudgets(snapshot.budgets, e)
        .filter((b) => modelInScope(b.scope.model, e.model))
        .flatMap((b) => fullCounters(b, e.time).map((c) => ({ ...c, ref: { ...c.ref, limit: null } }))),
    );
    await this.#seeder.ensure(perEvent.flat());
    return perEvent;
  }

  async afterIngest(
    events: readonly UsageEvent[],
    counters: readonly BudgetCounter[][],
    accepted: ReadonlySet<string>,
  ): Promise<void> {
    const budgets = this.#o.counters.budgets;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as UsageEvent;
      const own = counters[i] ?? [];
      if (own.length === 0 || !accepted.has(event.id)) continue;
      const charges = await counterCharges(own, [event], this.#fallback);
      if (charges.every((c) => c === 0n)) continue;
      const leaseId = `ingest:${event.id}`;
      const reserved = await budgets.reserve({
        leaseId,
        counters: own.map((c) => c.ref),
        amount: 0n,
        ttlMs: 60_000,
        failMode: 'open',
      });
      if (!reserved.ok) continue;
      const settled = await budgets.settle(reserved.lease, charges);
      if (settled.counters.length > 0) await this.#watcher.check(own, settled.counters);
    }
  }
}
