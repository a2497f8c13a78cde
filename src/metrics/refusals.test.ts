import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../attribution/prometheus-text.js';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call, chat } from '../testing/http.js';

/** Refusals counted through the real app: governance answers, the gateway reports, metrics counts. */
let demo: DemoUpstream;
let gw: GovernedHarness;

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 3 });
  gw = await startHarness({ governance: true, adminToken: ADMIN, upstream: demo.url });
});
afterAll(async () => {
  await gw.close();
  await demo.close();
});

async function refused(): Promise<Record<string, number>> {
  const samples = parseExposition((await gw.metrics.exposition()).body).samples.get('pertoken_requests_refused_total');
  return Object.fromEntries((samples ?? []).map((s) => [`${s.labels.reason}/${s.labels.status}`, s.value]));
}

describe('pertoken_requests_refused_total', () => {
  it('counts a 402 budget refusal and a 429 rate limit, and no other error', async () => {
    const post = (path: string, body: unknown) => call(gw.url, 'POST', path, body);
    // A budget names a tenant that exists.
    expect((await post('/api/v1/admin/tenants', { id: 'broke' })).status).toBe(201);
    expect(
      (
        await post('/api/v1/admin/budgets', {
          id: 'broke',
          scope: { tenant: 'broke' },
          period: 'day',
          limit_usd: '0.000001',
        })
      ).status,
    ).toBe(201);
    expect((await post('/api/v1/admin/tenants', { id: 'limited', rpm: 1 })).status).toBe(201);
    expect(await refused()).toEqual({});

    expect((await chat(gw.url, 'sk-x', 'gpt-4o-mini', {}, { 'x-pertoken-tenant': 'broke' })).status).toBe(402);
    expect((await chat(gw.url, 'sk-x', 'gpt-4o-mini', {}, { 'x-pertoken-tenant': 'limited' })).status).toBe(200);
    expect((await chat(gw.url, 'sk-x', 'gpt-4o-mini', {}, { 'x-pertoken-tenant': 'limited' })).status).toBe(429);
    expect((await chat(gw.url, 'sk-x', 'gpt-4o-mini', {}, { 'x-pertoken-tenant': 'limited' })).status).toBe(429);
    // A bad request is the caller's mistake, not a refusal.
    expect((await chat(gw.url, 'sk-x', 'gpt-4o-mini', { messages: 'nope' })).status).toBe(400);

    expect(await refused()).toEqual({ 'budget_exceeded/402': 1, 'rate_limited/429': 2 });
  });

  it('counts 401 and 403 once keys are required', async () => {
    await call(gw.url, 'POST', '/api/v1/admin/tenants', { id: 'keyed' });
    const { key } = (await call(gw.url, 'POST', '/api/v1/admin/keys', { tenant: 'keyed', scopes: ['read'] })).json as {
      key: string;
    };
    expect((await chat(gw.url, null)).status).toBe(401);
    expect((await call(gw.url, 'GET', '/v1/models', undefined, null)).status).toBe(401);
    expect((await chat(gw.url, key)).status).toBe(403);

    expect(await refused()).toEqual({
      'budget_exceeded/402': 1,
      'rate_limited/429': 2,
      'unauthorized/401': 2,
      'forbidden/403': 1,
    });
  });
});
