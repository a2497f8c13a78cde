import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { parseConfig } from '../../config/index.js';
import { seededRandom } from '../../random.js';
import { startPertoken, type RunningServer } from '../../server.js';

/**
 * A served pertoken with a ledger worth looking at, built only through its HTTP surface, as an
 * operator would fill one: three tenants over six weeks of ingested events (four models, one of
 * them unpriced), gateway calls through the demo upstream (latency, TTFT, raw usage, estimated
 * usage and errors), budgets, a `read` key per tenant, a GPU pool, a plan, a shared cost, and one
 * alert evaluation. Times are relative to now, so month-to-date and "today" always have data.
 */
export const ADMIN_TOKEN = 'dashboard-admin-token-0123456789';

export interface DashboardFixture {
  url: string;
  server: RunningServer;
  /** `read` (and chat) keys by tenant. */
  readKeys: Record<string, string>;
  /** GET a JSON document of the API with the admin token (or another credential). */
  api<T>(path: string, token?: string): Promise<T>;
  /** POST or DELETE with the admin token; throws on a non-2xx answer. */
  post(path: string, body: unknown): Promise<unknown>;
  delete(path: string): Promise<unknown>;
  close(): Promise<void>;
}

const HOUR = 3_600_000;
const TENANTS = [
  { id: 'acme', projects: ['search', 'support'], features: ['answer', 'summarize', 'classify'], weight: 5 },
  { id: 'beta', projects: ['analytics'], features: ['report', 'chat'], weight: 3 },
  { id: 'gamma', projects: ['labs'], features: ['agent'], weight: 1 },
];
const MODELS = [
  { provider: 'openai', model: 'gpt-4o', input: 2200, output: 450, weight: 2 },
  { provider: 'openai', model: 'gpt-4o-mini', input: 3000, output: 600, weight: 5 },
  { provider: 'anthropic', model: 'claude-sonnet-4-5', input: 4000, output: 700, weight: 2 },
  // No price in the book: counted as unpriced, never $0.
  { provider: 'openai', model: 'ft:gpt-house-model', input: 800, output: 200, weight: 0.3 },
];

export async function startDashboardFixture(options: { empty?: boolean } = {}): Promise<DashboardFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'pertoken-dashboard-'));
  const now = Date.now();
  const month = new Date(now).toISOString().slice(0, 7);
  const config = parseConfig({
    demo: { ttft_ms: 1, itl_ms: 0 },
    ...(options.empty ? {} : costSources(now, month)),
  });
  const server = await startPertoken({
    config,
    env: { PERTOKEN_ADMIN_TOKEN: ADMIN_TOKEN },
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    demo: true,
    log: pino({ level: process.env.PERTOKEN_TEST_LOG ?? 'silent' }),
  });
  const send = async (
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    token = ADMIN_TOKEN,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: unknown }> => {
    const res = await request(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    return { status: res.statusCode, json: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
  };
  const must = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> => {
    const { status, json } = await send(method, path, body);
    if (status >= 300) throw new Error(`${method} ${path} -> ${status}: ${JSON.stringify(json)}`);
    return json;
  };

  const readKeys: Record<string, string> = {};
  if (!options.empty) {
    // Gateway traffic first: it is open (no key yet), the headers attribute it.
    for (const [i, t] of TENANTS.entries()) {
      for (const model of ['gpt-4o-mini', 'claude-sonnet-4-5', 'llama-3.1-8b']) {
        const path = model.startsWith('claude') ? '/v1/messages' : '/v1/chat/completions';
        const headers = {
          'x-pertoken-tenant': t.id,
          'x-pertoken-project': t.projects[0] as string,
          'x-pertoken-feature': t.features[0] as string,
          'anthropic-version': '2023-06-01',
          ...(i === 1 && model === 'gpt-4o-mini' ? { 'x-demo-fault': 'no-usage' } : {}),
        };
        const body = { model, max_tokens: 40, messages: [{ role: 'user', content: `Summarise item ${i}.` }] };
        await send('POST', path, body, 'sk-demo', headers);
      }
    }
    await send('POST', '/v1/chat/completions', { model: 'gpt-4o', messages: [] }, 'sk-demo', {
      'x-pertoken-tenant': 'beta',
      'x-demo-fault': 'status:500',
    });
    const events = ingestedEvents(now);
    for (let i = 0; i < events.length; i += 5000) await must('POST', '/v1/usage/events', events.slice(i, i + 5000));
    for (const t of TENANTS) {
      await must('POST', '/api/v1/admin/tenants', { id: t.id, name: t.id.toUpperCase() });
      for (const p of t.projects) await must('POST', '/api/v1/admin/projects', { id: p, tenant: t.id });
      const key = (await must('POST', '/api/v1/admin/keys', {
        tenant: t.id,
        name: `${t.id} dashboard`,
        scopes: ['chat', 'read'],
      })) as { key: string };
      readKeys[t.id] = key.key;
    }
    await must('POST', '/api/v1/admin/budgets', {
      id: 'acme-month',
      scope: { tenant: 'acme' },
      period: 'month',
      limit_usd: '40.00',
      action: 'alert_only',
    });
    await must('POST', '/api/v1/admin/budgets', {
      id: 'beta-day',
      scope: { tenant: 'beta' },
      period: 'day',
      limit_usd: '2.00',
      action: 'alert_only',
    });
    await must('POST', '/api/v1/admin/budgets', {
      id: 'gamma-total',
      scope: { tenant: 'gamma' },
      period: 'total',
      limit_usd: '5.00',
      action: 'alert_only',
    });
    // A token allowance alone, on one model family: no USD limit to burn against.
    await must('POST', '/api/v1/admin/budgets', {
      id: 'acme-sonnet-tokens',
      scope: { tenant: 'acme', model: 'claude-sonnet-4-5' },
      period: 'month',
      limit_tokens: 50_000_000,
      action: 'alert_only',
    });
    await importBill(send, now);
    await must('POST', '/api/v1/admin/alerts/evaluate', { at: new Date(now).toISOString() });
  }

  return {
    url: server.url,
    server,
    readKeys,
    async api<T>(path: string, token = ADMIN_TOKEN): Promise<T> {
      const { status, json } = await send('GET', path, undefined, token);
      if (status !== 200) throw new Error(`GET ${path} -> ${status}: ${JSON.stringify(json)}`);
      return json as T;
    },
    post: (path, body) => must('POST', path, body),
    delete: (path) => must('DELETE', path),
    async close() {
      await server.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Six weeks of events every ~40 minutes, office hours heavier, beta spiking in the last two hours. */
function ingestedEvents(now: number): Array<Record<string, unknown>> {
  const random = seededRandom(14);
  const pick = <T extends { weight: number }>(list: readonly T[]): T => {
    const total = list.reduce((s, x) => s + x.weight, 0);
    let r = random() * total;
    for (const x of list) if ((r -= x.weight) < 0) return x;
    return list[list.length - 1] as T;
  };
  const events: Array<Record<string, unknown>> = [];
  const start = now - 42 * 24 * HOUR;
  for (let t = start, i = 0; t < now - 60_000; t += 40 * 60_000 * (0.5 + random()), i++) {
    const hour = new Date(t).getUTCHours();
    const burst = hour >= 8 && hour < 18 ? 3 : 1;
    const spike = now - t < 2 * HOUR ? 30 : 1;
    for (let j = 0; j < burst; j++) {
      const tenant = spike > 1 && j === 0 ? (TENANTS[1] as (typeof TENANTS)[number]) : pick(TENANTS);
      for (let k = 0; k < (tenant.id === 'beta' ? spike : 1); k++) {
        const model = k > 0 ? (MODELS[2] as (typeof MODELS)[number]) : pick(MODELS);
        const scale = k > 0 ? 3 : 0.4 + random() * 1.6;
        events.push({
          id: `seed-${i}-${j}-${k}`,
          time: new Date(t + j * 1000 + k).toISOString(),
          source: 'batch-import',
          tenant: tenant.id,
          project: tenant.projects[Math.floor(random() * tenant.projects.length)],
          feature: tenant.features[Math.floor(random() * tenant.features.length)],
          user: `user-${1 + Math.floor(random() * 12)}`,
          provider: model.provider,
          model: model.model,
          tokens: {
            input: Math.round(model.input * scale),
            output: Math.round(model.output * scale),
            ...(random() < 0.3 ? { cache_read: Math.round(model.input * scale * 0.5) } : {}),
          },
          latency_ms: Math.round(400 + random() * 3000),
          ttft_ms: Math.round(120 + random() * 700),
          status: random() < 0.03 ? 'error' : 'ok',
          tags: { env: random() < 0.8 ? 'prod' : 'staging' },
        });
      }
    }
  }
  return events;
}

/** A GPU pool since two days ago, a shared cost, a plan, and billing accounts for the bill import. */
function costSources(now: number, month: string): Record<string, unknown> {
  const poolFrom = new Date(now - 2 * 24 * HOUR).toISOString().slice(0, 10);
  return {
    gpu_pools: [
      {
        name: 'h100-east',
        gpu: 'h100-sxm',
        gpus: 1,
        rates: [{ from: poolFrom, usd_per_gpu_hour: '2.99', pricing: 'reserved' }],
        serves: ['demo-vllm'],
        capacity: { output_tokens_per_s: 5000, input_tokens_per_s: 20000 },
        idle: 'line',
        metrics: { urls: ['http://127.0.0.1:9/metrics'], interval_ms: 60_000, timeout_ms: 1000 },
      },
    ],
    shared_costs: [{ name: 'observability', usd: 40, from: `${month}-01`, allocate: 'by_cost' }],
    billing_accounts: TENANTS.flatMap((t) =>
      t.projects.map((p) => ({ provider: 'openai', project_id: billingProject(t.id, p), tenant: t.id, project: p })),
    ),
    plans: [{ tenant: 'acme', markup_pct: 20 }],
  };
}

function billingProject(tenant: string, project: string): string {
  return `proj_${tenant}_${project}`.padEnd(26, '0');
}

type Send = (
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  token?: string,
  headers?: Record<string, string>,
) => Promise<{ status: number; json: unknown }>;

/** OpenAI list prices (USD per 1M) of the billed line items, as OpenAI's costs export writes them. */
const OPENAI_LINES: Record<string, { item: string; rates: Record<string, number> }> = {
  'gpt-4o': { item: 'gpt-4o-2024-08-06', rates: { input: 2.5, cache_read: 1.25, output: 10 } },
  'gpt-4o-mini': { item: 'gpt-4o-mini', rates: { input: 0.15, cache_read: 0.075, output: 0.6 } },
};
const LINE_NAME: Record<string, string> = { input: 'input', cache_read: 'cached input', output: 'output' };

/**
 * OpenAI's costs export for the three last full UTC days, built from what was metered: every line
 * matches but one, billed 7% over (an unexplained gap for the reconciliation view to show).
 */
async function importBill(send: Send, now: number): Promise<void> {
  const today = Math.floor(now / (24 * HOUR)) * 24 * HOUR;
  const from = new Date(today - 3 * 24 * HOUR).toISOString();
  const to = new Date(today).toISOString();
  const { json } = await send(
    'GET',
    `/api/v1/costs?from=${from}&to=${to}&group_by=day,tenant,project,model&filter%5Bprovider%5D=openai`,
  );
  const rows = (json as { rows: Array<Record<string, unknown> & { tokens: Record<string, number> }> }).rows;
  const byDay = new Map<string, Array<Record<string, unknown>>>();
  let bumped = false;
  for (const row of rows) {
    const line = OPENAI_LINES[String(row.model)];
    if (!line) continue;
    const results = byDay.get(String(row.day)) ?? [];
    for (const [bucket, rate] of Object.entries(line.rates)) {
      const tokens = row.tokens[bucket] ?? 0;
      if (tokens === 0) continue;
      let amount = (tokens * rate) / 1e6;
      if (!bumped && bucket === 'output' && row.model === 'gpt-4o') {
        amount *= 1.07;
        bumped = true;
      }
      results.push({
        object: 'organization.costs.result',
        amount: { value: Number(amount.toFixed(6)), currency: 'usd' },
        line_item: `${line.item}, ${LINE_NAME[bucket]}`,
        project_id: billingProject(String(row.tenant), String(row.project)),
        api_key_id: null,
        quantity: tokens,
        quantity_unit: 'tokens',
      });
    }
    byDay.set(String(row.day), results);
  }
  const page = {
    object: 'page',
    data: [...byDay.entries()].map(([day, results]) => {
      const start = Date.parse(`${day}T00:00:00Z`) / 1000;
      return { object: 'bucket', start_time: start, end_time: start + 86_400, results };
    }),
    has_more: false,
    next_page: null,
  };
  const { status, json: reply } = await send('POST', '/api/v1/admin/billing/imports?format=openai-costs', page);
  if (status !== 200) throw new Error(`billing import -> ${status}: ${JSON.stringify(reply)}`);
}
