import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { KeyScope } from '../config/index.js';
import type { ModelRateLimit } from './types.js';

/** What a virtual key allows; absent in open mode, where everything is allowed. */
export interface KeyGrant {
  scopes: readonly KeyScope[];
  /** Globs over model names; empty = every model. */
  models: readonly string[];
  rpm: number | null;
  tpm: number | null;
  model_limits: readonly ModelRateLimit[];
}

/** Who is calling, as far as keys tell. A key's own tenant/project win over attribution headers. */
export interface Identity {
  key_id: string | null;
  tenant: string | null;
  project: string | null;
  /** Set when the caller presented a verified virtual key. */
  grant?: KeyGrant | null;
}

export type Authenticator = (headers: IncomingHttpHeaders) => Promise<Identity> | Identity;

/** The caller's key from `Authorization: Bearer …` or `x-api-key`, as SDKs send them. */
export function presentedKey(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (match?.[1]) return match[1].trim();
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : null;
}

/** The anonymous caller id of open mode: a short hash, so reports tell callers apart. */
export function anonymousKeyId(key: string | null): string | null {
  return key ? `anon-${createHash('sha256').update(key).digest('hex').slice(0, 12)}` : null;
}

/**
 * Open (demo) mode: any key is accepted and attributed to the default tenant. The key itself is
 * never kept; a short hash lets reports still tell callers apart.
 */
export function openAccess(): Authenticator {
  return (headers) => ({ key_id: anonymousKeyId(presentedKey(headers)), tenant: null, project: null });
}
