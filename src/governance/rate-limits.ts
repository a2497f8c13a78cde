import type { RateLimitSpec, RateState } from '../counters/index.js';
import type { Attribution } from '../ledger/index.js';
import type { Snapshot } from './directory.js';
import type { Identity } from './identity.js';

const MINUTE_MS = 60_000;

export interface RateLimitPlan {
  specs: RateLimitSpec[];
  /** Keys of the token limits (corrected to actual tokens at settle). */
  tokenKeys: string[];
}

/**
 * RPM and TPM of the key, its project and its tenant, each a sliding minute shared by every
 * replica. TPM takes the request's worst case (prompt + output ceiling) up front.
 */
export function rateLimitPlan(
  snapshot: Snapshot,
  identity: Identity,
  attribution: Attribution,
  tokens: () => number,
): RateLimitPlan {
  const owners: Array<[kind: string, id: string, rpm: number | null, tpm: number | null]> = [];
  if (identity.grant && identity.key_id) owners.push(['key', identity.key_id, identity.grant.rpm, identity.grant.tpm]);
  const project = attribution.project === null ? undefined : snapshot.projects.get(attribution.project);
  if (project) owners.push(['project', project.id, project.rpm, project.tpm]);
  const tenant = snapshot.tenants.get(attribution.tenant);
  if (tenant) owners.push(['tenant', tenant.id, tenant.rpm, tenant.tpm]);
  const specs: RateLimitSpec[] = [];
  const tokenKeys: string[] = [];
  let cost: number | null = null;
  for (const [kind, id, rpm, tpm] of owners) {
    if (rpm !== null) specs.push({ key: `rpm:${kind}:${id}`, limit: rpm, windowMs: MINUTE_MS, cost: 1 });
    if (tpm !== null) {
      cost ??= tokens();
      const key = `tpm:${kind}:${id}`;
      specs.push({ key, limit: tpm, windowMs: MINUTE_MS, cost });
      tokenKeys.push(key);
    }
  }
  return { specs, tokenKeys };
}

export function splitStates(states: readonly RateState[]): { requests: RateState[]; tokens: RateState[] } {
  return {
    requests: states.filter((s) => s.key.startsWith('rpm:')),
    tokens: states.filter((s) => s.key.startsWith('tpm:')),
  };
}
