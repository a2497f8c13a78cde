import type { IncomingHttpHeaders } from 'node:http';
import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import type { UpstreamConfig } from '../config/index.js';
import { PertokenError } from '../errors.js';

/** RFC 9110 §7.6.1 hop-by-hop headers plus the ones a proxy must recompute. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  // An expectation is met by the hop that receives it: Node's server already answered
  // 100 Continue to the client, and undici refuses the header (UND_ERR_NOT_SUPPORTED).
  'expect',
]);

/** Caller credentials and identity never travel upstream; pertoken's own headers stay here. */
const CALLER_ONLY = new Set([
  'authorization',
  'x-api-key',
  'cookie',
  'openai-organization',
  'openai-project',
  'accept-encoding',
]);

export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  upstream: UpstreamConfig,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || CALLER_ONLY.has(name) || name.startsWith('x-pertoken-'))
      continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  // Usage must be readable from the bytes: ask for an uncompressed body.
  out['accept-encoding'] = 'identity';
  out['content-type'] = 'application/json';
  Object.assign(out, upstream.headers);
  if (upstream.api_key) {
    if (upstream.kind === 'anthropic') out['x-api-key'] = upstream.api_key;
    else out.authorization = `Bearer ${upstream.api_key}`;
  }
  if (upstream.kind === 'anthropic' && !out['anthropic-version']) out['anthropic-version'] = '2023-06-01';
  return out;
}

const RESPONSE_DROP = new Set([...HOP_BY_HOP, 'set-cookie', 'content-encoding']);

export function clientResponseHeaders(
  upstreamHeaders: Dispatcher.ResponseData['headers'],
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstreamHeaders)) {
    if (value === undefined || RESPONSE_DROP.has(name.toLowerCase())) continue;
    out[name] = value;
  }
  return out;
}

export interface UpstreamTarget {
  config: UpstreamConfig;
  pool: Pool;
  /** Path prefix of base_url (e.g. `/v1` for api.openai.com/v1). */
  basePath: string;
}

/** One keep-alive undici pool per upstream, created at wiring time and closed on shutdown. */
export class UpstreamPools {
  readonly #targets = new Map<string, UpstreamTarget>();

  constructor(upstreams: readonly UpstreamConfig[]) {
    for (const config of upstreams) {
      const url = new URL(config.base_url);
      const pool = new Pool(url.origin, {
        connections: config.connections,
        connectTimeout: config.timeouts.connect_ms,
        headersTimeout: config.timeouts.first_byte_ms,
        bodyTimeout: config.timeouts.idle_ms,
        keepAliveTimeout: 30_000,
      });
      this.#targets.set(config.name, { config, pool, basePath: url.pathname.replace(/\/+$/, '') });
    }
  }

  get(name: string): UpstreamTarget {
    const target = this.#targets.get(name);
    if (!target) throw new PertokenError('internal', `upstream ${name} is not wired`);
    return target;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#targets.values()].map((t) => t.pool.close()));
  }
}

/**
 * Errors where the request never reached the provider: nothing can have been billed. Besides
 * failed connections, undici validates a request before writing a byte of it (a header it does
 * not support, an invalid argument): such a call never left this process.
 */
export function neverReachedUpstream(err: unknown): boolean {
  if (err instanceof undiciErrors.ConnectTimeoutError) return true;
  if (err instanceof undiciErrors.NotSupportedError || err instanceof undiciErrors.InvalidArgumentError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH';
}

/** Maps a transport failure before response headers to the error the caller sees. */
export function upstreamFailure(err: unknown, upstream: string): PertokenError {
  if (err instanceof PertokenError) return err;
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
    return new PertokenError('upstream_timeout', `upstream ${upstream} timed out`, { cause: err });
  }
  const detail = (err as { code?: unknown } | null)?.code ?? (err instanceof Error ? err.message : 'unknown error');
  return new PertokenError('upstream_unreachable', `upstream ${upstream} failed: ${String(detail)}`, { cause: err });
}
