import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openAttribution } from '../attribution/index.js';
import { parseConfig } from '../config/index.js';
import { createCounters, type Counters } from '../counters/index.js';
import { UpstreamPools } from '../gateway/index.js';
import { Governance, openAccess, openGovernanceStore, type GovernanceStore } from '../governance/index.js';
import { createSqliteStore, type LedgerStore } from '../ledger/index.js';
import { PertokenMetrics } from '../metrics/index.js';
import { createPriceBook } from '../pricing/index.js';
import { createApp, type App } from '../server.js';

/**
 * The one whole-app test harness: a real app on 127.0.0.1:0 over a temp SQLite ledger, wired as
 * `pertoken serve` wires it — bare (open access, no governance) or, with `governance: true`, with
 * keys, budgets and rate limits over memory or Redis counters.
 */
export interface HarnessOptions {
  /** Base URL of the upstream for both wires (OpenAI at `${upstream}/v1`). */
  upstream: string;
  config?: Record<string, unknown>;
  adminToken?: string | null;
  /** Upstream provider id for the OpenAI wire (default openai). */
  openaiProvider?: string;
  /** Directory of the ledger (kept on close when given: a restart test reopens it). */
  dataDir?: string;
  now?: () => Date;
  /** Wire governance (keys, budgets, rate limits, admin API). */
  governance?: boolean;
  /** Redis URL for shared counters; memory counters without it. */
  redisUrl?: string;
  /** Isolates one test's Redis keys from another's. */
  keyPrefix?: string;
  /** Redis timeouts (an outage test wants them short). */
  commandTimeoutMs?: number;
  /** Governance SQLite file shared by replicas (stands in for the shared PostgreSQL). */
  governanceDb?: string;
  /** The app's logger (a test reading log lines passes one writing to memory); default silent. */
  log?: pino.Logger;
}

export interface Harness {
  url: string;
  /** The data directory (ledger, bench pools, run-time pools). */
  dir: string;
  app: App;
  store: LedgerStore;
  metrics: PertokenMetrics;
  close(): Promise<void>;
}

export interface GovernedHarness extends Harness {
  governance: Governance;
  governanceStore: GovernanceStore;
  counters: Counters;
}

export async function startHarness(options: HarnessOptions & { governance: true }): Promise<GovernedHarness>;
export async function startHarness(options: HarnessOptions): Promise<Harness>;
export async function startHarness(options: HarnessOptions): Promise<Harness | GovernedHarness> {
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pertoken-test-'));
  const config = parseConfig({
    upstreams: [
      {
        name: 'oa',
        kind: 'openai',
        provider: options.openaiProvider ?? 'openai',
        base_url: `${options.upstream}/v1`,
        api_key: 'sk-upstream-secret',
      },
      { name: 'an', kind: 'anthropic', base_url: options.upstream, api_key: 'sk-ant-upstream-secret' },
    ],
    ...options.config,
  });
  const log = options.log ?? pino({ level: process.env.PERTOKEN_TEST_LOG ?? 'silent' });
  const store = createSqliteStore({ path: join(dir, 'ledger.sqlite') });
  await store.migrate();
  const { priceBook, attribution } = await openAttribution(config, dir, store);
  const governed =
    options.governance === true ? await startGovernance(options, dir, config, store, priceBook, log) : null;
  const pools = new UpstreamPools(config.upstreams);
  const metrics = new PertokenMetrics();
  const app = createApp({
    config,
    store,
    priceBook,
    pools,
    metrics,
    log,
    ...(governed ? { governance: governed.governance } : { authenticate: openAccess() }),
    attribution,
    adminToken: options.adminToken ?? null,
    ...(options.now ? { now: options.now } : {}),
  });
  const server = createServer({ keepAliveTimeout: 65_000 }, app.handle);
  const port = await listenEphemeral(server);
  const harness: Harness = {
    url: `http://127.0.0.1:${port}`,
    dir,
    app,
    store,
    metrics,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await pools.close();
      await store.close();
      if (governed) await governed.close();
      if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return governed
    ? {
        ...harness,
        governance: governed.governance,
        governanceStore: governed.governanceStore,
        counters: governed.counters,
      }
    : harness;
}

type Built = Pick<GovernedHarness, 'governance' | 'governanceStore' | 'counters'> & { close(): Promise<void> };

async function startGovernance(
  options: HarnessOptions,
  dir: string,
  config: ReturnType<typeof parseConfig>,
  store: LedgerStore,
  priceBook: ReturnType<typeof createPriceBook>,
  log: pino.Logger,
): Promise<Built> {
  const governanceStore = openGovernanceStore({ sqlitePath: options.governanceDb ?? join(dir, 'governance.sqlite') });
  await governanceStore.migrate();
  const timeouts = options.commandTimeoutMs
    ? { commandTimeoutMs: options.commandTimeoutMs, connectTimeoutMs: options.commandTimeoutMs }
    : {};
  const counters = createCounters(
    options.redisUrl
      ? { redisUrl: options.redisUrl, keyPrefix: options.keyPrefix ?? 'pertoken-test:', ...timeouts }
      : {},
  );
  const governance = new Governance({
    config,
    store: governanceStore,
    counters,
    priceBook,
    ledgerCosts: (q) => store.queryCosts(q),
    log,
    ...(options.now ? { now: options.now } : {}),
  });
  await governance.start();
  return {
    governance,
    governanceStore,
    counters,
    async close() {
      await governance.close();
      await counters.close();
      await governanceStore.close();
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
    .map((block) =>
      block
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n'),
    )
    .filter((d) => d.length > 0);
}
