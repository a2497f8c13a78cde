import type { Config, KeyConfig } from '../config/index.js';
import type { GovernanceAdmin } from './admin.js';
import { keyRecord } from './admin.js';
import { hashSecret, presetHash, verifySecret } from './keys.js';
import { budgetToDefinition, definitionToBudget, modelLimitsOf } from './rows.js';
import type { GovernanceStore } from './store.js';
import type { Actor, KeyRecord } from './types.js';

export const CONFIG_ACTOR: Actor = { name: 'config', remote: null };

/**
 * GitOps: what `pertoken.yaml` declares is written to the governance store at start-up, through
 * the audited admin path, only where it differs (replicas starting together do not flood the log).
 * Budgets and keys once declared in config and now removed are deleted and revoked respectively;
 * a key revoked through the API stays revoked while config still declares it.
 */
export async function syncConfig(
  config: Config,
  store: GovernanceStore,
  admin: GovernanceAdmin,
  now: Date,
): Promise<void> {
  for (const t of config.tenants) {
    const { projects, ...tenant } = t;
    const before = await store.getTenant(t.id);
    if (
      !before ||
      before.origin !== 'config' ||
      before.name !== (t.name ?? null) ||
      before.rpm !== (t.rpm ?? null) ||
      before.tpm !== (t.tpm ?? null) ||
      !sameJson(before.model_limits, modelLimitsOf(t.model_limits)) ||
      !sameJson(before.metadata, t.metadata)
    ) {
      await admin.putTenant(tenant, CONFIG_ACTOR, 'config');
    }
    for (const p of projects) {
      const prev = await store.getProject(p.id);
      if (
        !prev ||
        prev.origin !== 'config' ||
        prev.tenant !== t.id ||
        prev.name !== (p.name ?? null) ||
        prev.rpm !== (p.rpm ?? null) ||
        prev.tpm !== (p.tpm ?? null) ||
        !sameJson(prev.model_limits, modelLimitsOf(p.model_limits)) ||
        !sameJson(prev.metadata, p.metadata)
      ) {
        await admin.putProject({ ...p, tenant: t.id }, CONFIG_ACTOR, 'config');
      }
    }
  }

  const declaredKeys = new Set(config.keys.map((k) => k.id));
  for (const k of config.keys) {
    const before = await store.getKey(k.id);
    const record = configKeyRecord(k, before, now);
    if (!before || !sameKey(before, record)) await admin.putConfigKey(record, CONFIG_ACTOR);
  }
  const dropped = (await store.listKeys()).filter(
    (k) => k.origin === 'config' && !declaredKeys.has(k.id) && k.revoked_at === null,
  );
  await admin.revokeMany(
    dropped.map((k) => k.id),
    CONFIG_ACTOR,
  );

  const declaredBudgets = new Set(config.budgets.map((b) => b.id));
  for (const b of config.budgets) {
    const before = await store.getBudget(b.id);
    const wanted = budgetToDefinition(definitionToBudget(b, 'config', now, now));
    if (!before || before.origin !== 'config' || !sameJson(budgetToDefinition(before), wanted))
      await admin.putBudget(b, CONFIG_ACTOR, 'config');
  }
  for (const budget of await store.listBudgets()) {
    if (budget.origin === 'config' && !declaredBudgets.has(budget.id))
      await admin.deleteBudget(budget.id, CONFIG_ACTOR);
  }
}

function configKeyRecord(k: KeyConfig, before: KeyRecord | null, now: Date): KeyRecord {
  let hash: KeyRecord['current'];
  if (k.key_sha256 !== undefined) hash = presetHash(k.key_sha256);
  else if (before && k.key !== undefined && verifySecret(k.key, before.current)) hash = before.current;
  else hash = hashSecret(k.key ?? '');
  const { key: _key, key_sha256: _sha, ...grant } = k;
  return keyRecord(
    k.id,
    grant,
    hash,
    'config',
    before?.created_at ?? now,
    k.expires_at === undefined ? null : new Date(k.expires_at),
  );
}

function sameKey(a: KeyRecord, b: KeyRecord): boolean {
  return (
    a.origin === b.origin &&
    a.tenant === b.tenant &&
    a.project === b.project &&
    a.name === b.name &&
    sameJson(a.scopes, b.scopes) &&
    sameJson(a.models, b.models) &&
    a.rpm === b.rpm &&
    a.tpm === b.tpm &&
    sameJson(a.model_limits, b.model_limits) &&
    sameJson(a.metadata, b.metadata) &&
    (a.expires_at?.getTime() ?? null) === (b.expires_at?.getTime() ?? null) &&
    a.current.hash === b.current.hash &&
    a.current.salt === b.current.salt
  );
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
