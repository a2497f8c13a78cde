import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { parseConfig } from '../../config/index.js';
import { createCounters, type Counters } from '../../counters/index.js';
import { UpstreamPools } from '../../gateway/index.js';
import { createSqliteStore, type LedgerStore } from '../../ledger/index.js';
import { PertokenMetrics } from '../../metrics/index.js';
import { createPriceBook } from '../../pricing/index.js';
import { createApp } from '../../server.js';
import { canReach } from '../../testing/net.js';
import { openGovernanceStore } from '../open.js';
import { Governance } from '../service.js';
import type { GovernanceStore } from '../store.js';

export const ADMIN = 'test-admin-token';

export interface GovAppOptions {
  /** Base URL of the upstream for both wires (OpenAI at `${upstream}/v1`). */
  upstream: string;
  config?: Record<string, unknown>;
  /** Redis URL for shared counters; memory counters without it. */
  redisUrl?: string;
  /** Isolates one test's Redis keys from another's. */
  keyPrefix?: string;
  /** Redis timeouts (an outage test wants them short). */
  commandTimeoutMs?: number;
  /** Governance SQLite file shared by replicas (stands in for the shared PostgreSQL). */
  governanceDb?: string;
  /** Directory of the ledger (kept on close when given: a restart test reopens it). */
  dataDir?: string;
  adminToken?: string | null;
  now?: () => Date;
}

export interface GovApp {
  url: string;
  ledger: LedgerStore;
  governance: Governance;
  governanceStore: GovernanceStore;
  counters: Counters;
  close(): Promise<void>;
}

/** A real app over a temp SQLite ledger, with governance wired as `pertoken serve` wires it. */
export async function startGovApp(options: GovAppOptions): Promise<GovApp> {
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pertoken-gov-'));
  const config = parseConfig({
    upstreams: [
      { name: 'oa', kind: 'openai', provider: 'openai', base_url: `${options.upstream}/v1`, api_key: 'sk-upstream' },
      { name: 'an', kind: 'anthropic', base_url: options.upstream, api_key: 'sk-ant-upstream' },
    ],
    ...options.config,
  });
  const log = pino({ level: process.env.PERTOKEN_TEST_LOG ?? 'silent' });
  const ledger = createSqliteStore({ path: join(dir, 'ledger.sqlite') });
  await ledger.migrate();
  const governanceStore = openGovernanceStore({ sqlitePath: options.governanceDb ?? join(dir, 'governance.sqlite') });
  await governanceStore.migrate();
  const counters = createCounters(
    options.redisUrl
      ? { redisUrl: options.redisUrl, keyPrefix: options.keyPrefix ?? 'pertoken-test:', ...(options.commandTimeoutMs ? { commandTimeoutMs: options.commandTimeoutMs, connectTimeoutMs: options.commandTimeoutMs } : {}) }
      : {},
  );
  const priceBook = createPriceBook({ overrides: config.prices });
  const governance = new Governance({ config, store: governanceStore, counters, priceBook, ledgerCosts: (q) => ledger.queryCosts(q), log, ...(options.now ? { now: options.now } : {}) });
  await governance.start();
  const pools = new UpstreamPools(config.upstreams);
  const app = createApp({ config, store: ledger, priceBook, pools, metrics: new PertokenMetrics(), log, governance, adminToken: options.adminToken === undefined ? ADMIN : options.adminToken });
  const server = createServer({ keepAliveTimeout: 65_000 }, app.handle);
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    ledger,
    governance,
    governanceStore,
    counters,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await pools.close();
      await ledger.close();
      await governance.close();
      await counters.close();
      await governanceStore.close();
      if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

export function uniquePrefix(): string {
  return `pertoken-test-${randomBytes(6).toString('hex')}:`;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

/** One JSON call; `token` null sends no credentials. */
export async function call(base: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, token: string | null = ADMIN, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await request(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  const json = text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text };
  return { status: res.statusCode, headers: res.headers, json };
}

/** A small chat call through the gateway. */
export function chat(base: string, key: string | null, model = 'gpt-4o-mini', extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Reply> {
  return call(base, 'POST', '/v1/chat/completions', { model, max_tokens: 16, messages: [{ role: 'user', content: 'Say hello' }], ...extra }, key, headers);
}

/** Polls `check` until it returns true or the deadline passes; returns whether it did. */
export async function eventually(check: () => Promise<boolean>, deadlineMs: number, stepMs = 20): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

/** Whether Redis answers at 127.0.0.1:6379 (CI must have it; elsewhere its tests are skipped visibly). */
export function redisAvailable(url = 'redis://127.0.0.1:6379'): Promise<boolean> {
  return canReach(url, 500);
}
