import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChargebackJson, PoolReportJson } from '../attribution/index.js';
import { request } from 'undici';
import { parseDecimalScaled, parseUsd } from '../money.js';
import { parseCsv } from '../attribution/testing/focus.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call } from '../testing/http.js';

const POOL = {
  name: 'h100-east',
  gpu: 'h100-sxm',
  gpus: 8,
  rates: [{ from: '2026-10-01', usd_per_gpu_hour: '2.99', pricing: 'reserved' }],
  serves: ['acme-vllm'],
  capacity: { output_tokens_per_s: 12000 },
  output_weight: 4,
  idle: 'weighted',
};

let gw: GovernedHarness;
let acmeReader: string;

beforeAll(async () => {
  gw = await startHarness({
    upstream: 'http://127.0.0.1:9',
    governance: true,
    adminToken: ADMIN,
    config: {
      gpu_pools: [POOL],
      shared_costs: [{ name: 'observability', usd: 1200, per: 'month', from: '2026-10-01', allocate: 'by_cost' }],
      plans: [{ tenant: 'acme', markup_pct: 20 }],
    },
  });
  await call(gw.url, 'POST', '/api/v1/admin/tenants', { id: 'acme' });
  acmeReader = String(
    (await call(gw.url, 'POST', '/api/v1/admin/keys', { tenant: 'acme', name: 'finance', scopes: ['read'] })).json.key,
  );
  const event = (id: string, tenant: string, provider: string, model: string, cost: string, day: string) => ({
    id,
    time: `2026-10-${day}T10:00:00Z`,
    source: 'test',
    tenant,
    provider,
    model,
    tokens: { input: 1_000_000, output: 100_000 },
    cost_usd: cost,
  });
  const reply = await call(gw.url, 'POST', '/v1/usage/events', [
    event('e1', 'acme', 'openai', 'gpt-4o', '3.5', '03'),
    event('e2', 'beta', 'openai', 'gpt-4o', '3.5', '04'),
    event('e3', 'acme', 'acme-vllm', 'llama-3.1-8b', '0.2', '05'),
    event('e4', 'beta', 'acme-vllm', 'llama-3.1-8b', '0.2', '06'),
  ]);
  expect(reply.json.accepted).toHaveLength(4);
});
afterAll(async () => {
  await gw.close();
});

describe('GET /api/v1/chargeback', () => {
  it('attributes vendor, pool and shared cost to tenants; the totals reconcile with /api/v1/costs plus the inputs', async () => {
    const s = (await call(gw.url, 'GET', '/api/v1/chargeback?period=2026-10')).json as unknown as ChargebackJson;
    expect(s.tenants.map((t) => t.tenant)).toEqual(['acme', 'beta']);
    // 8 GPUs × 744 h × $2.99 in October, + $1200 shared, + $7 of vendor events.
    expect(s.inputs).toEqual({
      vendor_usd: '7.000000000',
      pools_usd: '17796.480000000',
      shared_usd: '1200.000000000',
      total_usd: '19003.480000000',
    });
    const carried = s.tenants.reduce((sum, t) => sum + parseUsd(t.cost_usd), 0n);
    expect(carried + parseUsd(s.unallocated!.idle_usd) + parseUsd(s.unallocated!.shared_usd)).toBe(
      parseUsd(s.inputs!.total_usd),
    );
    // The ledger's own report: everything it holds minus the pool-served events (re-costed by the pool).
    const costs = (await call(gw.url, 'GET', '/api/v1/costs?from=2026-10-01&to=2026-11-01&group_by=provider')).json as {
      rows: Array<{ provider: string; cost_usd: string }>;
    };
    const vendor = costs.rows
      .filter((r) => r.provider !== 'acme-vllm')
      .reduce((sum, r) => sum + parseUsd(r.cost_usd), 0n);
    expect(vendor).toBe(parseUsd(s.inputs!.vendor_usd));
    const acme = s.tenants.find((t) => t.tenant === 'acme')!;
    expect(acme.basis).toBe('plan');
    expect(parseUsd(acme.charge_usd)).toBe((parseUsd(acme.cost_usd) * 12n) / 10n);
  });

  it('a read key sees its own tenant only, and gets 403 for another', async () => {
    const own = await call(gw.url, 'GET', '/api/v1/chargeback?period=2026-10', undefined, acmeReader);
    expect(own.status).toBe(200);
    const s = own.json as unknown as ChargebackJson;
    expect(s.tenants.map((t) => t.tenant)).toEqual(['acme']);
    expect(s.unallocated).toBeNull();
    const other = await call(gw.url, 'GET', '/api/v1/chargeback?period=2026-10&tenant=beta', undefined, acmeReader);
    expect(other.status).toBe(403);
    expect(other.json.error).toMatchObject({ code: 'forbidden', param: 'tenant' });
  });

  it('refuses a malformed period with the parameter named', async () => {
    const reply = await call(gw.url, 'GET', '/api/v1/chargeback?period=2026-13');
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatchObject({ code: 'invalid_request', param: 'period' });
  });
});

describe('GET /api/v1/focus', () => {
  async function focus(query: string, token: string = ADMIN) {
    const res = await request(`${gw.url}/api/v1/focus?${query}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      type: res.headers['content-type'],
      rows: res.statusCode === 200 ? parseCsv(text) : [],
      text,
    };
  }
  const billed = (rows: Array<Array<string | null>>) => {
    const at = rows[0]!.indexOf('BilledCost');
    return rows.slice(1).reduce((sum, r) => sum + parseDecimalScaled(r[at] ?? '0', 9, 'BilledCost'), 0n);
  };

  it('streams the month as FOCUS CSV whose BilledCost sums to what the statement attributes', async () => {
    const reply = await focus('from=2026-10-01&to=2026-11-01');
    expect(reply.status).toBe(200);
    expect(reply.type).toMatch(/^text\/csv/);
    expect(reply.rows[0]!.slice(0, 3)).toEqual(['BilledCost', 'BillingAccountId', 'BillingAccountName']);
    const s = (await call(gw.url, 'GET', '/api/v1/chargeback?period=2026-10')).json as unknown as ChargebackJson;
    expect(billed(reply.rows)).toBe(parseUsd(s.inputs!.total_usd));
  });

  it('gives a read key its own tenant’s rows only, and 403 for another tenant', async () => {
    const own = await focus('from=2026-10-01&to=2026-11-01', acmeReader);
    expect(own.status).toBe(200);
    const sub = own.rows[0]!.indexOf('SubAccountId');
    expect(new Set(own.rows.slice(1).map((r) => r[sub]))).toEqual(new Set(['acme']));
    const s = (await call(gw.url, 'GET', '/api/v1/chargeback?period=2026-10', undefined, acmeReader))
      .json as unknown as ChargebackJson;
    expect(billed(own.rows)).toBe(parseUsd(s.tenants[0]!.cost_usd));
    expect((await focus('from=2026-10-01&to=2026-11-01&tenant=beta', acmeReader)).status).toBe(403);
  });

  it('refuses a window that ends before it starts, naming the parameter', async () => {
    const reply = await focus('from=2026-11-01&to=2026-10-01');
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error.param).toBe('from');
  });
});

describe('GET /api/v1/pools', () => {
  it('reports GPU-hours, cost, busy, idle, utilisation and the true-up', async () => {
    const reply = await call(gw.url, 'GET', '/api/v1/pools?from=2026-10-01&to=2026-10-02');
    const pool = (reply.json.pools as PoolReportJson[])[0]!;
    expect(pool).toMatchObject({
      name: 'h100-east',
      gpu_hours: '192.000000',
      cost_usd: '574.080000000',
      idle_mode: 'weighted',
      tokens: 0,
      busy_usd: '0.000000000',
      over_capacity: false,
    });
  });
});

describe('POST /api/v1/admin/pools', () => {
  const extra = { ...POOL, name: 'a100-west', serves: ['west-vllm'], gpus: 2 };

  it('adds a pool, keeps it in the data dir, and serves it in the report', async () => {
    const created = await call(gw.url, 'POST', '/api/v1/admin/pools', extra);
    expect(created.status).toBe(201);
    expect(existsSync(join(gw.dir, 'cost-pools.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(gw.dir, 'cost-pools.json'), 'utf8')).pools[0].name).toBe('a100-west');
    const replaced = await call(gw.url, 'POST', '/api/v1/admin/pools', { ...extra, gpus: 4 });
    expect(replaced.status).toBe(200);
    const report = await call(gw.url, 'GET', '/api/v1/pools?from=2026-10-01&to=2026-10-02');
    expect((report.json.pools as PoolReportJson[]).find((p) => p.name === 'a100-west')?.gpu_hours).toBe('96.000000');
  });

  it('refuses bad input with the field named, a config pool’s name, and a provider another pool serves', async () => {
    const bad = await call(gw.url, 'POST', '/api/v1/admin/pools', { ...extra, gpus: 0 });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ param: 'gpus' });
    const fromConfig = await call(gw.url, 'POST', '/api/v1/admin/pools', { ...extra, name: 'h100-east' });
    expect(fromConfig.status).toBe(409);
    const clash = await call(gw.url, 'POST', '/api/v1/admin/pools', { ...extra, name: 'other', serves: ['acme-vllm'] });
    expect(clash.status).toBe(409);
    expect(clash.json.error).toMatchObject({ code: 'conflict' });
    const noCapacity = await call(gw.url, 'POST', '/api/v1/admin/pools', {
      ...extra,
      name: 'blind',
      serves: ['blind-vllm'],
      capacity: undefined,
    });
    expect(noCapacity.status).toBe(400);
  });

  it('needs the admin token', async () => {
    const reply = await call(gw.url, 'POST', '/api/v1/admin/pools', extra, acmeReader);
    expect(reply.status).toBe(401);
  });
});
