/**
 * Governance tables, in the same dialect-neutral types as the ledger (text, bigint, integer):
 * JSON travels as text, times as epoch ms. SQLite hands integers back as bigint (safe integers),
 * PostgreSQL as strings for BIGINT; readers convert with Number()/BigInt().
 */

type Int = number | bigint | string;

export interface TenantsTable {
  id: string;
  name: string | null;
  rpm: Int | null;
  tpm: Int | null;
  /** JSON array of {model, rpm, tpm} (migration 0002). */
  model_limits: string;
  metadata: string;
  origin: string;
  created_ms: Int;
  updated_ms: Int;
}

export interface ProjectsTable extends TenantsTable {
  tenant: string;
}

export interface KeysTable {
  id: string;
  tenant: string;
  project: string | null;
  name: string | null;
  scopes: string;
  models: string;
  rpm: Int | null;
  tpm: Int | null;
  model_limits: string;
  metadata: string;
  origin: string;
  salt: string;
  hash: string;
  prev_salt: string | null;
  prev_hash: string | null;
  prev_until_ms: Int | null;
  created_ms: Int;
  expires_ms: Int | null;
  revoked_ms: Int | null;
  rotated_ms: Int | null;
  updated_ms: Int;
}

export interface BudgetsTable {
  id: string;
  /** The validated definition as JSON (limit as a USD string). */
  definition: string;
  origin: string;
  created_ms: Int;
  updated_ms: Int;
}

export interface AuditTable {
  /** Time-sortable id (ULID): the log's order. */
  id: string;
  time_ms: Int;
  actor: string;
  action: string;
  target: string;
  target_id: string;
  before_json: string | null;
  after_json: string | null;
  remote: string | null;
}

export interface AlertsTable {
  id: string;
  time_ms: Int;
  budget_id: string;
  /** -1 for period `total` (a unique key cannot hold NULL as a value in both dialects alike). */
  period_start_ms: Int;
  /** The fraction as text ("0.8"): compared exactly in the unique key. */
  threshold: string;
  spent_nano: Int;
  limit_nano: Int;
}

export interface GovernanceDatabase {
  gov_tenants: TenantsTable;
  gov_projects: ProjectsTable;
  gov_keys: KeysTable;
  gov_budgets: BudgetsTable;
  gov_audit: AuditTable;
  gov_alerts: AlertsTable;
}
