import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call, chat, eventually } from '../testing/http.js';

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

const post = (path: string, body: unknown) => call(gw.url, 'POST', path, body);
async function newKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const reply = await post('/api/v1/admin/keys', body);
  expect(reply.status).toBe(201);
  return reply.json as { id: string; key: string };
}
const message = (r: { json: Record<string, unknown> }): string => (r.json.error as { message: string }).message;

describe('virtual keys at the gateway', () => {
  let keyA: { id: string; key: string };
  let readA: { id: string; key: string };
  let readB: { id: string; key: string };
  let eventA: string;
  let eventB: string;

  it('stays open (any key, header attribution) until the first key exists', async () => {
    const open = await chat(gw.url, 'sk-anything', 'gpt-4o-mini', {}, { 'x-pertoken-tenant': 'tenant-b' });
    expect(open.status).toBe(200);
    eventB = String(open.headers['x-pertoken-request-id']);
    await gw.store.flush();
    expect((await gw.store.getEvent(eventB))?.tenant).toBe('tenant-b');
    expect((await chat(gw.url, null)).status).toBe(200);
  });

  it('then requires a valid key, whose tenant and project beat the headers', async () => {
    await post('/api/v1/admin/tenants', { id: 'tenant-a' });
    await post('/api/v1/admin/tenants', { id: 'tenant-b' });
    await post('/api/v1/admin/projects', { id: 'search', tenant: 'tenant-a' });
    keyA = await newKey({ tenant: 'tenant-a', project: 'search', name: 'app' });
    readA = await newKey({ tenant: 'tenant-a', scopes: ['read'] });
    readB = await newKey({ tenant: 'tenant-b', scopes: ['read', 'chat'] });

    const none = await chat(gw.url, null);
    expect(none.status).toBe(401);
    expect(none.json.error).toMatchObject({ type: 'authentication_error', code: 'unauthorized' });
    expect((await chat(gw.url, 'sk-anything')).status).toBe(401);
    expect(message(await chat(gw.url, `pt-${keyA.id}-${'A'.repeat(43)}`))).toBe('invalid virtual key');
    expect((await call(gw.url, 'GET', '/v1/models', undefined, null)).status).toBe(401);
    expect((await call(gw.url, 'GET', '/v1/models', undefined, keyA.key)).status).toBe(200);

    const ok = await chat(
      gw.url,
      keyA.key,
      'gpt-4o-mini',
      {},
      { 'x-pertoken-tenant': 'tenant-b', 'x-pertoken-project': 'other', 'x-pertoken-user': 'u1' },
    );
    expect(ok.status).toBe(200);
    eventA = String(ok.headers['x-pertoken-request-id']);
    await gw.store.flush();
    expect(await gw.store.getEvent(eventA)).toMatchObject({
      tenant: 'tenant-a',
      project: 'search',
      user: 'u1',
      key_id: keyA.id,
    });
    // Same through x-api-key, as the Anthropic SDK sends it.
    const anthropic = await call(
      gw.url,
      'POST',
      '/v1/messages',
      { model: 'claude-3-5-haiku-latest', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
      null,
      { 'x-api-key': keyA.key },
    );
    expect(anthropic.status).toBe(200);
  });

  it('refuses routes and models outside the key scopes with 403', async () => {
    const embedOnly = await newKey({ tenant: 'tenant-a', scopes: ['embeddings'] });
    const chatRefused = await chat(gw.url, embedOnly.key);
    expect(chatRefused.status).toBe(403);
    expect(chatRefused.json.error).toMatchObject({ type: 'permission_error', code: 'forbidden' });
    expect(
      (await call(gw.url, 'POST', '/v1/embeddings', { model: 'text-embedding-3-small', input: 'x' }, embedOnly.key))
        .status,
    ).toBe(200);

    const mini = await newKey({ tenant: 'tenant-a', models: ['gpt-4o-mini*'] });
    expect((await chat(gw.url, mini.key, 'gpt-4o-mini')).status).toBe(200);
    const bigger = await chat(gw.url, mini.key, 'gpt-4o');
    expect(bigger.status).toBe(403);
    expect((bigger.json.error as { param: string }).param).toBe('model');
    // Key model lists follow the one glob rule (src/glob.ts): case-insensitive.
    const upper = await newKey({ tenant: 'tenant-a', models: ['GPT-4O-MINI*'] });
    expect((await chat(gw.url, upper.key, 'gpt-4o-mini')).status).toBe(200);
    expect((await chat(gw.url, upper.key, 'gpt-4o')).status).toBe(403);
    // A read-only key cannot call models.
    expect((await chat(gw.url, readA.key)).status).toBe(403);
    // A key without a project of its own may name one of its tenant's projects, not another's.
    await post('/api/v1/admin/projects', { id: 'b-proj', tenant: 'tenant-b' });
    const loose = await newKey({ tenant: 'tenant-a' });
    expect((await chat(gw.url, loose.key, 'gpt-4o-mini', {}, { 'x-pertoken-project': 'search' })).status).toBe(200);
    const foreign = await chat(gw.url, loose.key, 'gpt-4o-mini', {}, { 'x-pertoken-project': 'b-proj' });
    expect(foreign.status).toBe(403);
    expect((foreign.json.error as { param: string }).param).toBe('x-pertoken-project');
  });

  it('refuses an expired key and a revoked one', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const shortLived = await newKey({ tenant: 'tenant-a', expires_at: expiresAt });
    expect((await chat(gw.url, shortLived.key)).status).toBe(200);
    expect(await eventually(async () => (await chat(gw.url, shortLived.key)).status === 401, 10_000, 100)).toBe(true);
    expect(message(await chat(gw.url, shortLived.key))).toContain('expired');

    const doomed = await newKey({ tenant: 'tenant-a' });
    expect((await chat(gw.url, doomed.key)).status).toBe(200);
    expect((await call(gw.url, 'DELETE', `/api/v1/admin/keys/${doomed.id}`)).status).toBe(200);
    const revoked = await chat(gw.url, doomed.key);
    expect(revoked.status).toBe(401);
    expect(message(revoked)).toBe(`virtual key ${doomed.id} was revoked`);
  });

  it('lets a read key see its own tenant only, on every read route', async () => {
    await post('/api/v1/admin/budgets', {
      id: 'a-month',
      scope: { tenant: 'tenant-a' },
      period: 'month',
      limit_usd: '100',
    });
    await post('/api/v1/admin/budgets', {
      id: 'b-month',
      scope: { tenant: 'tenant-b' },
      period: 'month',
      limit_usd: '100',
    });
    await post('/api/v1/admin/budgets', {
      id: 'search-day',
      scope: { project: 'search' },
      period: 'day',
      limit_usd: '5',
    });
    const b = readA.key;
    const forbidden: Array<[string, string]> = [
      ['/api/v1/costs?filter[tenant]=tenant-b', 'filter[tenant]'],
      ['/api/v1/events?filter[tenant]=tenant-b', 'filter[tenant]'],
      [`/api/v1/events/${eventB}`, 'id'],
      ['/api/v1/budgets?tenant=tenant-b', 'tenant'],
    ];
    for (const [path, param] of forbidden) {
      const reply = await call(gw.url, 'GET', path, undefined, b);
      expect(reply.status, path).toBe(403);
      expect(reply.json.error, path).toMatchObject({ code: 'forbidden', param });
      // The admin token reads everything.
      expect((await call(gw.url, 'GET', path)).status, path).toBe(200);
    }

    const costs = await call(gw.url, 'GET', '/api/v1/costs?group_by=tenant', undefined, b);
    expect((costs.json.rows as Array<{ tenant: string }>).map((r) => r.tenant)).toEqual(['tenant-a']);
    const events = await call(gw.url, 'GET', '/api/v1/events', undefined, b);
    const tenants = new Set((events.json.events as Array<{ tenant: string }>).map((e) => e.tenant));
    expect([...tenants]).toEqual(['tenant-a']);
    expect((await call(gw.url, 'GET', `/api/v1/events/${eventA}`, undefined, b)).status).toBe(200);
    const budgets = await call(gw.url, 'GET', '/api/v1/budgets', undefined, b);
    expect((budgets.json.budgets as Array<{ id: string }>).map((x) => x.id).sort()).toEqual(['a-month', 'search-day']);

    // Tenant B's key, the other way round; and keys without `read` are refused outright.
    expect((await call(gw.url, 'GET', `/api/v1/events/${eventA}`, undefined, readB.key)).status).toBe(403);
    expect((await call(gw.url, 'GET', '/api/v1/budgets?tenant=tenant-a', undefined, readB.key)).status).toBe(403);
    for (const path of ['/api/v1/costs', '/api/v1/events', `/api/v1/events/${eventA}`, '/api/v1/budgets']) {
      expect((await call(gw.url, 'GET', path, undefined, keyA.key)).status, path).toBe(403);
      expect((await call(gw.url, 'GET', path, undefined, `pt-${readA.id}-${'x'.repeat(43)}`)).status, path).toBe(401);
      expect((await call(gw.url, 'GET', path, undefined, 'wrong-token')).status, path).toBe(401);
    }
    // Neither key reaches the admin API or event ingestion.
    expect((await call(gw.url, 'GET', '/api/v1/admin/keys', undefined, readA.key)).status).toBe(401);
    expect((await call(gw.url, 'POST', '/v1/usage/events', [], readA.key)).status).toBe(401);
    expect(ADMIN).not.toBe(readA.key);
  });
});
