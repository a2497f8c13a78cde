import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.js';
import { startPertoken, type RunningServer } from '../server.js';
import { ADMIN, call } from '../testing/http.js';

/**
 * Unknown query parameters are refused on every GET route under /api/v1, walked from the routes the
 * whole server registers (`pertoken serve`'s wiring: governance, chargeback and alerts included),
 * so a route added later without its list of parameters fails here.
 */
let dir: string;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pertoken-query-'));
  server = await startPertoken({
    config: parseConfig({ demo: { ttft_ms: 1, itl_ms: 0 } }),
    env: { PERTOKEN_ADMIN_TOKEN: ADMIN },
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    demo: true,
    log: pino({ level: 'silent' }),
  });
}, 60_000);
afterAll(async () => {
  await server?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const getRoutes = (): string[] =>
  server.app
    .routes()
    .filter((r) => r.method === 'GET' && r.pattern.startsWith('/api/v1/'))
    .map((r) => r.pattern);

const errorOf = (json: Record<string, unknown>) => json.error as { code: string; param: string; message: string };

describe('GET /api/v1/*: unknown query parameters', () => {
  it('the walk covers the whole read, chargeback, alert and admin surface', () => {
    expect(getRoutes().length).toBeGreaterThanOrEqual(19);
    expect(getRoutes()).toEqual(
      expect.arrayContaining([
        '/api/v1/costs',
        '/api/v1/events/:id',
        '/api/v1/chargeback',
        '/api/v1/forecast',
        '/api/v1/alerts',
        '/api/v1/admin/audit',
      ]),
    );
  });

  it('every registered GET /api/v1 route answers 400 naming a parameter it does not take', async () => {
    for (const pattern of getRoutes()) {
      const path = pattern.replace(/:[a-z_]+/g, 'x');
      const reply = await call(server.url, 'GET', `${path}?bogus_param=1`);
      expect({ route: pattern, status: reply.status, error: errorOf(reply.json) }).toEqual({
        route: pattern,
        status: 400,
        error: expect.objectContaining({
          code: 'invalid_request',
          param: 'bogus_param',
          message: expect.stringMatching(/^unknown parameter "bogus_param"; this route takes /) as unknown,
        }) as unknown,
      });
    }
  });

  it('points a bare dimension at filter[KEY] and a misspelling at the right name', async () => {
    const cases: Array<[string, string, string]> = [
      ['/api/v1/costs?tenant=acme', 'tenant', 'unknown parameter "tenant"; filter with filter[tenant]=acme'],
      ['/api/v1/events?model=gpt-4o', 'model', 'unknown parameter "model"; filter with filter[model]=gpt-4o'],
      ['/api/v1/costs?group-by=tenant', 'group-by', 'unknown parameter "group-by"; did you mean "group_by"?'],
      ['/api/v1/costs?groupBy=tenant', 'groupBy', 'unknown parameter "groupBy"; did you mean "group_by"?'],
      ['/api/v1/costs?form=2026-11-01', 'form', 'unknown parameter "form"; did you mean "from"?'],
      ['/api/v1/chargeback?filter[tenant]=acme', 'filter[tenant]', 'this route takes tenant=acme'],
      ['/api/v1/events/x?limit=5', 'limit', 'this route takes no parameters'],
    ];
    for (const [path, param, message] of cases) {
      const reply = await call(server.url, 'GET', path);
      expect({ path, status: reply.status, param: errorOf(reply.json).param }).toEqual({ path, status: 400, param });
      expect(errorOf(reply.json).message).toContain(message);
    }
  });

  it('still answers the parameters each route declares', async () => {
    for (const path of [
      '/api/v1/costs?from=2026-11-01&to=2026-12-01&group_by=tenant&filter[tenant]=acme',
      '/api/v1/events?limit=5&filter[model]=gpt-4o',
      '/api/v1/chargeback?period=2026-11&tenant=acme',
      '/api/v1/alerts?state=all&limit=10',
      '/api/v1/forecast?scope=all&period=month',
      '/api/v1/reconciliation?from=2026-11-01&to=2026-11-02&threshold_pct=1',
      '/api/v1/admin/audit?from=2026-11-01&limit=10',
      '/api/v1/budgets?tenant=acme',
    ]) {
      expect({ path, status: (await call(server.url, 'GET', path)).status }).toEqual({ path, status: 200 });
    }
  });

  it('checks credentials first: an unknown parameter without them is still a 401', async () => {
    expect((await call(server.url, 'GET', '/api/v1/costs?tenant=acme', undefined, null)).status).toBe(401);
  });
});
