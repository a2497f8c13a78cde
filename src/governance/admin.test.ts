import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type GovernedHarness } from '../testing/harness.js';
import { ADMIN, call, chat } from '../testing/http.js';

let demo: DemoUpstream;
let gw: GovernedHarness;

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 11 });
  gw = await startHarness({ governance: true, adminToken: ADMIN, upstream: demo.url });
});
afterAll(async () => {
  await gw.close();
  await demo.close();
});

const post = (path: string, body: unknown, token: string | null = ADMIN) => call(gw.url, 'POST', path, body, token);

describe('admin API', () => {
  it('needs the admin token', async () => {
    expect((await post('/api/v1/admin/tenants', { id: 'x' }, null)).status).toBe(401);
    expect((await post('/api/v1/admin/tenants', { id: 'x' }, 'wrong')).status).toBe(401);
    expect((await call(gw.url, 'GET', '/api/v1/admin/audit', undefined, 'wrong')).status).toBe(401);
  });

  it('names the offending field of every invalid body', async () => {
    await post('/api/v1/admin/tenants', { id: 'valid-co', name: 'Valid' });
    await post('/api/v1/admin/tenants', { id: 'other-co' });
    await post('/api/v1/admin/projects', { id: 'other-proj', tenant: 'other-co' });
    const cases: Array<[string, unknown, string]> = [
      ['/api/v1/admin/tenants', { id: 'bad id!' }, 'id'],
      ['/api/v1/admin/tenants', { id: 'ok', rpm: -1 }, 'rpm'],
      ['/api/v1/admin/tenants', { id: 'ok', colour: 'red' }, ''],
      ['/api/v1/admin/projects', { id: 'p1', tenant: 'nobody' }, 'tenant'],
      ['/api/v1/admin/keys', { tenant: 'nobody' }, 'tenant'],
      ['/api/v1/admin/keys', { tenant: 'valid-co', project: 'other-proj' }, 'project'],
      ['/api/v1/admin/keys', { tenant: 'valid-co', scopes: ['chat', 'fly'] }, 'scopes.1'],
      ['/api/v1/admin/keys', { tenant: 'valid-co', expires_at: 'tomorrow' }, 'expires_at'],
      ['/api/v1/admin/keys', { tenant: 'valid-co', expires_at: '2001-01-01T00:00:00Z' }, 'expires_at'],
      ['/api/v1/admin/keys', { tenant: 'valid-co', id: 'Has-Dash' }, 'id'],
      ['/api/v1/admin/budgets', { id: 'b1', scope: {}, period: 'month', limit_usd: '1.00' }, 'scope'],
      [
        '/api/v1/admin/budgets',
        { id: 'b1', scope: { tenant: 'valid-co' }, period: 'fortnight', limit_usd: '1.00' },
        'period',
      ],
      [
        '/api/v1/admin/budgets',
        { id: 'b1', scope: { tenant: 'valid-co' }, period: 'month', limit_usd: '1.0000000001' },
        'limit_usd',
      ],
      [
        '/api/v1/admin/budgets',
        { id: 'b1', scope: { tenant: 'valid-co' }, period: 'month', tz: 'Mars/Olympus', limit_usd: '1' },
        'tz',
      ],
      [
        '/api/v1/admin/budgets',
        { id: 'b1', scope: { tenant: 'valid-co' }, period: 'month', limit_usd: '1', action: 'downgrade' },
        'downgrade_to',
      ],
      [
        '/api/v1/admin/budgets',
        { id: 'b1', scope: { tenant: 'valid co' }, period: 'month', limit_usd: '1' },
        'scope.tenant',
      ],
      [
        '/api/v1/admin/budgets',
        { id: 'b1', scope: { tenant: 'valid-co' }, period: 'month', limit_usd: '1', thresholds: [0.5, -1] },
        'thresholds.1',
      ],
      // A budget names a tenant and project that exist, as a key does.
      [
        '/api/v1/admin/budgets',
        { id: 'b1', scope: { tenant: 'nobody' }, period: 'month', limit_usd: '1' },
        'scope.tenant',
      ],
      [
        '/api/v1/admin/budgets',
        { id: 'b1', scope: { project: 'ghost' }, period: 'month', limit_usd: '1' },
        'scope.project',
      ],
      [
        '/api/v1/admin/budgets',
        { id: 'b1', scope: { tenant: 'valid-co', project: 'other-proj' }, period: 'month', limit_usd: '1' },
        'scope.project',
      ],
      ['/api/v1/admin/budgets', { id: 'b1', scope: { tenant: 'valid-co' }, period: 'month' }, 'limit_usd'],
      [
        '/api/v1/admin/budgets',
        { id: 'b1', scope: { tenant: 'valid-co' }, period: 'month', limit_tokens: 1.5 },
        'limit_tokens',
      ],
      ['/api/v1/admin/tenants', { id: 'ok', model_limits: [{ model: 'gpt-4o' }] }, 'model_limits.0'],
    ];
    for (const [path, body, param] of cases) {
      const reply = await post(path, body);
      expect(reply.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      const error = reply.json.error as { param: string | null; message: string; type: string };
      expect(error.param ?? '', `${path} ${JSON.stringify(body)}`).toBe(param);
      expect(error.type).toBe('invalid_request_error');
    }
    const unknown = await post('/api/v1/admin/budgets', {
      id: 'b1',
      scope: { tenant: 'nobody' },
      period: 'month',
      limit_usd: '1',
    });
    expect((unknown.json.error as { message: string }).message).toBe(
      'scope.tenant: no tenant "nobody"; create it first',
    );
    const missing = await call(gw.url, 'POST', '/api/v1/admin/keys/knope/rotate', {});
    expect(missing.status).toBe(404);
    expect(await call(gw.url, 'DELETE', '/api/v1/admin/budgets/none').then((r) => r.status)).toBe(404);
  });

  it('audits every change with actor, before and after, and never a key secret', async () => {
    const since = new Date(Date.now() - 1).toISOString();
    const actor = { 'x-pertoken-actor': 'alice' };
    await call(gw.url, 'POST', '/api/v1/admin/tenants', { id: 'audited', name: 'Audited Inc' }, ADMIN, actor);
    await call(
      gw.url,
      'POST',
      '/api/v1/admin/tenants',
      { id: 'audited', name: 'Audited GmbH', rpm: 100 },
      ADMIN,
      actor,
    );
    await post('/api/v1/admin/projects', { id: 'audited-web', tenant: 'audited' });
    await post('/api/v1/admin/projects', { id: 'audited-web', tenant: 'audited', tpm: 5000 });
    const created = await post('/api/v1/admin/keys', {
      tenant: 'audited',
      project: 'audited-web',
      name: 'web',
      scopes: ['chat', 'read'],
    });
    expect(created.status).toBe(201);
    const { id, key } = created.json as { id: string; key: string };
    const rotated = await post(`/api/v1/admin/keys/${id}/rotate`, { grace_seconds: 60 });
    expect(rotated.status).toBe(200);
    const newKey = (rotated.json as { key: string }).key;
    expect(newKey).not.toBe(key);
    expect((await call(gw.url, 'DELETE', `/api/v1/admin/keys/${id}`)).status).toBe(200);
    await post('/api/v1/admin/budgets', {
      id: 'audited-month',
      scope: { tenant: 'audited' },
      period: 'month',
      limit_usd: '10',
    });
    await post('/api/v1/admin/budgets', {
      id: 'audited-month',
      scope: { tenant: 'audited' },
      period: 'month',
      limit_usd: '20',
    });
    await call(gw.url, 'DELETE', '/api/v1/admin/budgets/audited-month');

    const log = await call(gw.url, 'GET', `/api/v1/admin/audit?from=${encodeURIComponent(since)}`);
    expect(log.status).toBe(200);
    const entries = (log.json.entries as Array<Record<string, unknown>>).filter(
      (e) => String(e.target_id).startsWith('audited') || e.target_id === id,
    );
    expect(entries.map((e) => e.action)).toEqual([
      'tenant.create',
      'tenant.update',
      'project.create',
      'project.update',
      'key.create',
      'key.rotate',
      'key.revoke',
      'budget.create',
      'budget.update',
      'budget.delete',
    ]);
    expect(entries[0]).toMatchObject({
      actor: 'admin:alice',
      target: 'tenant',
      before: null,
      after: { id: 'audited', name: 'Audited Inc' },
    });
    expect(entries[1]).toMatchObject({
      before: { name: 'Audited Inc', rpm: null },
      after: { name: 'Audited GmbH', rpm: 100 },
    });
    expect(entries[3]).toMatchObject({ before: { tpm: null }, after: { tpm: 5000 } });
    expect(entries[5]).toMatchObject({ actor: 'admin', before: { rotated_at: null }, after: { status: 'active' } });
    expect(entries[6]).toMatchObject({ before: { status: 'active' }, after: { status: 'revoked' } });
    expect(entries[8]).toMatchObject({ before: { limit_usd: '10.000000000' }, after: { limit_usd: '20.000000000' } });
    expect(entries[9]).toMatchObject({ after: null });
    expect(typeof entries[0]?.remote).toBe('string');
    const text = JSON.stringify(log.json);
    for (const secret of [key, newKey, key.slice(-20), newKey.slice(-20)]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/"(hash|salt)"/);

    const none = await call(
      gw.url,
      'GET',
      `/api/v1/admin/audit?to=${encodeURIComponent(since)}&target=budget&target_id=audited-month`,
    );
    expect(none.json.entries).toEqual([]);
  });

  it('lists keys without secrets and shows a key once', async () => {
    await post('/api/v1/admin/tenants', { id: 'lister' });
    const created = await post('/api/v1/admin/keys', { tenant: 'lister', name: 'one', models: ['gpt-4o*'], rpm: 10 });
    const { id, key } = created.json as { id: string; key: string };
    expect(key).toMatch(new RegExp(`^pt-${id}-[A-Za-z0-9_-]{43}$`));
    const listed = await call(gw.url, 'GET', '/api/v1/admin/keys?tenant=lister');
    expect(listed.json.keys).toEqual([
      expect.objectContaining({
        id,
        tenant: 'lister',
        name: 'one',
        models: ['gpt-4o*'],
        rpm: 10,
        status: 'active',
        scopes: ['chat', 'completions', 'responses', 'embeddings', 'messages'],
      }),
    ]);
    expect(JSON.stringify(listed.json)).not.toContain(key.slice(-20));
    const one = await call(gw.url, 'GET', `/api/v1/admin/keys/${id}`);
    expect(one.json).not.toHaveProperty('key');
  });

  it('keeps a rotated-out secret working for its grace period only', async () => {
    await post('/api/v1/admin/tenants', { id: 'rotor' });
    const { id, key: first } = (await post('/api/v1/admin/keys', { tenant: 'rotor' })).json as {
      id: string;
      key: string;
    };
    const { key: second } = (await post(`/api/v1/admin/keys/${id}/rotate`, { grace_seconds: 3600 })).json as {
      key: string;
    };
    expect((await chat(gw.url, first)).status).toBe(200);
    expect((await chat(gw.url, second)).status).toBe(200);
    const { key: third } = (await post(`/api/v1/admin/keys/${id}/rotate`, { grace_seconds: 0 })).json as {
      key: string;
    };
    const refused = await chat(gw.url, second);
    expect(refused.status).toBe(401);
    expect((refused.json.error as { message: string }).message).toBe('invalid virtual key');
    expect((await chat(gw.url, first)).status).toBe(401);
    expect((await chat(gw.url, third)).status).toBe(200);
  });
});
