/**
 * One Admin API page over HTTP (undici `request`, with headers and body timeouts), aware of rate
 * limits: a 429 or a 5xx is retried after its `retry-after` (seconds or an HTTP date), else after
 * an exponential backoff, a bounded number of times. A 401/403 is the key's fault and is never
 * retried: it fails at once, naming the config field that holds the key.
 */
import { request } from 'undici';
import { invalidInput, PertokenError } from '../../errors.js';

export type Sleep = (ms: number) => Promise<void>;

export interface PageRequest {
  url: string;
  headers: Record<string, string>;
  /** The config field of the key (`billing_accounts[0].admin_key`), named when it is refused. */
  keyParam: string;
}

export interface RetryPolicy {
  /** Retries after the first attempt; default 5. */
  maxRetries: number;
  /** First backoff without a retry-after; doubled each time; default 1000. */
  backoffMs: number;
  /** No single wait is longer, whatever retry-after asks; default 120000. */
  maxWaitMs: number;
  timeoutMs: number;
  maxBytes: number;
  sleep: Sleep;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = {
  maxRetries: 5,
  backoffMs: 1000,
  maxWaitMs: 120_000,
  timeoutMs: 60_000,
  maxBytes: 64 * 1024 * 1024,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A page's text and how many retries it took. */
export async function getPage(page: PageRequest, policy: RetryPolicy): Promise<{ text: string; retries: number }> {
  for (let attempt = 0; ; attempt++) {
    const res = await request(page.url, {
      method: 'GET',
      headers: page.headers,
      headersTimeout: policy.timeoutMs,
      bodyTimeout: policy.timeoutMs,
    }).catch((err: unknown) => {
      throw new PertokenError('upstream_unreachable', `${hostOf(page.url)}: ${(err as Error).message}`, { cause: err });
    });
    const text = await readCapped(res.body, policy.maxBytes, page.url);
    if (res.statusCode >= 200 && res.statusCode < 300) return { text, retries: attempt };
    if (res.statusCode === 401 || res.statusCode === 403)
      throw invalidInput(
        page.keyParam,
        `${hostOf(page.url)} refused the admin key (HTTP ${res.statusCode}): ${errorMessage(text)}`,
        'config_invalid',
      );
    const retryable = res.statusCode === 429 || res.statusCode >= 500;
    if (!retryable || attempt >= policy.maxRetries)
      throw new PertokenError(
        res.statusCode === 429 ? 'rate_limited' : 'upstream_error',
        `${hostOf(page.url)} answered HTTP ${res.statusCode}${retryable ? ` after ${attempt + 1} attempts` : ''}: ${errorMessage(text)}`,
      );
    const asked = retryAfterMs(res.headers['retry-after']);
    await policy.sleep(Math.min(asked ?? policy.backoffMs * 2 ** attempt, policy.maxWaitMs));
  }
}

/** `retry-after` as seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now: number = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return null;
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Math.ceil(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

async function readCapped(body: AsyncIterable<unknown>, maxBytes: number, url: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    size += buf.length;
    // Leaving the loop by throwing destroys the body (and its connection).
    if (size > maxBytes) throw new PertokenError('upstream_error', `${hostOf(url)}: a page over ${maxBytes} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The provider's own error message when its body has one (both wires nest it in `error.message`). */
function errorMessage(text: string): string {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } } | null)?.error?.message;
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: the start of the body says enough.
  }
  return text.slice(0, 200);
}

function hostOf(url: string): string {
  return new URL(url).host;
}
