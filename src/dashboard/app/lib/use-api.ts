import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiGet } from './api.js';

export interface ApiState<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
}

// Answers are kept briefly so that back/forward and re-renders do not refetch.
const TTL_MS = 20_000;
const cache = new Map<string, { at: number; value: unknown }>();

export function clearApiCache(): void {
  cache.clear();
}

/** GETs `url` (null = nothing to fetch) whenever it changes; aborts the previous request. */
export function useApi<T>(url: string | null): ApiState<T> {
  const cached = url === null ? undefined : cache.get(url);
  const fresh = cached !== undefined && Date.now() - cached.at < TTL_MS;
  const [state, setState] = useState<ApiState<T> & { url: string | null }>(() => ({
    url,
    data: fresh ? (cached.value as T) : null,
    error: null,
    loading: url !== null && !fresh,
  }));
  useEffect(() => {
    if (url === null) {
      setState({ url, data: null, error: null, loading: false });
      return;
    }
    const hit = cache.get(url);
    if (hit !== undefined && Date.now() - hit.at < TTL_MS) {
      setState({ url, data: hit.value as T, error: null, loading: false });
      return;
    }
    const controller = new AbortController();
    setState({ url, data: null, error: null, loading: true });
    apiGet<T>(url, controller.signal).then(
      (data) => {
        cache.set(url, { at: Date.now(), value: data });
        if (!controller.signal.aborted) setState({ url, data, error: null, loading: false });
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        const error =
          err instanceof ApiError ? err : new ApiError(0, 'client', err instanceof Error ? err.message : String(err));
        setState({ url, data: null, error, loading: false });
      },
    );
    return () => controller.abort();
  }, [url]);
  // A render between a URL change and its effect must not show the previous URL's data.
  if (state.url !== url) return { data: null, error: null, loading: url !== null };
  return state;
}
