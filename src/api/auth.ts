import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { PertokenError } from '../errors.js';
import { presentedKey } from '../governance/index.js';

/**
 * Guards /api/v1 and the event API when an admin token is configured. Both sides are hashed first
 * so the comparison is constant-time whatever the lengths.
 */
export function requireAdmin(headers: IncomingHttpHeaders, adminToken: string | null): void {
  if (adminToken === null) return;
  const presented = presentedKey(headers);
  if (presented === null) throw new PertokenError('unauthorized', 'this endpoint needs the admin token (Authorization: Bearer …)');
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(adminToken).digest();
  if (!timingSafeEqual(a, b)) throw new PertokenError('unauthorized', 'the token is not valid for this endpoint');
}
