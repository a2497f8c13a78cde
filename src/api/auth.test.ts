import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../demo/index.js';
import { startHarness, type GovernedHarness, type Harness } from '../testing/harness.js';
import { ADMIN, call } from '../testing/http.js';

/** Every route of the API surface: the admin and query API, and the ingest routes. */
const GUARDED = (pattern: string): boolean => pattern.startsWith('/api/v1/') || pattern.startsWith('/v1/usage/');

function concrete(pattern: string): string {
  return pattern.replace(/:[a-z_]+/g, 'x');
}

let demo: DemoUpstream;
let gw: GovernedHarness;
let readKey: string;

beforeAll(async () => {
  demo = await startDemoUpstream({ ttftMs: 1, itlMs: 0, seed: 5 });
  gw = await startHarness({ upstream: demo.url, governance: true, adminToken: ADMIN });
  await call(gw.url, 'POST', '/api/v1/admin/tenants', { id: 'acme', name: 'Acme' });
  const created = await call(gw.url, 'POST', '/api/v1/admin/keys', {
    tenant: 'acme',
    name: 'reader',
    scopes: ['read'],
  });
  readKey = String(created.json.key);
});
afterAll(async () => {
  await gw.close();
  await demo.close();
});

describe('API guards', () => {
  it('the app serves a guarded API surface (the walk below is not empty)', () => {
    const guarded = gw.app.routes().filter((r) => GUARDED(r.pattern));
    expect(guarded.length).toBeGreaterThanOrEqual(15);
    expect(guarded.map((r) => `${r.method} ${r.pattern}`)).toEqual(
      expect.arrayContaining(['GET /api/v1/costs', 'POST /api/v1/admin/keys', 'POST /v1/usage/events']),
    );
  });

  it('every registered /api/v1 and ingest route answers 401 without credentials, before its handler runs', async () => {
    for (const { method, pattern } of gw.app.routes().filter((r) => GUARDED(r.pattern))) {
      const reply = await call(
        gw.url,
        method as 'GET' | 'POST' | 'DELETE',
        concrete(pattern),
        method === 'GET' ? undefined : {},
        null,
      );
      expect({
        route: `${method} ${pattern}`,
        status: reply.status,
        code: (reply.json.error as { code?: string } | undefined)?.code,
      }).toEqual({
        route: `${method} ${pattern}`,
        status: 401,
        code: 'unauthorized',
      });
    }
  });

  it('a read key is refused on every admin route and on ingest', async () => {
    for (const { method, pattern } of gw.app
      .routes()
      .filter((r) => r.pattern.startsWith('/api/v1/admin/') || r.pattern.startsWith('/v1/usage/'))) {
      const reply = await call(
        gw.url,
        method as 'GET' | 'POST' | 'DELETE',
        concrete(pattern),
        method === 'GET' ? undefined : {},
        readKey,
      );
      expect({ route: `${method} ${pattern}`, status: reply.status }).toEqual({
        route: `${method} ${pattern}`,
        status: 401,
      });
    }
  });

  it('a read key reads its own tenant through the read guard', async () => {
    const costs = await call(gw.url, 'GET', '/api/v1/costs?group_by=tenant', undefined, readKey);
    expect(costs.status).toBe(200);
    const other = await call(gw.url, 'GET', '/api/v1/costs?filter[tenant]=globex', undefined, readKey);
    expect(other.status).toBe(403);
  });
});

describe('API guards without an admin token', () => {
  let open: Harness;
  beforeAll(async () => {
    open = await startHarness({ upstream: demo.url, governance: true, adminToken: null });
  });
  afterAll(() => open.close());

  it('closes every admin route (403) while the read API stays open, as on a bare install', async () => {
    for (const { method, pattern } of open.app.routes().filter((r) => r.pattern.startsWith('/api/v1/admin/'))) {
      const reply = await call(
        open.url,
        method as 'GET' | 'POST' | 'DELETE',
        concrete(pattern),
        method === 'GET' ? undefined : {},
        null,
      );
      expect({ route: `${method} ${pattern}`, status: reply.status }).toEqual({
        route: `${method} ${pattern}`,
        status: 403,
      });
    }
    expect((await call(open.url, 'GET', '/api/v1/costs', undefined, null)).status).toBe(200);
  });
});
