import { budgetSchema, type BudgetConfig, type KeyScope } from '../config/index.js';
import { formatUsd, parseUsd } from '../pricing/index.js';
import type { AlertsTable, AuditTable, BudgetsTable, KeysTable, ProjectsTable, TenantsTable } from './schema.js';
import type {
  AuditEntry,
  BudgetAlert,
  BudgetRule,
  KeyRecord,
  ModelRateLimit,
  Origin,
  Project,
  Tenant,
} from './types.js';

/** Row <-> model conversion; the only place that knows how JSON and times are stored. */

type Int = number | bigint | string;

const num = (v: Int): number => Number(v);
const numOrNull = (v: Int | null): number | null => (v === null ? null : Number(v));
const dateOrNull = (v: Int | null): Date | null => (v === null ? null : new Date(Number(v)));
const msOrNull = (d: Date | null): number | null => (d === null ? null : d.getTime());

/** Model limits as declared (absent rpm/tpm) <-> as kept (null). */
export function modelLimitsOf(
  declared: ReadonlyArray<{ model: string; rpm?: number | undefined; tpm?: number | undefined }>,
): ModelRateLimit[] {
  return declared.map((l) => ({ model: l.model, rpm: l.rpm ?? null, tpm: l.tpm ?? null }));
}

function parseModelLimits(text: string | null | undefined): ModelRateLimit[] {
  return text ? (JSON.parse(text) as ModelRateLimit[]) : [];
}

export function tenantToRow(t: Tenant): TenantsTable {
  return {
    id: t.id,
    name: t.name,
    rpm: t.rpm,
    tpm: t.tpm,
    model_limits: JSON.stringify(t.model_limits),
    metadata: JSON.stringify(t.metadata),
    origin: t.origin,
    created_ms: t.created_at.getTime(),
    updated_ms: t.updated_at.getTime(),
  };
}

export function rowToTenant(r: TenantsTable): Tenant {
  return {
    id: r.id,
    name: r.name,
    rpm: numOrNull(r.rpm),
    tpm: numOrNull(r.tpm),
    model_limits: parseModelLimits(r.model_limits),
    metadata: JSON.parse(r.metadata) as Record<string, string>,
    origin: r.origin as Origin,
    created_at: new Date(num(r.created_ms)),
    updated_at: new Date(num(r.updated_ms)),
  };
}

export function projectToRow(p: Project): ProjectsTable {
  return { ...tenantToRow({ ...p }), tenant: p.tenant };
}

export function rowToProject(r: ProjectsTable): Project {
  return { ...rowToTenant(r), tenant: r.tenant };
}

export function keyToRow(k: KeyRecord): KeysTable {
  return {
    id: k.id,
    tenant: k.tenant,
    project: k.project,
    name: k.name,
    scopes: JSON.stringify(k.scopes),
    models: JSON.stringify(k.models),
    rpm: k.rpm,
    tpm: k.tpm,
    model_limits: JSON.stringify(k.model_limits),
    metadata: JSON.stringify(k.metadata),
    origin: k.origin,
    salt: k.current.salt,
    hash: k.current.hash,
    prev_salt: k.previous?.salt ?? null,
    prev_hash: k.previous?.hash ?? null,
    prev_until_ms: msOrNull(k.previous_valid_until),
    created_ms: k.created_at.getTime(),
    expires_ms: msOrNull(k.expires_at),
    revoked_ms: msOrNull(k.revoked_at),
    rotated_ms: msOrNull(k.rotated_at),
    updated_ms: Date.now(),
  };
}

export function rowToKey(r: KeysTable): KeyRecord {
  return {
    id: r.id,
    tenant: r.tenant,
    project: r.project,
    name: r.name,
    scopes: JSON.parse(r.scopes) as KeyScope[],
    models: JSON.parse(r.models) as string[],
    rpm: numOrNull(r.rpm),
    tpm: numOrNull(r.tpm),
    model_limits: parseModelLimits(r.model_limits),
    metadata: JSON.parse(r.metadata) as Record<string, string>,
    origin: r.origin as Origin,
    current: { salt: r.salt, hash: r.hash },
    previous: r.prev_hash === null ? null : { salt: r.prev_salt ?? '', hash: r.prev_hash },
    previous_valid_until: dateOrNull(r.prev_until_ms),
    created_at: new Date(num(r.created_ms)),
    expires_at: dateOrNull(r.expires_ms),
    revoked_at: dateOrNull(r.revoked_ms),
    rotated_at: dateOrNull(r.rotated_ms),
  };
}

/** A budget as declared (config or API input), with its limit as a USD string. */
export function budgetToDefinition(b: BudgetRule): BudgetConfig {
  return {
    id: b.id,
    scope: b.scope,
    period: b.period,
    tz: b.tz,
    ...(b.limit_nano !== null ? { limit_usd: formatUsd(b.limit_nano) } : {}),
    ...(b.limit_tokens !== null ? { limit_tokens: b.limit_tokens } : {}),
    action: b.action,
    ...(b.downgrade_to !== null ? { downgrade_to: b.downgrade_to } : {}),
    downgrade_at: b.downgrade_at,
    thresholds: b.thresholds,
    fail_mode: b.fail_mode,
  };
}

export function definitionToBudget(def: BudgetConfig, origin: Origin, created: Date, updated: Date): BudgetRule {
  return {
    id: def.id,
    scope: Object.fromEntries(Object.entries(def.scope).filter(([, v]) => v !== undefined)),
    period: def.period,
    tz: def.tz,
    limit_nano: def.limit_usd === undefined ? null : parseUsd(def.limit_usd),
    limit_tokens: def.limit_tokens ?? null,
    action: def.action,
    downgrade_to: def.downgrade_to ?? null,
    downgrade_at: def.downgrade_at,
    thresholds: [...new Set(def.thresholds)].sort((a, b) => a - b),
    fail_mode: def.fail_mode,
    origin,
    created_at: created,
    updated_at: updated,
  };
}

export function budgetToRow(b: BudgetRule): BudgetsTable {
  return {
    id: b.id,
    definition: JSON.stringify(budgetToDefinition(b)),
    origin: b.origin,
    created_ms: b.created_at.getTime(),
    updated_ms: b.updated_at.getTime(),
  };
}

export function rowToBudget(r: BudgetsTable): BudgetRule {
  const def = budgetSchema.parse(JSON.parse(r.definition));
  return definitionToBudget(def, r.origin as Origin, new Date(num(r.created_ms)), new Date(num(r.updated_ms)));
}

export function auditToRow(a: AuditEntry): AuditTable {
  return {
    id: a.id,
    time_ms: a.time.getTime(),
    actor: a.actor,
    action: a.action,
    target: a.target,
    target_id: a.target_id,
    before_json: a.before === null ? null : JSON.stringify(a.before),
    after_json: a.after === null ? null : JSON.stringify(a.after),
    remote: a.remote,
  };
}

export function rowToAudit(r: AuditTable): AuditEntry {
  return {
    id: r.id,
    time: new Date(num(r.time_ms)),
    actor: r.actor,
    action: r.action,
    target: r.target as AuditEntry['target'],
    target_id: r.target_id,
    before: r.before_json === null ? null : (JSON.parse(r.before_json) as unknown),
    after: r.after_json === null ? null : (JSON.parse(r.after_json) as unknown),
    remote: r.remote,
  };
}

export function alertToRow(a: BudgetAlert): AlertsTable {
  return {
    id: a.id,
    time_ms: a.time.getTime(),
    budget_id: a.budget_id,
    period_start_ms: a.period_start === null ? -1 : a.period_start.getTime(),
    threshold: String(a.threshold),
    spent_nano: a.spent_nano,
    limit_nano: a.limit_nano,
  };
}

export function rowToAlert(r: AlertsTable): BudgetAlert {
  const start = num(r.period_start_ms);
  return {
    id: r.id,
    time: new Date(num(r.time_ms)),
    budget_id: r.budget_id,
    period_start: start < 0 ? null : new Date(start),
    threshold: Number(r.threshold),
    spent_nano: BigInt(r.spent_nano),
    limit_nano: BigInt(r.limit_nano),
  };
}
