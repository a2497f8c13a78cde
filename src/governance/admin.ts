import type { z } from 'zod';
import { PertokenError } from '../errors.js';
import type { Directory } from './directory.js';
import { budgetInput, keyInput, parseInput, projectInput, rotateInput, tenantInput } from './input.js';
import { hashSecret, newKeyId, newKeySecret } from './keys.js';
import { keyInfo, presentBudget, presentKey, presentProject, presentTenant } from './present.js';
import { definitionToBudget, modelLimitsOf } from './rows.js';
import type { GovernanceRepo, GovernanceStore } from './store.js';
import type { Actor, AuditTarget, BudgetRule, KeyInfo, KeyRecord, Origin, Project, Tenant } from './types.js';

export interface AdminOptions {
  store: GovernanceStore;
  directory: Directory;
  rotationGraceSeconds: number;
  now: () => Date;
}

export interface Saved<T> {
  value: T;
  created: boolean;
}

/**
 * Every governance change goes through here: validated, written together with its audit entry in
 * one transaction, then announced to every replica. Config sync uses the same path (actor `config`).
 */
export class GovernanceAdmin {
  readonly #o: AdminOptions;

  constructor(o: AdminOptions) {
    this.#o = o;
  }

  async #change<T>(fn: (repo: GovernanceRepo, audit: Auditor) => Promise<T>, actor: Actor): Promise<T> {
    const time = this.#o.now();
    const result = await this.#o.store.transaction((repo) =>
      fn(repo, (action, target, target_id, before, after) =>
        repo
          .appendAudit({ time, actor: actor.name, action, target, target_id, before, after, remote: actor.remote })
          .then(() => undefined),
      ),
    );
    await this.#o.directory.changed();
    return result;
  }

  putTenant(body: unknown, actor: Actor, origin: Origin = 'api'): Promise<Saved<Tenant>> {
    const input = parseInput(tenantInput, body);
    return this.#change(async (repo, audit) => {
      const before = await repo.getTenant(input.id);
      const now = this.#o.now();
      const tenant: Tenant = {
        id: input.id,
        name: input.name ?? null,
        rpm: input.rpm ?? null,
        tpm: input.tpm ?? null,
        model_limits: modelLimitsOf(input.model_limits),
        metadata: input.metadata,
        origin,
        created_at: before?.created_at ?? now,
        updated_at: now,
      };
      await repo.putTenant(tenant);
      await audit(
        before ? 'tenant.update' : 'tenant.create',
        'tenant',
        tenant.id,
        before && presentTenant(before),
        presentTenant(tenant),
      );
      return { value: tenant, created: before === null };
    }, actor);
  }

  putProject(body: unknown, actor: Actor, origin: Origin = 'api'): Promise<Saved<Project>> {
    const input = parseInput(projectInput, body);
    return this.#change(async (repo, audit) => {
      if (!(await repo.getTenant(input.tenant)))
        throw new PertokenError('invalid_request', `tenant: no tenant "${input.tenant}"; create it first`, {
          param: 'tenant',
        });
      const before = await repo.getProject(input.id);
      if (before && before.tenant !== input.tenant)
        throw new PertokenError('invalid_request', `id: project "${input.id}" belongs to tenant "${before.tenant}"`, {
          param: 'id',
        });
      const now = this.#o.now();
      const project: Project = {
        id: input.id,
        tenant: input.tenant,
        name: input.name ?? null,
        rpm: input.rpm ?? null,
        tpm: input.tpm ?? null,
        model_limits: modelLimitsOf(input.model_limits),
        metadata: input.metadata,
        origin,
        created_at: before?.created_at ?? now,
        updated_at: now,
      };
      await repo.putProject(project);
      await audit(
        before ? 'project.update' : 'project.create',
        'project',
        project.id,
        before && presentProject(before),
        presentProject(project),
      );
      return { value: project, created: before === null };
    }, actor);
  }

  /** A new key; its full value is returned this once and only its hash is kept. */
  createKey(body: unknown, actor: Actor): Promise<{ info: KeyInfo; key: string }> {
    const input = parseInput(keyInput, body);
    return this.#change(async (repo, audit) => {
      await checkOwner(repo, input);
      const id = input.id ?? newKeyId();
      if (await repo.getKey(id))
        throw new PertokenError('invalid_request', `id: a key "${id}" already exists`, { param: 'id' });
      const now = this.#o.now();
      const expires = input.expires_at === undefined ? null : new Date(input.expires_at);
      if (expires && expires.getTime() <= now.getTime())
        throw new PertokenError('invalid_request', 'expires_at: must be in the future', { param: 'expires_at' });
      const key = newKeySecret(id);
      const record = keyRecord(id, input, hashSecret(key), 'api', now, expires);
      await repo.putKey(record);
      await audit('key.create', 'key', id, null, presentKey(record, now));
      return { info: keyInfo(record), key };
    }, actor);
  }

  rotateKey(id: string, body: unknown, actor: Actor): Promise<{ info: KeyInfo; key: string }> {
    const input = parseInput(rotateInput, body);
    return this.#change(async (repo, audit) => {
      const before = await requireKey(repo, id);
      if (before.revoked_at !== null)
        throw new PertokenError('invalid_request', `key ${id} is revoked; create a new key`, { param: 'id' });
      if (before.origin === 'config')
        throw new PertokenError('invalid_request', `key ${id} is declared in the config file; change its value there`, {
          param: 'id',
        });
      const now = this.#o.now();
      const grace = input.grace_seconds ?? this.#o.rotationGraceSeconds;
      const key = newKeySecret(id);
      const after: KeyRecord = {
        ...before,
        current: hashSecret(key),
        previous: grace > 0 ? before.current : null,
        previous_valid_until: grace > 0 ? new Date(now.getTime() + grace * 1000) : null,
        rotated_at: now,
      };
      await repo.putKey(after);
      await audit('key.rotate', 'key', id, presentKey(before, now), presentKey(after, now));
      return { info: keyInfo(after), key };
    }, actor);
  }

  /** Revokes at once (all replicas within the signal latency); revoking twice changes nothing. */
  revokeKey(id: string, actor: Actor): Promise<KeyInfo> {
    return this.#change(async (repo, audit) => {
      const before = await requireKey(repo, id);
      if (before.revoked_at !== null) return keyInfo(before);
      const now = this.#o.now();
      const after: KeyRecord = { ...before, revoked_at: now, previous: null, previous_valid_until: null };
      await repo.putKey(after);
      await audit('key.revoke', 'key', id, presentKey(before, now), presentKey(after, now));
      return keyInfo(after);
    }, actor);
  }

  putBudget(body: unknown, actor: Actor, origin: Origin = 'api'): Promise<Saved<BudgetRule>> {
    const input = parseInput(budgetInput, body);
    return this.#change(async (repo, audit) => {
      await checkBudgetScope(repo, input.scope);
      const before = await repo.getBudget(input.id);
      const now = this.#o.now();
      const budget = definitionToBudget(input, origin, before?.created_at ?? now, now);
      await repo.putBudget(budget);
      await audit(
        before ? 'budget.update' : 'budget.create',
        'budget',
        budget.id,
        before && presentBudget(before),
        presentBudget(budget),
      );
      return { value: budget, created: before === null };
    }, actor);
  }

  deleteBudget(id: string, actor: Actor): Promise<BudgetRule> {
    return this.#change(async (repo, audit) => {
      const before = await repo.getBudget(id);
      if (!before) throw new PertokenError('not_found', `no budget "${id}"`, { param: 'id' });
      await repo.deleteBudget(id);
      await audit('budget.delete', 'budget', id, presentBudget(before), null);
      return before;
    }, actor);
  }

  /** Config sync: writes a key declared in pertoken.yaml (hash given or computed), keeping revocation. */
  putConfigKey(record: KeyRecord, actor: Actor): Promise<void> {
    return this.#change(async (repo, audit) => {
      const before = await repo.getKey(record.id);
      const after: KeyRecord = {
        ...record,
        created_at: before?.created_at ?? record.created_at,
        revoked_at: before?.revoked_at ?? null,
      };
      await repo.putKey(after);
      await audit(
        before ? 'key.update' : 'key.create',
        'key',
        record.id,
        before && presentKey(before),
        presentKey(after),
      );
    }, actor);
  }

  revokeMany(ids: readonly string[], actor: Actor): Promise<void> {
    return ids
      .reduce<Promise<unknown>>((p, id) => p.then(() => this.revokeKey(id, actor)), Promise.resolve())
      .then(() => undefined);
  }
}

type Auditor = (
  action: string,
  target: AuditTarget,
  target_id: string,
  before: unknown,
  after: unknown,
) => Promise<void>;

async function requireKey(repo: GovernanceRepo, id: string): Promise<KeyRecord> {
  const key = await repo.getKey(id);
  if (!key) throw new PertokenError('not_found', `no key "${id}"`, { param: 'id' });
  return key;
}

/** A key belongs to an existing tenant, and to one of that tenant's projects when it names one. */
export async function checkOwner(
  repo: GovernanceRepo,
  input: { tenant: string; project?: string | undefined },
): Promise<void> {
  if (!(await repo.getTenant(input.tenant)))
    throw new PertokenError('invalid_request', `tenant: no tenant "${input.tenant}"; create it first`, {
      param: 'tenant',
    });
  if (input.project === undefined) return;
  const project = await repo.getProject(input.project);
  if (!project || project.tenant !== input.tenant)
    throw new PertokenError('invalid_request', `project: tenant "${input.tenant}" has no project "${input.project}"`, {
      param: 'project',
    });
}

/**
 * A budget names an existing tenant and project (as a key does), and a project of its tenant when
 * it names both: a typo must be refused, not leave the spend it meant to bound unbounded.
 */
async function checkBudgetScope(
  repo: GovernanceRepo,
  scope: { tenant?: string | undefined; project?: string | undefined },
): Promise<void> {
  if (scope.tenant !== undefined && !(await repo.getTenant(scope.tenant)))
    throw new PertokenError('invalid_request', `scope.tenant: no tenant "${scope.tenant}"; create it first`, {
      param: 'scope.tenant',
    });
  if (scope.project === undefined) return;
  const project = await repo.getProject(scope.project);
  if (!project)
    throw new PertokenError('invalid_request', `scope.project: no project "${scope.project}"; create it first`, {
      param: 'scope.project',
    });
  if (scope.tenant !== undefined && project.tenant !== scope.tenant)
    throw new PertokenError(
      'invalid_request',
      `scope.project: project "${scope.project}" belongs to tenant "${project.tenant}", not "${scope.tenant}"`,
      { param: 'scope.project' },
    );
}

export function keyRecord(
  id: string,
  input: z.infer<typeof keyInput>,
  hash: KeyRecord['current'],
  origin: Origin,
  now: Date,
  expires: Date | null,
): KeyRecord {
  return {
    id,
    tenant: input.tenant,
    project: input.project ?? null,
    name: input.name ?? null,
    scopes: [...new Set(input.scopes)],
    models: input.models,
    rpm: input.rpm ?? null,
    tpm: input.tpm ?? null,
    model_limits: modelLimitsOf(input.model_limits),
    metadata: input.metadata,
    origin,
    created_at: now,
    expires_at: expires,
    revoked_at: null,
    rotated_at: null,
    previous_valid_until: null,
    current: hash,
    previous: null,
  };
}
