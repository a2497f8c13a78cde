import type { BudgetConfig, KeyScope } from '../config/index.js';

/**
 * The governance model: tenants own projects, projects (or tenants directly) own virtual keys;
 * budgets and rate limits hang off any of them. Money is bigint nano-USD; times are Dates.
 */

/** Where a record came from: the admin API, or `pertoken.yaml` (synced at start-up). */
export type Origin = 'api' | 'config';

/** RPM/TPM that count only requests some chain model of which matches `model` (modelFamilyMatch). */
export interface ModelRateLimit {
  model: string;
  rpm: number | null;
  tpm: number | null;
}

export interface RateLimits {
  rpm: number | null;
  tpm: number | null;
  model_limits: ModelRateLimit[];
}

export interface Tenant extends RateLimits {
  id: string;
  name: string | null;
  metadata: Record<string, string>;
  origin: Origin;
  created_at: Date;
  updated_at: Date;
}

export interface Project extends RateLimits {
  id: string;
  tenant: string;
  name: string | null;
  metadata: Record<string, string>;
  origin: Origin;
  created_at: Date;
  updated_at: Date;
}

/** A key as the API shows it: never its secret, never its hash. */
export interface KeyInfo extends RateLimits {
  id: string;
  tenant: string;
  project: string | null;
  name: string | null;
  scopes: KeyScope[];
  models: string[];
  metadata: Record<string, string>;
  origin: Origin;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  rotated_at: Date | null;
  /** Until when the secret that was replaced by the last rotation still works. */
  previous_valid_until: Date | null;
}

/** One accepted secret of a key: SHA-256(salt || key). */
export interface SecretHash {
  salt: string;
  hash: string;
}

/** A key with its verification material; stays inside governance. */
export interface KeyRecord extends KeyInfo {
  current: SecretHash;
  previous: SecretHash | null;
}

export type BudgetPeriod = BudgetConfig['period'];
export type BudgetAction = BudgetConfig['action'];
export type BudgetScope = BudgetConfig['scope'];

/**
 * A validated budget definition: an allowance in nano-USD, in tokens, or both (each enforced by a
 * counter of its own). A budget without `limit_nano` still counts its USD spend.
 */
export interface BudgetRule {
  id: string;
  scope: BudgetScope;
  period: BudgetPeriod;
  tz: string;
  limit_nano: bigint | null;
  limit_tokens: number | null;
  action: BudgetAction;
  downgrade_to: string | null;
  downgrade_at: number;
  thresholds: number[];
  fail_mode: 'open' | 'closed';
  origin: Origin;
  created_at: Date;
  updated_at: Date;
}

/**
 * A budget with a USD allowance and no model scope: what the ledger's spend gauges, burn-rate
 * alerts and forecasts work on (their cost filters are equalities, so a model glob is not theirs).
 */
export interface Budget extends Omit<BudgetRule, 'limit_nano' | 'limit_tokens'> {
  limit_nano: bigint;
  limit_tokens?: number | null;
}

export type AuditTarget = 'tenant' | 'project' | 'key' | 'budget';

/** One admin change. `before`/`after` are the public views: key secrets never appear. */
export interface AuditEntry {
  id: string;
  time: Date;
  /** `admin`, `admin:<x-pertoken-actor>`, or `config` for start-up sync. */
  actor: string;
  action: string;
  target: AuditTarget;
  target_id: string;
  before: unknown;
  after: unknown;
  /** Client address of the admin call; null for config sync. */
  remote: string | null;
}

/** A budget crossed one of its thresholds in a period (recorded once per budget/period/threshold). */
export interface BudgetAlert {
  id: string;
  time: Date;
  budget_id: string;
  period_start: Date | null;
  threshold: number;
  spent_nano: bigint;
  limit_nano: bigint;
}

/** The caller making an admin change, for the audit log. */
export interface Actor {
  name: string;
  remote: string | null;
}
