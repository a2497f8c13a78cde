/**
 * Governance: virtual keys, tenants/projects, budgets with reserve-and-settle, RPM/TPM limits,
 * the admin surface and its audit log. State lives in a governance store (SQLite file, or the
 * shared PostgreSQL); budget and rate counters in src/counters (memory, or Redis for replicas).
 */
export {
  openAccess,
  presentedKey,
  anonymousKeyId,
  type Authenticator,
  type Identity,
  type KeyGrant,
} from './identity.js';
export { Governance, type GovernanceOptions, type Reader } from './service.js';
export type { AdmitRequest, Admission, RouteCandidate } from './gate.js';
export { GovernanceStore, GovernanceRepo } from './store.js';
export { openGovernanceStore, type GovernanceStoreOptions } from './open.js';
export { GovernanceAdmin, type Saved } from './admin.js';
export { presentKey, presentTenant, presentProject, presentBudget, presentAudit, presentAlert } from './present.js';
export { parseKeyId, looksLikeVirtualKey, KEY_PREFIX } from './keys.js';
export { periodBounds, type PeriodBounds } from './period.js';
export { budgetCostFilter, ledgerSpend, type LedgerCosts } from './budgets.js';
export { worstCaseCost, maxOutputTokens, DEFAULT_MAX_OUTPUT_TOKENS } from './worst-case.js';
export type {
  Actor,
  AuditEntry,
  Budget,
  BudgetAlert,
  BudgetRule,
  KeyInfo,
  ModelRateLimit,
  Project,
  Tenant,
} from './types.js';
