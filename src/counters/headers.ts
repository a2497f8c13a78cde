/**
 * OpenAI-style rate limit headers from rate states. Clients (the openai SDK, LangChain, retry
 * middlewares) read these to pace themselves, so the shapes follow OpenAI's exactly:
 * `x-ratelimit-reset-*` as a Go-like duration ("20ms", "1s", "6m0s"), `retry-after` in whole
 * seconds and `retry-after-ms` (which the openai SDK prefers) in milliseconds.
 */
import type { RateState } from './types.js';

export interface RateHeaderInput {
  /** Every request-count limit that applied (key, project, tenant …); the tightest is reported. */
  requests?: readonly RateState[];
  /** Every token limit that applied; the tightest is reported. */
  tokens?: readonly RateState[];
  /** Set on a refusal: the wait until the request would fit. */
  retryAfterMs?: number | null;
}

export function rateLimitHeaders(input: RateHeaderInput): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [suffix, states] of [
    ['requests', input.requests],
    ['tokens', input.tokens],
  ] as const) {
    const state = tightest(states ?? []);
    if (!state) continue;
    headers[`x-ratelimit-limit-${suffix}`] = String(state.limit);
    headers[`x-ratelimit-remaining-${suffix}`] = String(state.remaining);
    headers[`x-ratelimit-reset-${suffix}`] = formatResetDuration(state.resetMs);
  }
  if (input.retryAfterMs !== undefined && input.retryAfterMs !== null) {
    const ms = Math.max(0, Math.ceil(input.retryAfterMs));
    headers['retry-after'] = String(Math.max(1, Math.ceil(ms / 1000)));
    headers['retry-after-ms'] = String(ms);
  }
  return headers;
}

/** The state with the least remaining; on a tie, the one that takes longer to reset. */
function tightest(states: readonly RateState[]): RateState | undefined {
  let best: RateState | undefined;
  for (const state of states) {
    if (
      !best ||
      state.remaining < best.remaining ||
      (state.remaining === best.remaining && state.resetMs > best.resetMs)
    ) {
      best = state;
    }
  }
  return best;
}

/** 20 -> "20ms", 1000 -> "1s", 1500 -> "1.5s", 360000 -> "6m0s", 3723000 -> "1h2m3s". */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = (total % 60_000) / 1000;
  const secondsText = `${Number(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}
