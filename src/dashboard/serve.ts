import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { PertokenError } from '../errors.js';
import type { RequestContext, Router } from '../http/index.js';

/**
 * The dashboard's HTML may load only this origin's scripts and styles and call only this origin:
 * no inline script, no inline style. Charts set styles through the CSSOM (`element.style`), which
 * CSP does not restrict, and ECharts' tooltips are drawn on its canvas (richText), since its HTML
 * tooltips carry style attributes.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

/** Vite's hashed file names; anything else (a path, a dot file) is not an asset. */
const ASSET_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.(?:js|css|svg|png|woff2|json)$/;

export interface DashboardOptions {
  /** The built app (index.html + assets/); default dist/dashboard/app of this package. */
  dir?: string;
}

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer | null;
  etag: string;
}

/** The built app's default place: dist/dashboard/app, found the same from src/ (tests) and dist/. */
export function defaultDashboardDir(): string {
  return fileURLToPath(new URL('../../dist/dashboard/app/', import.meta.url));
}

/**
 * Serves the dashboard: `GET /` (index.html, revalidated on every load) and `GET /assets/:file`
 * (content-hashed by the build, so cached for a year and kept in memory once read). Without a
 * build the page says so with a 503, rather than a blank page or a JSON 404.
 */
export function registerDashboardRoutes(router: Router, options: DashboardOptions = {}): void {
  const dir = options.dir ?? defaultDashboardDir();
  const assets = new Map<string, Asset>();

  router.on('GET', '/', async ({ req, res }) => {
    let html: Buffer;
    try {
      html = await readFile(join(dir, 'index.html'));
    } catch (err: unknown) {
      if (!isMissing(err)) throw err;
      sendNotBuilt(res, dir);
      return;
    }
    const asset = toAsset('.html', html);
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, { ...PAGE_HEADERS, etag: asset.etag, 'cache-control': 'no-cache' }).end();
      return;
    }
    send({ req, res }, asset, { ...PAGE_HEADERS, 'cache-control': 'no-cache' });
  });

  router.on('GET', '/assets/:file', async ({ req, res, params }) => {
    const name = params.file ?? '';
    if (!ASSET_NAME.test(name)) throw new PertokenError('not_found', `no dashboard asset "${name}"`);
    let asset = assets.get(name);
    if (asset === undefined) {
      let body: Buffer;
      try {
        body = await readFile(join(dir, 'assets', name));
      } catch {
        throw new PertokenError('not_found', `no dashboard asset "${name}"`);
      }
      asset = toAsset(extname(name), body);
      assets.set(name, asset);
    }
    send({ req, res }, asset, {
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    });
  });
}

function toAsset(ext: string, body: Buffer): Asset {
  const type = ext === '.html' ? 'text/html; charset=utf-8' : (TYPES[ext] ?? 'application/octet-stream');
  // Text compresses well; images and fonts are compressed already.
  const gzip = /^(text|application\/json|image\/svg)/.test(type) && body.length > 1024 ? gzipSync(body) : null;
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { type, body, gzip, etag };
}

function send({ req, res }: Pick<RequestContext, 'req' | 'res'>, asset: Asset, headers: Record<string, string>): void {
  const gzip = asset.gzip !== null && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip && asset.gzip ? asset.gzip : asset.body;
  res.writeHead(200, {
    ...headers,
    'content-type': asset.type,
    'content-length': body.length,
    etag: asset.etag,
    vary: 'accept-encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  res.end(body);
}

function sendNotBuilt(res: ServerResponse, dir: string): void {
  const body = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pertoken: dashboard not built</title></head>',
    '<body><main><h1>The pertoken dashboard is not built</h1>',
    `<p>No <code>index.html</code> in <code>${escapeHtml(dir)}</code>. Build it with <code>npm run build</code>`,
    '(or <code>npx vite build --config src/dashboard/vite.config.ts</code>) and reload this page.</p>',
    '<p>The API under <code>/api/v1</code> and the gateway work without it.</p></main></body></html>',
  ].join('\n');
  res.writeHead(503, {
    ...PAGE_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'retry-after': '60',
  });
  res.end(body);
}

function isMissing(err: unknown): boolean {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
