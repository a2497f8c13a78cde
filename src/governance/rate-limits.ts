import type { RateLimitSpec, RateState } from '../counters/index.js';
import type { Attribution } from '../ledger/index.js';
import { modelInScope } from './budgets.js';
import type { Snapshot } from './directory.js';
import type { Identity } from './identity.js';
import type { ModelRateLimit } from './types.js';

const MINUTE_MS = 60_000;

/** A TPM limit to correct to actual tokens at settle, counting only its model scope's events. */
export interface TokenLimit {
  key: string;
  /** The limit's model glob; null counts every event. */
  model: string | null;
}

export interface RateLimitPlan {
  specs: RateLimitSpec[];
  tokenKeys: TokenLimit[];
}

/**
 * RPM and TPM of the key, its project and its tenant, each a sliding minute shared by every
 * replica, plus their model-scoped limits. TPM takes the request's worst case (prompt + the output
 * ceiling of the chain models it covers) up front.
 *
 * A model-scoped limit applies when any model of the chain (the model, then its fallbacks) matches
 * it, as a model-scoped budget does: which of them serves is only known afterwards, and a limit
 * must hold whichever does. A downgrade decided by a budget later does not re-take rate limits.
 */
export function rateLimitPlan(
  snapshot: Snapshot,
  identity: Identity,
  attribution: Attribution,
  chain: readonly string[],
  tokens: (models: readonly string[]) => number,
): RateLimitPlan {
  const owners: Array<
    [kind: string, id: string, rpm: number | null, tpm: number | null, limits: readonly ModelRateLimit[]]
  > = [];
  if (identity.grant && identity.key_id)
    owners.push(['key', identity.key_id, identity.grant.rpm, identity.grant.tpm, identity.grant.model_limits]);
  const project = attribution.project === null ? undefined : snapshot.projects.get(attribution.project);
  if (project) owners.push(['project', project.id, project.rpm, project.tpm, project.model_limits]);
  const tenant = snapshot.tenants.get(attribution.tenant);
  if (tenant) owners.push(['tenant', tenant.id, tenant.rpm, tenant.tpm, tenant.model_limits]);
  const specs: RateLimitSpec[] = [];
  const tokenKeys: TokenLimit[] = [];
  const add = (key: string, rpm: number | null, tpm: number | null, model: string | null): void => {
    const members = model === null ? chain : chain.filter((m) => modelInScope(model, m));
    if (members.length === 0) return;
    if (rpm !== null) specs.push({ key: `rpm:${key}`, limit: rpm, windowMs: MINUTE_MS, cost: 1 });
    if (tpm !== null) {
      specs.push({ key: `tpm:${key}`, limit: tpm, windowMs: MINUTE_MS, cost: tokens(members) });
      tokenKeys.push({ key: `tpm:${key}`, model });
    }
  };
  for (const [kind, id, rpm, tpm, limits] of owners) {
    add(`${kind}:${id}`, rpm, tpm, null);
    for (const l of limits) add(`${kind}:${id}:${l.model}`, l.rpm, l.tpm, l.model);
  }
  return { specs, tokenKeys };
}

export function splitStates(states: readonly RateState[]): { requests: RateState[]; tokens: RateState[] } {
  return {
    requests: states.filter((s) => s.key.startsWith('rpm:')),
    tokens: states.filter((s) => s.key.startsWith('tpm:')),
  };
}
