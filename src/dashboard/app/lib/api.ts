import { clearToken, getToken } from './session.js';

/** An API answer that is not 2xx, with the OpenAI-shaped error's code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Fired when the server refuses the credential: the app returns to sign-in with this message. */
export const UNAUTHORIZED_EVENT = 'pertoken:unauthorized';

export type Query = Record<string, string | number | null | undefined>;

export function apiUrl(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `${path}${qs ? `?${qs}` : ''}`;
}

export async function apiGet<T>(url: string, signal?: AbortSignal, token: string | null = getToken()): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      credentials: 'same-origin',
      ...(signal ? { signal } : {}),
    });
  } catch (err: unknown) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The server could not be reached. Is pertoken running?');
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string; param?: string | null } } | null)?.error;
    const apiError = new ApiError(
      res.status,
      error?.code ?? `http_${res.status}`,
      error?.message ?? `The server answered ${res.status} ${res.statusText}`.trim(),
      error?.param ?? null,
    );
    if (res.status === 401 && token !== null && token === getToken()) {
      clearToken();
      window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT, { detail: apiError.message }));
    }
    throw apiError;
  }
  return body as T;
}

/** A feature this server runs without (no governance, alerts or attribution) answers its routes 404. */
export function isNotConfigured(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404 && err.code === 'not_found';
}
