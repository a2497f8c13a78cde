import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type Harness } from '../testing/harness.js';
import { ADMIN, call } from '../testing/http.js';

const SCRAPE = 'scrape-token-0123456789';

let demo: DemoUpstream;
beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 9 });
});
afterAll(() => demo.close());

async function get(base: string, path: string, token: string | null): Promise<{ status: number; type: string }> {
  const res = await request(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  await res.body.text();
  return { status: res.statusCode, type: String(res.headers['content-type'] ?? '') };
}

/** Opens a harness for one case and closes it after, whatever the assertions did. */
async function withHarness(
  options: { adminToken: string | null; server?: Record<string, unknown>; governance?: boolean },
  run: (h: Harness) => Promise<void>,
): Promise<void> {
  const h = await startHarness({
    upstream: demo.url,
    adminToken: options.adminToken,
    ...(options.governance ? { governance: true } : {}),
    ...(options.server ? { config: { server: options.server } } : {}),
  });
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

describe('/metrics credentials', () => {
  it('with an admin token set: 401 without it or with a read key, 200 with it; health stays open', async () => {
    await withHarness({ adminToken: ADMIN, governance: true }, async (h) => {
      await call(h.url, 'POST', '/api/v1/admin/tenants', { id: 'acme', name: 'Acme' });
      const created = await call(h.url, 'POST', '/api/v1/admin/keys', { tenant: 'acme', name: 'r', scopes: ['read'] });
      const readKey = String(created.json.key);
      expect(await get(h.url, '/metrics', null)).toMatchObject({ status: 401 });
      expect(await get(h.url, '/metrics', 'wrong-token')).toMatchObject({ status: 401 });
      // A read key sees its own tenant; /metrics is every tenant's spend.
      expect(await get(h.url, '/metrics', readKey)).toMatchObject({ status: 401 });
      const ok = await get(h.url, '/metrics', ADMIN);
      expect(ok.status).toBe(200);
      expect(ok.type).toMatch(/text\/plain/);
      expect(await get(h.url, '/healthz', null)).toMatchObject({ status: 200 });
      expect(await get(h.url, '/readyz', null)).toMatchObject({ status: 200 });
    });
  });

  it('server.metrics_token reads /metrics, and nothing else', async () => {
    await withHarness({ adminToken: ADMIN, server: { metrics_token: SCRAPE } }, async (h) => {
      expect(await get(h.url, '/metrics', SCRAPE)).toMatchObject({ status: 200 });
      expect(await get(h.url, '/metrics', ADMIN)).toMatchObject({ status: 200 });
      expect(await get(h.url, '/metrics', null)).toMatchObject({ status: 401 });
      expect(await get(h.url, '/api/v1/costs', SCRAPE)).toMatchObject({ status: 401 });
    });
  });

  it('server.metrics_auth: false keeps /metrics open beside an admin token', async () => {
    await withHarness({ adminToken: ADMIN, server: { metrics_auth: false } }, async (h) => {
      expect(await get(h.url, '/metrics', null)).toMatchObject({ status: 200 });
      expect(await get(h.url, '/api/v1/costs', null)).toMatchObject({ status: 401 });
    });
  });

  it('without any token /metrics stays open; a metrics token alone closes it', async () => {
    await withHarness({ adminToken: null }, async (h) => {
      expect(await get(h.url, '/metrics', null)).toMatchObject({ status: 200 });
    });
    await withHarness({ adminToken: null, server: { metrics_token: SCRAPE } }, async (h) => {
      expect(await get(h.url, '/metrics', null)).toMatchObject({ status: 401 });
      expect(await get(h.url, '/metrics', SCRAPE)).toMatchObject({ status: 200 });
    });
  });

  it('refuses to start with metrics_auth: true and no token that could pass', async () => {
    await expect(
      startHarness({ upstream: demo.url, adminToken: null, config: { server: { metrics_auth: true } } }),
    ).rejects.toMatchObject({ code: 'config_invalid', param: 'server.metrics_auth' });
  });

  it('refuses a short metrics token in the config', async () => {
    await expect(
      startHarness({ upstream: demo.url, adminToken: ADMIN, config: { server: { metrics_token: 'short' } } }),
    ).rejects.toMatchObject({ code: 'config_invalid', param: 'server.metrics_token' });
  });
});
