import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { invalidInput, PertokenError } from '../errors.js';
import { looksLikeVirtualKey, presentedKey, type Reader } from '../governance/index.js';
import { ContextKey, type Middleware, type RequestContext } from '../http/index.js';

/** Hashed first, so the comparison is constant-time whatever the lengths. */
function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Guards /api/v1 and the event API when an admin token is configured. Both sides are hashed first
 * so the comparison is constant-time whatever the lengths.
 */
function requireAdmin(headers: IncomingHttpHeaders, adminToken: string | null): void {
  if (adminToken === null) return;
  const presented = presentedKey(headers);
  if (presented === null)
    throw new PertokenError('unauthorized', 'this endpoint needs the admin token (Authorization: Bearer …)');
  if (!tokenMatches(presented, adminToken))
    throw new PertokenError('unauthorized', 'the token is not valid for this endpoint');
}

/**
 * The admin API changes keys and budgets: it is closed unless PERTOKEN_ADMIN_TOKEN is set, even
 * on an install whose read API is open.
 */
function requireAdminToken(headers: IncomingHttpHeaders, adminToken: string | null): void {
  if (adminToken === null)
    throw new PertokenError('forbidden', 'the admin API is disabled: set PERTOKEN_ADMIN_TOKEN on the server');
  requireAdmin(headers, adminToken);
}

export interface KeyReaders {
  keyReader(presented: string): Promise<Reader>;
}

/**
 * Who reads the query API: the admin token reads everything; a virtual key with `read` scope reads
 * its own tenant only. Without an admin token the read API stays open, as on a bare install —
 * but a presented `pt-` key still narrows the caller to its tenant.
 */
async function resolveReader(
  headers: IncomingHttpHeaders,
  adminToken: string | null,
  keys: KeyReaders | undefined,
): Promise<Reader> {
  const presented = presentedKey(headers);
  if (presented !== null && adminToken !== null && tokenMatches(presented, adminToken)) return { kind: 'admin' };
  if (presented !== null && keys && looksLikeVirtualKey(presented)) return keys.keyReader(presented);
  requireAdmin(headers, adminToken);
  return { kind: 'admin' };
}

/** A tenant reader may only name its own tenant; the answer is narrowed to it either way. */
export function scopeTenant(reader: Reader, asked: string | null | undefined, param: string): string | null {
  if (reader.kind === 'admin') return asked ?? null;
  if (asked !== undefined && asked !== null && asked !== reader.tenant) {
    throw new PertokenError('forbidden', `virtual key ${reader.key_id} may only read tenant "${reader.tenant}"`, {
      param,
    });
  }
  return reader.tenant;
}

/** Who is reading, as the read guard resolved it. */
export const READER = new ContextKey<Reader>('reader');

export interface GuardDeps {
  adminToken: string | null;
  governance?: KeyReaders;
}

/**
 * The guards of the API, mounted on path prefixes (`Router.use`) so that a route added under a
 * prefix later cannot forget its check:
 * - `/api/v1/admin/*`: the admin token, and only when one is configured;
 * - `/api/v1/*`: the admin token or a `read` key, the resolved reader in `ctx.vars` (READER);
 * - the ingest routes (`/v1/usage/*`): the admin token when one is configured.
 */
export function adminGuard(deps: GuardDeps): Middleware {
  return async ({ req }, next) => {
    requireAdminToken(req.headers, deps.adminToken);
    await next();
  };
}

export function readGuard(deps: GuardDeps): Middleware {
  return async (ctx, next) => {
    ctx.vars.set(READER, await resolveReader(ctx.req.headers, deps.adminToken, deps.governance));
    await next();
  };
}

export function ingestGuard(deps: GuardDeps): Middleware {
  return async ({ req }, next) => {
    requireAdmin(req.headers, deps.adminToken);
    await next();
  };
}

export interface MetricsAuthDeps {
  adminToken: string | null;
  /** `server.metrics_auth`: unset = ask for a token whenever one is configured; false = open. */
  metricsAuth: boolean | null;
  /** `server.metrics_token`: reads /metrics only (a scrape credential), besides the admin token. */
  metricsToken: string | null;
}

/**
 * `/metrics` carries spend per tenant, budget and model: once the install has an admin token it is
 * not for anyone who can reach the port. It takes the admin token or the metrics token, never a
 * `read` key (a key reads its own tenant; the exposition is the whole organisation's). Thrown at
 * start (config_invalid) when `metrics_auth: true` leaves no token that could pass.
 */
export function metricsGuard(deps: MetricsAuthDeps): Middleware {
  const tokens = [deps.adminToken, deps.metricsToken].filter((t): t is string => t !== null);
  const required = deps.metricsAuth ?? tokens.length > 0;
  if (!required) return (_ctx, next) => next();
  if (tokens.length === 0)
    throw invalidInput(
      'server.metrics_auth',
      'is true but there is no token to check: set PERTOKEN_ADMIN_TOKEN or server.metrics_token',
      'config_invalid',
    );
  return async ({ req }, next) => {
    const presented = presentedKey(req.headers);
    if (presented === null)
      throw new PertokenError(
        'unauthorized',
        '/metrics needs the admin token or server.metrics_token (Authorization: Bearer …)',
      );
    if (!tokens.some((token) => tokenMatches(presented, token)))
      throw new PertokenError('unauthorized', 'the token is not valid for /metrics');
    await next();
  };
}

export function readerOf(ctx: RequestContext): Reader {
  return ctx.vars.get(READER);
}
