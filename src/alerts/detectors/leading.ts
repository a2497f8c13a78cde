/**
 * One incident shows in several series at once: a feature's spike is also its project's, its
 * model's, its key's and its tenant's. Alerting on each would page five times for one cause, so
 * the detectors that cut a tenant by several dimensions report ONE finding per tenant and kind:
 *
 * - among the tenant's series that pass the detector's own tests, the ones carrying at least 75%
 *   of the largest excess "explain" the incident (the rest is noise or a smaller second cause);
 * - the finding names the narrowest of them — the smallest observed volume — because a narrower
 *   scope is closer to the cause (a feature rather than the project around it). An exact tie means
 *   identical series: a dimension holding all of the tenant's traffic (its only model) adds
 *   nothing, so the tenant wins; between dimensions (a key used by one feature only) feature
 *   wins, then model, project, key;
 * - its severity is the highest among the explaining series (the tenant total may reach page
 *   level while a noisy feature alone only reaches ticket);
 * - the summary lists the other explaining scopes and, when nothing narrower explains it, the
 *   largest parts, so a person sees where else to look.
 *
 * Two unrelated incidents in one tenant at once give one finding on the tenant (or the narrowest
 * scope holding both), with both parts listed; a tenant's second cause on its own shows once the
 * first resolves. The fingerprint (kind + scope) stays stable while the same scope leads.
 */
import type { AlertScope, Severity } from '../types.js';

export interface Candidate {
  scope: AlertScope;
  /** How much of the anomaly this series carries, in the detector's unit (USD/h, tokens, …). */
  excess: number;
  /** The series' observed volume in the same unit; of two explaining scopes the smaller is narrower. */
  size: number;
  severity: Severity;
}

export interface Leading<C extends Candidate> {
  lead: C;
  severity: Severity;
  /** Other scopes carrying the same excess (root-cause hints). */
  alsoSeen: C[];
  /** Other candidates that do not explain it alone, largest excess first. */
  parts: C[];
}

export const EXPLAINS = 0.75;
const DIM_ORDER = ['feature', 'model', 'project', 'key'] as const;

/** Tie order: the tenant alone first, then DIM_ORDER. */
function dimRank(scope: AlertScope): number {
  return DIM_ORDER.findIndex((d) => scope[d] !== undefined) + 1;
}

function scopeText(scope: AlertScope): string {
  return JSON.stringify(scope);
}

/** The leading finding of each tenant among `candidates` (every candidate names a tenant). */
export function leadingByTenant<C extends Candidate>(candidates: readonly C[]): Array<Leading<C>> {
  const byTenant = new Map<string, C[]>();
  for (const c of candidates) {
    const tenant = c.scope.tenant ?? '';
    const list = byTenant.get(tenant);
    if (list === undefined) byTenant.set(tenant, [c]);
    else list.push(c);
  }
  const out: Array<Leading<C>> = [];
  for (const list of byTenant.values()) {
    const top = Math.max(...list.map((c) => c.excess));
    const explaining = list.filter((c) => c.excess >= EXPLAINS * top);
    explaining.sort(
      (a, b) =>
        a.size - b.size || dimRank(a.scope) - dimRank(b.scope) || scopeText(a.scope).localeCompare(scopeText(b.scope)),
    );
    const lead = explaining[0]!;
    const severity: Severity = explaining.some((c) => c.severity === 'page') ? 'page' : 'ticket';
    const parts = list
      .filter((c) => !explaining.includes(c))
      .sort((a, b) => b.excess - a.excess || scopeText(a.scope).localeCompare(scopeText(b.scope)));
    out.push({ lead, severity, alsoSeen: explaining.slice(1), parts });
  }
  return out.sort((a, b) => scopeText(a.lead.scope).localeCompare(scopeText(b.lead.scope)));
}
