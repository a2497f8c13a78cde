import { request } from 'undici';
import { PertokenError } from '../errors.js';
import type { Env } from './ledger-store.js';

/**
 * A GET on a running server's query API, for the commands that read it with `--url` instead of
 * the local ledger (`report`, `chargeback`). The bearer is PERTOKEN_ADMIN_TOKEN: the admin token,
 * or a virtual key with `read` scope (the server then narrows the answer to that key's tenant).
 * Every failure is one PertokenError naming what to fix: `--url` when the server cannot be reached
 * or is not pertoken, PERTOKEN_ADMIN_TOKEN when it refuses the token, else the API's own field,
 * translated through `flags` (API parameter -> CLI flag) when it is one the command took.
 */
export async function readApi<T>(
  server: string,
  path: string,
  params: URLSearchParams,
  env: Env,
  flags: Readonly<Record<string, string>> = {},
): Promise<T> {
  let url: URL;
  try {
    url = new URL(`${server.replace(/\/+$/, '')}${path}?${params.toString()}`);
  } catch {
    throw new PertokenError('invalid_request', `not a URL: "${server}"`, { param: '--url' });
  }
  const token = env.PERTOKEN_ADMIN_TOKEN;
  let response;
  try {
    response = await request(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (err) {
    throw new PertokenError(
      'upstream_unreachable',
      `cannot reach ${url.origin}: ${(err as { code?: string }).code ?? String(err)}`,
      { param: '--url' },
    );
  }
  const text = await response.body.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PertokenError(
      'upstream_error',
      `${url.origin} answered HTTP ${response.statusCode} without JSON; is it a pertoken server?`,
      { param: '--url' },
    );
  }
  if (response.statusCode < 400) return body as T;
  const error = (body as { error?: { message?: string; param?: string | null } } | null)?.error ?? {};
  const message = error.message ?? `HTTP ${response.statusCode}`;
  const param = error.param ?? null;
  // A refused token; a 403 naming a field is a read key asking past its tenant (`--tenant`).
  if (response.statusCode === 401 || (response.statusCode === 403 && param === null)) {
    throw new PertokenError('unauthorized', `${message}${token ? '' : ' (PERTOKEN_ADMIN_TOKEN is not set)'}`, {
      param: 'PERTOKEN_ADMIN_TOKEN',
    });
  }
  const code =
    response.statusCode === 404 ? 'not_found' : response.statusCode === 403 ? 'forbidden' : 'invalid_request';
  throw new PertokenError(code, message, { param: param === null ? '--url' : (flags[param] ?? param) });
}
