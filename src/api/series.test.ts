import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../testing/harness.js';
import { ADMIN, call } from '../testing/http.js';

let gateway: Harness;

const event = (id: string, time: string, tenant: string, model: string, input: number) => ({
  id,
  time,
  source: 'batch-job',
  tenant,
  provider: 'openai',
  model,
  tokens: { input, output: 10 },
});

beforeAll(async () => {
  gateway = await startHarness({ upstream: 'http://127.0.0.1:9', adminToken: ADMIN, governance: true });
  await call(gateway.url, 'POST', '/api/v1/admin/tenants', { id: 'acme' });
  const reply = await call(gateway.url, 'POST', '/v1/usage/events', [
    event('s1', '2026-11-01T09:10:00Z', 'acme', 'gpt-4o', 1000),
    event('s2', '2026-11-01T09:50:00Z', 'acme', 'gpt-4o-mini', 2000),
    event('s3', '2026-11-02T13:00:00Z', 'globex', 'gpt-4o', 3000),
  ]);
  expect(reply.json).toMatchObject({ accepted: ['s1', 's2', 's3'] });
});
afterAll(async () => {
  await gateway.close();
});

describe('GET /api/v1/timeseries', () => {
  it('answers the same totals as /api/v1/costs, one point per bucket', async () => {
    const range = 'from=2026-11-01&to=2026-11-03';
    const series = await call(gateway.url, 'GET', `/api/v1/timeseries?${range}&group_by=model`);
    const costs = await call(gateway.url, 'GET', `/api/v1/costs?${range}`);
    expect(series.status).toBe(200);
    const json = series.json as {
      step: string;
      timestamps: string[];
      series: Array<{ model: string; requests: number[]; cost_usd: string[] }>;
      totals: { cost_usd: string; requests: number };
    };
    expect(json.step).toBe('hour');
    expect(json.timestamps).toHaveLength(48);
    expect(json.series.map((s) => s.model).sort()).toEqual(['gpt-4o', 'gpt-4o-mini']);
    for (const line of json.series) expect(line.requests).toHaveLength(48);
    const totals = (costs.json as { totals: { cost_usd: string; requests: number } }).totals;
    expect(json.totals.cost_usd).toBe(totals.cost_usd);
    expect(json.totals.requests).toBe(totals.requests);
    const gpt4o = json.series.find((s) => s.model === 'gpt-4o');
    expect(gpt4o?.requests[9]).toBe(1);
    expect(gpt4o?.requests[24 + 13]).toBe(1);
  });

  it('filters like /api/v1/costs and keeps a read key to its tenant', async () => {
    const key = String(
      (await call(gateway.url, 'POST', '/api/v1/admin/keys', { tenant: 'acme', scopes: ['read'] })).json.key ?? '',
    );
    const range = 'from=2026-11-01&to=2026-11-03&step=day';
    const mine = await call(gateway.url, 'GET', `/api/v1/timeseries?${range}`, undefined, key);
    expect(mine.status).toBe(200);
    expect((mine.json as { totals: { requests: number } }).totals.requests).toBe(2);
    const theirs = await call(gateway.url, 'GET', `/api/v1/timeseries?${range}&filter[tenant]=globex`, undefined, key);
    expect(theirs.status).toBe(403);
    const filtered = await call(gateway.url, 'GET', `/api/v1/timeseries?${range}&filter[tenant]=globex`);
    expect((filtered.json as { totals: { requests: number } }).totals.requests).toBe(1);
  });

  it('names a bad option', async () => {
    const bad = await call(gateway.url, 'GET', '/api/v1/timeseries?step=minute');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { param: 'step' } });
  });
});

describe('GET /api/v1/costs by route, status and trace', () => {
  it('groups and filters by the dimensions only raw events keep', async () => {
    const range = 'from=2026-11-01&to=2026-11-03';
    const grouped = await call(gateway.url, 'GET', `/api/v1/costs?${range}&group_by=route,status,trace`);
    expect(grouped.status).toBe(200);
    expect((grouped.json as { rows: Array<Record<string, unknown>> }).rows).toEqual([
      expect.objectContaining({ route: 'event', status: 'ok', trace: null, requests: 3 }),
    ]);
    const none = await call(gateway.url, 'GET', `/api/v1/costs?${range}&filter[status]=error`);
    expect((none.json as { totals: { requests: number } }).totals.requests).toBe(0);
    const events = await call(gateway.url, 'GET', `/api/v1/events?filter[route]=event&filter[status]=ok`);
    expect((events.json as { events: unknown[] }).events).toHaveLength(3);
  });
});

describe('GET /api/v1/costs with sort and top', () => {
  it('keeps the first rows of the asked order and sums the rest into one other row, totals unchanged', async () => {
    const range = 'from=2026-11-01&to=2026-11-03&group_by=tenant,model';
    const all = (await call(gateway.url, 'GET', `/api/v1/costs?${range}`)).json as {
      rows: Array<Record<string, unknown>>;
      totals: Record<string, unknown>;
    };
    expect(all.rows).toHaveLength(3);
    const top = (await call(gateway.url, 'GET', `/api/v1/costs?${range}&sort=-tokens&top=1`)).json as typeof all;
    // s3 (globex, gpt-4o, 3010 tokens) has the most tokens; the two others fold into one row.
    expect(top.rows.map((r) => [r.tenant, r.model, r.requests, r.other ?? false, r.groups ?? 1])).toEqual([
      ['globex', 'gpt-4o', 1, false, 1],
      [null, null, 2, true, 2],
    ]);
    expect(top.totals).toEqual(all.totals);
    const fewest = (await call(gateway.url, 'GET', `/api/v1/costs?${range}&sort=tokens`)).json as typeof all;
    expect(fewest.rows.map((r) => r.model)).toEqual(['gpt-4o', 'gpt-4o-mini', 'gpt-4o']);
    const bad = await call(gateway.url, 'GET', `/api/v1/costs?${range}&sort=price`);
    expect(bad.json).toMatchObject({ error: { param: 'sort' } });
  });
});
