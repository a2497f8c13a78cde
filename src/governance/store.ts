import { sql, type Kysely, type Transaction } from 'kysely';
import { PertokenError } from '../errors.js';
import { newEventId } from '../ledger/index.js';
import { migrateGovernance } from './migrations.js';
import {
  alertToRow,
  auditToRow,
  budgetToRow,
  keyToRow,
  projectToRow,
  rowToAlert,
  rowToAudit,
  rowToBudget,
  rowToKey,
  rowToProject,
  rowToTenant,
  tenantToRow,
} from './rows.js';
import type { GovernanceDatabase } from './schema.js';
import type { AuditEntry, BudgetAlert, BudgetRule, KeyRecord, Project, Tenant } from './types.js';

type Db = Kysely<GovernanceDatabase> | Transaction<GovernanceDatabase>;

/** Reads and writes of the governance tables over one Kysely handle (a database or a transaction). */
export class GovernanceRepo {
  constructor(protected readonly db: Db) {}

  async getTenant(id: string): Promise<Tenant | null> {
    const row = await this.db.selectFrom('gov_tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? rowToTenant(row) : null;
  }

  async listTenants(): Promise<Tenant[]> {
    return (await this.db.selectFrom('gov_tenants').selectAll().orderBy('id').execute()).map(rowToTenant);
  }

  async putTenant(tenant: Tenant): Promise<void> {
    const row = tenantToRow(tenant);
    const { id: _id, ...rest } = row;
    await this.db
      .insertInto('gov_tenants')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(rest))
      .execute();
  }

  async getProject(id: string): Promise<Project | null> {
    const row = await this.db.selectFrom('gov_projects').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? rowToProject(row) : null;
  }

  async listProjects(tenant?: string): Promise<Project[]> {
    let q = this.db.selectFrom('gov_projects').selectAll();
    if (tenant !== undefined) q = q.where('tenant', '=', tenant);
    return (await q.orderBy('id').execute()).map(rowToProject);
  }

  async putProject(project: Project): Promise<void> {
    const row = projectToRow(project);
    const { id: _id, ...rest } = row;
    await this.db
      .insertInto('gov_projects')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(rest))
      .execute();
  }

  async getKey(id: string): Promise<KeyRecord | null> {
    const row = await this.db.selectFrom('gov_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? rowToKey(row) : null;
  }

  async listKeys(tenant?: string): Promise<KeyRecord[]> {
    let q = this.db.selectFrom('gov_keys').selectAll();
    if (tenant !== undefined) q = q.where('tenant', '=', tenant);
    return (await q.orderBy('created_ms').orderBy('id').execute()).map(rowToKey);
  }

  async putKey(key: KeyRecord): Promise<void> {
    const row = keyToRow(key);
    const { id: _id, ...rest } = row;
    await this.db
      .insertInto('gov_keys')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(rest))
      .execute();
  }

  /** Every key ever made, revoked ones included: revoking the last key must not open the gateway. */
  async keyCount(): Promise<number> {
    const row = await this.db
      .selectFrom('gov_keys')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async getBudget(id: string): Promise<BudgetRule | null> {
    const row = await this.db.selectFrom('gov_budgets').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? rowToBudget(row) : null;
  }

  async listBudgets(): Promise<BudgetRule[]> {
    return (await this.db.selectFrom('gov_budgets').selectAll().orderBy('id').execute()).map(rowToBudget);
  }

  async putBudget(budget: BudgetRule): Promise<void> {
    const row = budgetToRow(budget);
    const { id: _id, ...rest } = row;
    await this.db
      .insertInto('gov_budgets')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(rest))
      .execute();
  }

  async deleteBudget(id: string): Promise<void> {
    await this.db.deleteFrom('gov_budgets').where('id', '=', id).execute();
  }

  /** The audit log is append-only: this class offers no update or delete of it. */
  async appendAudit(entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry> {
    const full: AuditEntry = { ...entry, id: newEventId(entry.time) };
    await this.db.insertInto('gov_audit').values(auditToRow(full)).execute();
    return full;
  }

  async listAudit(query: {
    from?: Date;
    to?: Date;
    limit: number;
    target?: string;
    target_id?: string;
  }): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('gov_audit').selectAll();
    if (query.from) q = q.where('time_ms', '>=', query.from.getTime());
    if (query.to) q = q.where('time_ms', '<', query.to.getTime());
    if (query.target) q = q.where('target', '=', query.target);
    if (query.target_id) q = q.where('target_id', '=', query.target_id);
    return (await q.orderBy('time_ms').orderBy('id').limit(query.limit).execute()).map(rowToAudit);
  }

  /** Records a threshold crossing once per budget, period and threshold, whichever replica sees it. */
  async insertAlert(alert: Omit<BudgetAlert, 'id'>): Promise<BudgetAlert | null> {
    const full: BudgetAlert = { ...alert, id: newEventId(alert.time) };
    const result = await this.db
      .insertInto('gov_alerts')
      .values(alertToRow(full))
      .onConflict((oc) => oc.columns(['budget_id', 'period_start_ms', 'threshold']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0 ? full : null;
  }

  async listAlerts(query: {
    from?: Date;
    to?: Date;
    budgetIds?: readonly string[];
    limit: number;
  }): Promise<BudgetAlert[]> {
    let q = this.db.selectFrom('gov_alerts').selectAll();
    if (query.from) q = q.where('time_ms', '>=', query.from.getTime());
    if (query.to) q = q.where('time_ms', '<', query.to.getTime());
    if (query.budgetIds) {
      if (query.budgetIds.length === 0) return [];
      q = q.where('budget_id', 'in', [...query.budgetIds]);
    }
    return (await q.orderBy('time_ms').orderBy('id').limit(query.limit).execute()).map(rowToAlert);
  }
}

/** The governance database: a repo plus migrations, transactions and lifecycle. */
export class GovernanceStore extends GovernanceRepo {
  readonly dialect: 'sqlite' | 'postgres';
  readonly #db: Kysely<GovernanceDatabase>;
  readonly #schema: string | null;
  #closed = false;

  constructor(db: Kysely<GovernanceDatabase>, options: { dialect: 'sqlite' | 'postgres'; schema?: string }) {
    super(db);
    this.#db = db;
    this.dialect = options.dialect;
    this.#schema = options.schema ?? null;
  }

  async migrate(): Promise<void> {
    // The pool's search_path names the schema; the runner creates it before the first table lands in it.
    await migrateGovernance(this.#db as unknown as Kysely<unknown>, this.dialect, this.#schema);
  }

  /** A change and its audit entry commit together or not at all. */
  transaction<T>(fn: (repo: GovernanceRepo) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((trx) => fn(new GovernanceRepo(trx)));
  }

  async ping(): Promise<void> {
    try {
      await sql`select 1`.execute(this.#db);
    } catch (err: unknown) {
      throw new PertokenError('store_unavailable', `governance store ping failed: ${String(err)}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.destroy();
  }
}
