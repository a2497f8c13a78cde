import { formatUsd } from '../pricing/index.js';
import { budgetToDefinition } from './rows.js';
import type { AuditEntry, BudgetAlert, BudgetRule, KeyInfo, KeyRecord, Project, Tenant } from './types.js';

/** JSON views of governance records: ISO times, USD strings, never a key's secret or hash. */

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export function presentTenant(t: Tenant): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    rpm: t.rpm,
    tpm: t.tpm,
    model_limits: t.model_limits,
    metadata: t.metadata,
    origin: t.origin,
    created_at: iso(t.created_at),
    updated_at: iso(t.updated_at),
  };
}

export function presentProject(p: Project): Record<string, unknown> {
  return {
    id: p.id,
    tenant: p.tenant,
    name: p.name,
    rpm: p.rpm,
    tpm: p.tpm,
    model_limits: p.model_limits,
    metadata: p.metadata,
    origin: p.origin,
    created_at: iso(p.created_at),
    updated_at: iso(p.updated_at),
  };
}

export function keyInfo(k: KeyRecord): KeyInfo {
  const { current: _current, previous: _previous, ...info } = k;
  return info;
}

export function presentKey(k: KeyInfo | KeyRecord, now: Date = new Date()): Record<string, unknown> {
  const status =
    k.revoked_at !== null
      ? 'revoked'
      : k.expires_at !== null && k.expires_at.getTime() <= now.getTime()
        ? 'expired'
        : 'active';
  return {
    id: k.id,
    tenant: k.tenant,
    project: k.project,
    name: k.name,
    scopes: k.scopes,
    models: k.models,
    rpm: k.rpm,
    tpm: k.tpm,
    model_limits: k.model_limits,
    metadata: k.metadata,
    origin: k.origin,
    status,
    created_at: iso(k.created_at),
    expires_at: iso(k.expires_at),
    revoked_at: iso(k.revoked_at),
    rotated_at: iso(k.rotated_at),
    previous_valid_until: iso(k.previous_valid_until),
  };
}

export function presentBudget(b: BudgetRule): Record<string, unknown> {
  return {
    ...budgetToDefinition(b),
    // Both allowances always present (null when not given): a stable shape for API clients.
    limit_usd: b.limit_nano === null ? null : formatUsd(b.limit_nano),
    limit_tokens: b.limit_tokens,
    downgrade_to: b.downgrade_to,
    origin: b.origin,
    created_at: iso(b.created_at),
    updated_at: iso(b.updated_at),
  };
}

export function presentAudit(a: AuditEntry): Record<string, unknown> {
  return {
    id: a.id,
    time: iso(a.time),
    actor: a.actor,
    action: a.action,
    target: a.target,
    target_id: a.target_id,
    before: a.before,
    after: a.after,
    remote: a.remote,
  };
}

export function presentAlert(a: BudgetAlert): Record<string, unknown> {
  return {
    id: a.id,
    time: iso(a.time),
    budget_id: a.budget_id,
    period_start: iso(a.period_start),
    threshold: a.threshold,
    spent_usd: formatUsd(a.spent_nano),
    limit_usd: formatUsd(a.limit_nano),
  };
}
