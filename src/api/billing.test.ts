import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { fixtureText } from '../attribution/billing/testing/fixtures.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call } from '../testing/http.js';

let gw: GovernedHarness;
let reader: string;

beforeAll(async () => {
  gw = await startHarness({
    upstream: 'http://127.0.0.1:9',
    governance: true,
    adminToken: ADMIN,
    config: {
      billing_accounts: [{ provider: 'anthropic', workspace_id: null, tenant: 'acme', project: 'default' }],
    },
  });
  await call(gw.url, 'POST', '/api/v1/admin/tenants', { id: 'acme' });
  reader = String((await call(gw.url, 'POST', '/api/v1/admin/keys', { tenant: 'acme', scopes: ['read'] })).json.key);
});
afterAll(async () => {
  await gw.close();
});

/** The file as the Admin API returned it: raw text, so its numbers keep their digits. */
async function post(query: string, body: string, token: string | null = ADMIN) {
  const res = await request(`${gw.url}/api/v1/admin/billing/imports${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

describe('POST /api/v1/admin/billing/imports', () => {
  it('imports one file, maps the default workspace, and a second post is all duplicates', async () => {
    const text = fixtureText('anthropic-cost-report.json');
    const first = await post('?format=anthropic-cost&name=cost-aug.json', text);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ format: 'anthropic-cost', rows: 20, imported: 20, duplicates: 0, rejected: [] });
    expect(first.json.unmapped).toBeGreaterThan(0);
    const rows = await gw.store.queryBillingRows({
      from: new Date('2026-08-01T00:00:00Z'),
      to: new Date('2026-08-03T00:00:00Z'),
    });
    expect(rows.filter((r) => r.account_id === 'wrkspc_default').every((r) => r.tenant === 'acme')).toBe(true);
    expect(rows.every((r) => r.file === 'cost-aug.json')).toBe(true);
    const again = await post('?format=anthropic-cost', text);
    expect(again.json).toMatchObject({ imported: 0, replaced: 0, duplicates: 20 });
  });

  it('lists the rejected rows of a malformed file and stores nothing from it', async () => {
    const bad = fixtureText('openai-costs.json').replace('"value": 3.0,', '"value": null,');
    const reply = await post('?format=openai-costs', bad);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({
      rows: 0,
      imported: 0,
      rejected: [{ file: 'body', at: '$.data[0].results[0].amount.value', reason: 'missing' }],
    });
  });

  it('names the format param when it is wrong or missing', async () => {
    const wrong = await post('?format=openai-bill', '{}');
    expect(wrong.status).toBe(400);
    expect(wrong.json.error).toMatchObject({ param: 'format' });
    expect(String((wrong.json.error as { message: string }).message)).toMatch(/openai-costs/);
    expect((await post('', '{}')).json.error).toMatchObject({ param: 'format' });
  });

  it('is admin only: no token is 401, a read key is refused', async () => {
    expect((await post('?format=focus', '', null)).status).toBe(401);
    expect((await post('?format=focus', '', reader)).status).toBe(401);
  });
});
