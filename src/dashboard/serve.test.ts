import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextVars, Router, sendError } from '../http/index.js';
import { listenEphemeral } from '../testing/harness.js';
import { DASHBOARD_CSP, registerDashboardRoutes } from './index.js';

/** The server side of the dashboard over HTTP, on a hand-made build and on a missing one. */
let built: string;
const servers: Server[] = [];

async function serve(dir: string): Promise<string> {
  const router = new Router();
  registerDashboardRoutes(router, { dir });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    Promise.resolve()
      .then(() => {
        const { handler, params } = router.match(req.method ?? 'GET', url.pathname);
        return handler({ req, res, url, params, vars: new ContextVars() });
      })
      .catch((err: unknown) => sendError(res, err));
  });
  servers.push(server);
  return `http://127.0.0.1:${await listenEphemeral(server)}`;
}

const APP_JS = `console.log(${JSON.stringify('x'.repeat(4000))});`;

beforeAll(() => {
  built = mkdtempSync(join(tmpdir(), 'pertoken-dashboard-build-'));
  mkdirSync(join(built, 'assets'));
  writeFileSync(
    join(built, 'index.html'),
    '<!doctype html><html><head><script type="module" src="./assets/app-Ab12Cd34.js"></script></head></html>',
  );
  writeFileSync(join(built, 'assets', 'app-Ab12Cd34.js'), APP_JS);
  writeFileSync(join(built, 'secret.txt'), 'outside assets/');
});

afterAll(() => {
  for (const s of servers) s.close();
  rmSync(built, { recursive: true, force: true });
});

describe('dashboard routes', () => {
  it('serves index.html with a strict CSP: same-origin scripts and calls, no framing, revalidated each load', async () => {
    const base = await serve(built);
    const res = await request(`${base}/`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toBe(DASHBOARD_CSP);
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
    ])
      expect(csp).toContain(directive);
    // No inline script or style, no eval.
    expect(csp).not.toContain('unsafe');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(await res.body.text()).toContain('app-Ab12Cd34.js');

    const again = await request(`${base}/`, { headers: { 'if-none-match': String(res.headers.etag) } });
    expect(again.statusCode).toBe(304);
    await again.body.dump();
  });

  it('serves hashed assets for a year, gzipped when the client takes it', async () => {
    const base = await serve(built);
    const plain = await request(`${base}/assets/app-Ab12Cd34.js`);
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(await plain.body.text()).toBe(APP_JS);

    const zipped = await request(`${base}/assets/app-Ab12Cd34.js`, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    const bytes = Buffer.from(await zipped.body.arrayBuffer());
    expect(bytes.length).toBeLessThan(APP_JS.length);
    expect(gunzipSync(bytes).toString('utf8')).toBe(APP_JS);
  });

  it('serves nothing but the build’s assets: other names and paths are 404', async () => {
    const base = await serve(built);
    for (const path of [
      '/assets/missing-00000000.js',
      '/assets/..%2Fsecret.txt',
      '/assets/.hidden.js',
      '/secret.txt',
      '/assets/app-Ab12Cd34.exe',
    ]) {
      const res = await request(`${base}${path}`);
      expect({ path, status: res.statusCode }).toEqual({ path, status: 404 });
      expect(await res.body.text()).not.toContain('outside assets/');
    }
  });

  it('says the dashboard is not built (503, a page a person can read) when there is no build', async () => {
    const missing = join(built, 'no-such-build');
    const base = await serve(missing);
    const res = await request(`${base}/`);
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    const html = await res.body.text();
    expect(html).toContain('The pertoken dashboard is not built');
    expect(html).toContain('npm run build');
    expect(html).toContain(missing);
  });
});
