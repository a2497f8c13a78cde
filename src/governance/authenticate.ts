import type { IncomingHttpHeaders } from 'node:http';
import { PertokenError } from '../errors.js';
import type { Directory, Snapshot } from './directory.js';
import { anonymousKeyId, presentedKey, type Identity } from './identity.js';
import { looksLikeVirtualKey, parseKeyId, verifySecret } from './keys.js';
import type { KeyRecord } from './types.js';

export type RequireKeys = 'auto' | boolean;

/** Why a key was refused, before it is turned into a 401. */
type Verdict = { ok: true; key: KeyRecord } | { ok: false; message: string };

/**
 * Looks a presented key up by its id and verifies its secret in constant time. Revoked and
 * expired are only told to a caller that proved it holds the secret; anything else is "invalid".
 */
export function verifyKey(snapshot: Snapshot, presented: string, now: Date): Verdict {
  const invalid: Verdict = { ok: false, message: 'invalid virtual key' };
  const id = parseKeyId(presented);
  if (id === null) return invalid;
  const key = snapshot.keys.get(id);
  if (!key) return invalid;
  const current = verifySecret(presented, key.current);
  const previous = !current && key.previous !== null && verifySecret(presented, key.previous);
  if (!current && !previous) return invalid;
  if (key.revoked_at !== null && key.revoked_at.getTime() <= now.getTime())
    return { ok: false, message: `virtual key ${key.id} was revoked` };
  if (key.expires_at !== null && key.expires_at.getTime() <= now.getTime())
    return { ok: false, message: `virtual key ${key.id} expired at ${key.expires_at.toISOString()}` };
  if (previous && (key.previous_valid_until === null || key.previous_valid_until.getTime() <= now.getTime())) {
    return { ok: false, message: `this secret of virtual key ${key.id} was rotated out; use the new one` };
  }
  return { ok: true, key };
}

export function identityOf(key: KeyRecord): Identity {
  return {
    key_id: key.id,
    tenant: key.tenant,
    project: key.project,
    grant: { scopes: key.scopes, models: key.models, rpm: key.rpm, tpm: key.tpm, model_limits: key.model_limits },
  };
}

export function keysRequired(mode: RequireKeys, snapshot: Snapshot): boolean {
  return mode === 'auto' ? snapshot.keyCount > 0 : mode;
}

/**
 * The gateway's authenticator. Once keys are required (a key exists, or `require_keys: true`)
 * every call needs a valid virtual key; until then the open mode of a fresh install holds, except
 * that a presented `pt-` key that verifies still brings its tenant, project and limits.
 */
export function governedAuthenticator(directory: Directory, mode: RequireKeys, now: () => Date = () => new Date()) {
  return async (headers: IncomingHttpHeaders): Promise<Identity> => {
    const snapshot = await directory.snapshot();
    const presented = presentedKey(headers);
    const required = keysRequired(mode, snapshot);
    if (!required && (presented === null || !looksLikeVirtualKey(presented) || snapshot.keyCount === 0)) {
      return { key_id: anonymousKeyId(presented), tenant: null, project: null };
    }
    if (presented === null)
      throw new PertokenError('unauthorized', 'a virtual key is required (Authorization: Bearer pt-… or x-api-key)');
    const verdict = verifyKey(snapshot, presented, now());
    if (verdict.ok) return identityOf(verdict.key);
    if (!required) return { key_id: anonymousKeyId(presented), tenant: null, project: null };
    throw new PertokenError('unauthorized', verdict.message);
  };
}
