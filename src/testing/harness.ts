import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig } from '../config/index.js';
import { UpstreamPools } from '../gateway/index.js';
import { openAccess } from '../governance/index.js';
import { createSqliteStore, type LedgerStore } from '../ledger/index.js';
import { PertokenMetrics } from '../metrics/index.js';
import { createPriceBook } from '../pricing/index.js';
import { createApp, type App } from '../server.js';

export interface Harness {
  url: string;
  app: App;
  store: LedgerStore;
  metrics: PertokenMetrics;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Base URL of the upstream for both wires (OpenAI at `${upstream}/v1`). */
  upstream: string;
  config?: Record<string, unknown>;
  adminToken?: string;
  /** Upstream provider id for the OpenAI wire (default openai). */
  openaiProvider?: string;
}

/** A real app on 127.0.0.1:0 over a temp SQLite ledger, wired like `pertoken serve`. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'pertoken-test-'));
  const config = parseConfig({
    upstreams: [
      { name: 'oa', kind: 'openai', provider: options.openaiProvider ?? 'openai', base_url: `${options.upstream}/v1`, api_key: 'sk-upstream-secret' },
      { name: 'an', kind: 'anthropic', base_url: options.upstream, api_key: 'sk-ant-upstream-secret' },
    ],
    ...options.config,
  });
  const store = createSqliteStore({ path: join(dir, 'ledger.sqlite') });
  await store.migrate();
  const pools = new UpstreamPools(config.upstreams);
  const metrics = new PertokenMetrics();
  const app = createApp({
    config,
    store,
    priceBook: createPriceBook({ overrides: config.prices }),
    pools,
    metrics,
    log: pino({ level: 'silent' }),
    authenticate: openAccess(),
    adminToken: options.adminToken ?? null,
  });
  const server = createServer(app.handle);
  const port = await listenEphemeral(server);
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    store,
    metrics,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await pools.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function listenEphemeral(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

export interface ReplayUpstream {
  url: string;
  /** Requests seen: method, path and headers (to check what the gateway forwarded). */
  seen: Array<{ path: string; headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

/**
 * Replays a recorded wire trace chosen per request by the `x-replay` header, byte-exact, in small
 * pieces so that stream taps see events split across chunks. SSE traces that lack their end
 * (cut fixtures) end by destroying the socket, as a dropped upstream does.
 */
export async function startReplayUpstream(load: (name: string) => Buffer): Promise<ReplayUpstream> {
  const seen: ReplayUpstream['seen'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const name = String(req.headers['x-replay'] ?? '');
      const status = Number(req.headers['x-replay-status'] ?? 200);
      const bytes = load(name);
      if (!name.endsWith('.sse')) {
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length }).end(bytes);
        return;
      }
      res.writeHead(status, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      const cut = name.includes('-cut');
      let offset = 0;
      const pump = (): void => {
        if (offset >= bytes.length) {
          if (cut) res.destroy();
          else res.end();
          return;
        }
        res.write(bytes.subarray(offset, offset + 97));
        offset += 97;
        setImmediate(pump);
      };
      pump();
    });
  });
  const port = await listenEphemeral(server);
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Reads an SSE body into its `data:` payloads. */
export function sseData(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((block) => block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n'))
    .filter((d) => d.length > 0);
}
