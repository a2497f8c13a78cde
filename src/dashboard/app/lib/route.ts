import { useEffect, useState } from 'preact/hooks';

/**
 * All state lives in the URL hash: `#/<view>[/<id>]?<query>`. Reload, back and a shared link land
 * in the same place; nothing else (but the token, in sessionStorage) is remembered.
 */

export const VIEWS = [
  'executive',
  'oncall',
  'debug',
  'budgets',
  'chargeback',
  'reconciliation',
  'alerts',
  'pools',
  'request',
] as const;
export type View = (typeof VIEWS)[number];

export interface Route {
  view: View;
  /** `#/request/<id>` */
  id: string | null;
  params: URLSearchParams;
  /** The hash as read, for links back here. */
  hash: string;
}

/** Dimensions the query API filters on (`filter[KEY]`); `day`/`hour` are time, not filters. */
export const FILTER_KEYS = [
  'tenant',
  'project',
  'model',
  'requested_model',
  'provider',
  'feature',
  'user',
  'key',
  'route',
  'status',
  'trace',
] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#/, '');
  const [path = '', query = ''] = text.split('?', 2) as [string?, string?];
  const segments = path.split('/').filter((s) => s.length > 0);
  const name = segments[0] ?? 'executive';
  const view = (VIEWS as readonly string[]).includes(name) ? (name as View) : 'executive';
  let id: string | null = null;
  if (segments[1] !== undefined) {
    try {
      id = decodeURIComponent(segments[1]);
    } catch {
      id = null;
    }
  }
  return { view, id, params: new URLSearchParams(query), hash: hash.startsWith('#') ? hash : `#${hash}` };
}

export function href(
  view: View,
  params: URLSearchParams | Record<string, string | null | undefined>,
  id?: string,
): string {
  const search = params instanceof URLSearchParams ? new URLSearchParams(params) : new URLSearchParams();
  if (!(params instanceof URLSearchParams)) {
    for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') search.set(k, v);
  }
  const query = search.toString();
  return `#/${view}${id === undefined ? '' : `/${encodeURIComponent(id)}`}${query ? `?${query}` : ''}`;
}

/** The route's params with some changed (null removes). */
export function withParams(route: Route, changes: Record<string, string | null>, view: View = route.view): string {
  const params = new URLSearchParams(route.params);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === '') params.delete(k);
    else params.set(k, v);
  }
  return href(view, params, view === route.view && route.id !== null ? route.id : undefined);
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else location.hash = to;
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function filtersOf(params: URLSearchParams): Partial<Record<FilterKey, string>> {
  const out: Partial<Record<FilterKey, string>> = {};
  for (const key of FILTER_KEYS) {
    const v = params.get(key);
    if (v !== null && v !== '') out[key] = v;
  }
  return out;
}
