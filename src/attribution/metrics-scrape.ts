/**
 * The HTTP side of pool telemetry: one bounded GET of a metrics endpoint with undici. The caller's
 * signal bounds the whole exchange; undici's headers and body timeouts back it up.
 */
import { request, type Dispatcher } from 'undici';
import { PertokenError } from '../errors.js';

export interface ScrapeRequest {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Aborted at the deadline or when telemetry stops; a fetch must settle promptly when it fires. */
  readonly signal: AbortSignal;
}

/** GETs a metrics endpoint and resolves with its text; rejects on anything but a 2xx answer. */
export type ScrapeFetch = (url: string, request: ScrapeRequest) => Promise<string>;

/**
 * The default fetch: undici's request with its headers and body timeouts at the deadline (the
 * caller's signal bounds the whole exchange), reading at most `maxBytes`.
 */
export const undiciScrape: ScrapeFetch = async (url, options) => {
  try {
    return await fetchText(url, options);
  } catch (err) {
    // undici's own timers race the deadline's: either way the scrape ran out of time.
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') throw timeoutError(options.timeoutMs);
    throw err;
  }
};

/** The one message of a scrape that ran out of time, whichever timer noticed. */
export function timeoutError(timeoutMs: number): PertokenError {
  return new PertokenError('upstream_timeout', `no complete answer within ${timeoutMs} ms`);
}

async function fetchText(url: string, { timeoutMs, maxBytes, signal }: ScrapeRequest): Promise<string> {
  const res = await request(url, {
    method: 'GET',
    headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal,
  });
  if (res.statusCode < 200 || res.statusCode >= 300) {
    await discard(res.body);
    throw new PertokenError('upstream_error', `HTTP ${res.statusCode} from the metrics endpoint`);
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await discard(res.body);
    throw new PertokenError('upstream_error', `metrics answer of ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    const buf = chunk as Buffer;
    size += buf.length;
    // Leaving the loop by throwing destroys the body (and its connection).
    if (size > maxBytes) throw new PertokenError('upstream_error', `metrics answer over the ${maxBytes}-byte limit`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads up to 64 KiB of an unwanted body (so a small one keeps its connection), then drops the rest. */
async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  await body.dump({ limit: 64 * 1024 }).catch(() => undefined);
}
