import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { canonicalClientAddress, type Attribution } from '../ledger/index.js';

/**
 * What the gateway records about who sent a request and what it looked like, without keeping the
 * request: its fingerprint and the client's address (migration 0004; read by the key-abuse and
 * request-loop detectors).
 */

/** Bumped if what goes into the fingerprint ever changes, so old and new hashes never collide. */
const FINGERPRINT_VERSION = 'pertoken-request-v1';

/**
 * The request fingerprint: SHA-256 over, NUL-separated, a version tag, the route, the tenant, the
 * key id, the end user (x-pertoken-user), then the client's raw body bytes exactly as received;
 * the first 32 hex characters (128 bits) are kept.
 *
 * - The raw bytes, not the parsed or rewritten body: an SDK retry resends the very same bytes,
 *   and nothing pertoken changes (model aliases, fallbacks, injected stream options) splits it.
 * - The key and tenant: two callers sending the same prompt through different keys are two
 *   fingerprints, so one popular prompt never reads as a loop. The end user likewise separates
 *   the users behind one shared service key.
 * - Not the trace id, tags or time: a retry often gets a new trace id, and the detector counts
 *   repeats over a window anyway.
 * The ids cannot contain NUL (ids.ts), so the fields cannot run into one another. 128 bits keep
 * accidental collisions out of reach while the column stays small; the hash is one-way, and a
 * prompt cannot be read back from it (a guess of the whole body with the key id can be checked,
 * as with any unsalted hash — the ledger already holds the attribution).
 */
export function requestHash(route: string, attribution: Attribution, body: Buffer): string {
  return createHash('sha256')
    .update(`${FINGERPRINT_VERSION}\0${route}\0${attribution.tenant}\0${attribution.key_id ?? ''}\0`)
    .update(`${attribution.user ?? ''}\0`)
    .update(body)
    .digest('hex')
    .slice(0, 32);
}

/**
 * The client's IP as the gateway saw it: the socket's peer. `x-forwarded-for` is not read:
 * pertoken has no trusted-proxy setting, and without one the header is whatever the caller chose
 * to write, which would let a leaked key hide a new address behind an old one. Behind a proxy
 * every client therefore reads as the proxy's address.
 */
export function clientAddress(req: IncomingMessage): string | null {
  const remote = req.socket.remoteAddress;
  return remote === undefined ? null : canonicalClientAddress(remote);
}
