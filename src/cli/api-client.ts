/**
 * @module
 * The one HTTP client of the CLI for pertoken's own API: the commands that read a running server
 * with `--url` (`report`, `chargeback`) and the admin commands (`tenants`, `keys`, `budgets`). The
 * bearer is PERTOKEN_ADMIN_TOKEN: the admin token, or for a read a virtual key with `read` scope
 * (the server then narrows the answer to that key's tenant).
 */
import { request } from 'undici';
import { PertokenError } from '../errors.js';
import type { Env } from './ledger-store.js';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface ApiCall {
  /** The server as the user gave it (`--url`); a path prefix in it is kept. */
  url: string;
  method?: Method;
  /** Path and query under the server, e.g. `/api/v1/costs?from=2026-01-01`. */
  path: string;
  /** Sent as JSON when given. */
  body?: unknown;
  /**
   * API field -> CLI flag, so an error names what the user typed. A field not listed is looked up
   * by its top-level name (`scope.tenant` -> `scope`, `filter[tenant]` -> `filter`), else becomes
   * `--its-name`.
   */
  flags?: Readonly<Record<string, string>>;
  /** Extra request headers, such as the admin commands' `x-pertoken-actor`. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Calls the API and returns its JSON. Every failure is one PertokenError naming what to fix:
 * `--url` when the server cannot be reached, is not pertoken, or refuses for a reason of its own
 * (no field named); PERTOKEN_ADMIN_TOKEN when it refuses the token; else the API's field as the
 * command's flag.
 */
export async function callApi<T>(env: Env, call: ApiCall): Promise<T> {
  let url: URL;
  try {
    const base = new URL(call.url);
    url = new URL(`${base.pathname.replace(/\/+$/, '')}${call.path}`, base);
  } catch {
    throw new PertokenError('invalid_request', `not a URL: "${call.url}"`, { param: '--url' });
  }
  const token = env.PERTOKEN_ADMIN_TOKEN;
  let response;
  try {
    response = await request(url, {
      method: call.method ?? 'GET',
      headers: {
        ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...call.headers,
      },
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
    });
  } catch (err) {
    throw new PertokenError(
      'upstream_unreachable',
      `cannot reach ${url.origin}: ${(err as { code?: string }).code ?? String(err)}`,
      { param: '--url' },
    );
  }
  const text = await response.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PertokenError(
      'upstream_error',
      `${url.origin} answered HTTP ${response.statusCode} without JSON; is it a pertoken server?`,
      { param: '--url' },
    );
  }
  if (response.statusCode < 400) return json as T;
  const error = (json as { error?: { message?: string; param?: string | null } } | null)?.error ?? {};
  // The API names the field twice ("tenant: no tenant …"); the CLI line names the flag once.
  const message = (error.message ?? `HTTP ${response.statusCode}`).replace(/^[\w.]+: /, '');
  const field = error.param ?? null;
  // A refused token; a 403 naming a field is a read key asking past its tenant (`--tenant`).
  if (response.statusCode === 401 || (response.statusCode === 403 && field === null)) {
    throw new PertokenError('unauthorized', `${message}${token ? '' : ' (PERTOKEN_ADMIN_TOKEN is not set)'}`, {
      param: 'PERTOKEN_ADMIN_TOKEN',
    });
  }
  const code =
    response.statusCode === 404 ? 'not_found' : response.statusCode === 403 ? 'forbidden' : 'invalid_request';
  throw new PertokenError(code, message, { param: field === null ? '--url' : flagOf(field, call.flags ?? {}) });
}

/** The CLI's name for an API field; the request's credential is PERTOKEN_ADMIN_TOKEN. */
function flagOf(field: string, flags: Readonly<Record<string, string>>): string {
  if (field === 'authorization') return 'PERTOKEN_ADMIN_TOKEN';
  const top = field.split(/[.[]/)[0] ?? field;
  return flags[field] ?? flags[top] ?? `--${top.replace(/_/g, '-')}`;
}
