import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../attribution/prometheus-text.js';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import type { UsageEvent } from '../ledger/index.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call, chat, redisAvailable, uniquePrefix, type Reply } from '../testing/http.js';
import { memoryLog, type MemoryLog } from '../testing/log.js';
import { startTcpProxy, type TcpProxy } from '../testing/tcp-proxy.js';

/**
 * Refused demand through the real app: every refusal is counted, logged once (never a payload,
 * never a key) and, when the caller is known, recorded as a `refused` event that reports show
 * apart from requests and spend. A 401 is counted and logged, never recorded.
 */
let demo: DemoUpstream;
let gw: GovernedHarness;
let logs: MemoryLog;
const keys: Record<string, { id: string; key: string }> = {};

const post = (path: string, body: unknown) => call(gw.url, 'POST', path, body);
const idOf = (reply: Reply): string => String(reply.headers['x-pertoken-request-id']);
const PROMPT = 'Say hello';

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 17 });
  logs = memoryLog();
  gw = await startHarness({ governance: true, adminToken: ADMIN, upstream: demo.url, log: logs.log });
  for (const tenant of [{ id: 'broke' }, { id: 'limited', rpm: 1 }, { id: 'acme' }])
    expect((await post('/api/v1/admin/tenants', tenant)).status).toBe(201);
  await post('/api/v1/admin/projects', { id: 'web', tenant: 'acme' });
  expect(
    (
      await post('/api/v1/admin/budgets', {
        id: 'broke-day',
        scope: { tenant: 'broke' },
        period: 'day',
        limit_usd: '0.000001',
      })
    ).status,
  ).toBe(201);
  for (const [name, body] of Object.entries({
    broke: { tenant: 'broke' },
    limited: { tenant: 'limited' },
    reader: { tenant: 'acme', project: 'web', scopes: ['read'] },
    narrow: { tenant: 'acme', project: 'web', scopes: ['chat'], models: ['gpt-4o'] },
  })) {
    const reply = await post('/api/v1/admin/keys', body);
    expect(reply.status).toBe(201);
    keys[name] = reply.json as { id: string; key: string };
  }
});
afterAll(async () => {
  await gw.close();
  await demo.close();
});

async function allEvents(): Promise<UsageEvent[]> {
  await gw.store.flush();
  return (await gw.store.listEvents({ filter: {}, limit: 1000 })).events;
}

async function metric(name: string): Promise<Record<string, number>> {
  const samples = parseExposition((await gw.metrics.exposition()).body).samples.get(name) ?? [];
  const out: Record<string, number> = {};
  for (const s of samples) {
    const key = name === 'pertoken_requests_refused_total' ? `${s.labels.reason}/${s.labels.status}` : 'all';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

describe('refused calls', () => {
  const replies: Record<string, Reply> = {};

  beforeAll(async () => {
    replies.noKey = await chat(gw.url, null);
    replies.badKey = await chat(gw.url, `pt-${keys.broke!.id}-${'A'.repeat(43)}`);
    replies.budget = await chat(gw.url, keys.broke!.key);
    replies.first = await chat(gw.url, keys.limited!.key);
    replies.rate = await chat(gw.url, keys.limited!.key);
    replies.scope = await chat(gw.url, keys.reader!.key, 'gpt-4o-mini', {}, { 'x-pertoken-feature': 'search' });
    replies.model = await chat(gw.url, keys.narrow!.key, 'gpt-4o-mini');
  });

  it('answer their status', () => {
    expect(Object.fromEntries(Object.entries(replies).map(([k, r]) => [k, r.status]))).toEqual({
      noKey: 401,
      badKey: 401,
      budget: 402,
      first: 200,
      rate: 429,
      scope: 403,
      model: 403,
    });
    expect(replies.rate!.headers['retry-after']).toBeDefined();
  });

  it('are recorded as refused events of the caller: zero buckets, a known zero cost, the code on record', async () => {
    const budget = await gw.store.getEvent(idOf(replies.budget!));
    expect(budget).toMatchObject({
      status: 'refused',
      http_status: 402,
      tenant: 'broke',
      key_id: keys.broke!.id,
      requested_model: 'gpt-4o-mini',
      model: 'gpt-4o-mini',
      route: 'openai.chat',
      buckets: {},
      cost_nano: 0n,
      usage_source: 'provider',
      price_ref: 'not-billed',
      raw_usage: null,
    });
    expect(budget?.usage_issues[0]).toMatch(/^refused: budget_exceeded: /);
    expect(await gw.store.getEvent(idOf(replies.rate!))).toMatchObject({
      status: 'refused',
      http_status: 429,
      tenant: 'limited',
      usage_issues: [expect.stringMatching(/^refused: rate_limited/)],
    });
    expect(await gw.store.getEvent(idOf(replies.scope!))).toMatchObject({
      status: 'refused',
      http_status: 403,
      tenant: 'acme',
      project: 'web',
      feature: 'search',
      key_id: keys.reader!.id,
      usage_issues: [expect.stringMatching(/^refused: forbidden: .*"chat" scope/)],
    });
    expect(await gw.store.getEvent(idOf(replies.model!))).toMatchObject({ status: 'refused', http_status: 403 });
  });

  it('a 401 is never recorded: no tenant to attribute, and a flood must not write to the ledger', async () => {
    expect(await gw.store.getEvent(idOf(replies.noKey!))).toBeNull();
    expect(await gw.store.getEvent(idOf(replies.badKey!))).toBeNull();
    const events = await allEvents();
    expect(events.map((e) => e.status).sort()).toEqual(['ok', 'refused', 'refused', 'refused', 'refused']);
  });

  it('reports count them as refused_requests, never as requests or spend', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const reply = await call(gw.url, 'GET', `/api/v1/costs?from=${from}&to=${to}&group_by=tenant`);
    expect(reply.status).toBe(200);
    const rows = reply.json.rows as Array<Record<string, unknown>>;
    const byTenant = Object.fromEntries(
      rows.map((r) => [r.tenant, [r.requests, r.refused_requests, r.cost_usd, r.unpriced_requests]]),
    );
    expect(byTenant.broke).toEqual([0, 1, '0.000000000', 0]);
    expect(byTenant.acme).toEqual([0, 2, '0.000000000', 0]);
    expect((byTenant.limited as unknown[]).slice(0, 2)).toEqual([1, 1]);
    expect(reply.json.totals).toMatchObject({ requests: 1, refused_requests: 4, unpriced_requests: 0 });
    // The metrics of calls and spend see the one call that went upstream.
    expect(await metric('pertoken_requests_total')).toEqual({ all: 1 });
    // A chargeback has no line for a tenant that was only refused.
    const month = new Date().toISOString().slice(0, 7);
    const chargeback = await call(gw.url, 'GET', `/api/v1/chargeback?period=${month}`);
    expect(chargeback.status).toBe(200);
    expect((chargeback.json.tenants as Array<{ tenant: string }>).map((t) => t.tenant)).toEqual(['limited']);
  });

  it('are counted as pertoken_requests_refused_total{reason,status}', async () => {
    expect(await metric('pertoken_requests_refused_total')).toEqual({
      'unauthorized/401': 2,
      'budget_exceeded/402': 1,
      'rate_limited/429': 1,
      'forbidden/403': 2,
    });
  });

  it('each gets one structured log line with its request id, and no payload or secret', () => {
    const lines = logs.lines().filter((l) => l.msg === 'request refused');
    const refused = Object.entries(replies).filter(([, r]) => r.status !== 200);
    expect(lines).toHaveLength(refused.length);
    for (const [name, reply] of refused) {
      const line = lines.find((l) => l.request_id === idOf(reply));
      expect(line, name).toMatchObject({
        level: 30, // info: policy working as configured
        route: 'openai.chat',
        model: 'gpt-4o-mini',
        // Authentication comes before routing: a 401 names no upstream.
        upstream: reply.status === 401 ? null : 'oa',
        status: reply.status,
        code: (reply.json.error as { code: string }).code,
      });
      expect(typeof line?.latency_ms).toBe('number');
      expect(typeof line?.reason).toBe('string');
    }
    const budget = lines.find((l) => l.request_id === idOf(replies.budget!));
    expect(budget).toMatchObject({ tenant: 'broke', key_id: keys.broke!.id });
    // An unauthenticated caller has no tenant or key to name.
    expect(lines.find((l) => l.request_id === idOf(replies.noKey!))).toMatchObject({ tenant: null, key_id: null });
    const text = logs.text();
    for (const { key } of Object.values(keys)) expect(text).not.toContain(key);
    expect(text).not.toContain(PROMPT);
    // No request object, no headers: the line's fields are chosen, not dumped.
    expect(text).not.toMatch(/"(req|headers|body|messages)"/);
  });
});

const REDIS = process.env.PERTOKEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisUp = await redisAvailable(REDIS);
if (!redisUp && process.env.CI === 'true') throw new Error(`Redis is required under CI at ${REDIS}`);

describe.skipIf(!redisUp)('a fail-closed refusal while the counters are down (needs Redis)', () => {
  let proxy: TcpProxy;
  let closed: GovernedHarness;
  let closedLogs: MemoryLog;

  beforeAll(async () => {
    proxy = await startTcpProxy(REDIS);
    closedLogs = memoryLog();
    closed = await startHarness({
      governance: true,
      adminToken: ADMIN,
      upstream: demo.url,
      redisUrl: proxy.url,
      keyPrefix: uniquePrefix(),
      commandTimeoutMs: 300,
      log: closedLogs.log,
    });
    expect((await call(closed.url, 'POST', '/api/v1/admin/tenants', { id: 'closed-co' })).status).toBe(201);
    const budget = {
      id: 'closed-b',
      scope: { tenant: 'closed-co' },
      period: 'month',
      limit_usd: '5',
      fail_mode: 'closed',
    };
    expect((await call(closed.url, 'POST', '/api/v1/admin/budgets', budget)).status).toBe(201);
  });
  afterAll(async () => {
    await closed?.close();
    await proxy?.close();
  });

  it('is a 503 recorded as refused demand and logged at warn (an outage of ours)', async () => {
    await proxy.setMode('refuse');
    const reply = await chat(closed.url, 'sk-x', 'gpt-4o-mini', {}, { 'x-pertoken-tenant': 'closed-co' });
    await proxy.setMode('forward');
    expect(reply.status).toBe(503);
    expect(await closed.store.getEvent(idOf(reply))).toMatchObject({
      status: 'refused',
      http_status: 503,
      tenant: 'closed-co',
      cost_nano: 0n,
      usage_issues: [expect.stringMatching(/^refused: counters_unavailable/)],
    });
    const line = closedLogs.lines().find((l) => l.request_id === idOf(reply));
    expect(line).toMatchObject({ level: 40, msg: 'request refused', status: 503, code: 'counters_unavailable' });
    const refusedTotal = parseExposition((await closed.metrics.exposition()).body).samples.get(
      'pertoken_requests_refused_total',
    );
    expect(refusedTotal?.map((s) => [s.labels.reason, s.labels.status, s.value])).toEqual([
      ['counters_unavailable', '503', 1],
    ]);
  });
});
