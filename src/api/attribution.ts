import { gpuPoolSchema } from '../config/index.js';
import type { AttributionService } from '../attribution/index.js';
import { PertokenError } from '../errors.js';
import { parseJsonBody, readBody, sendJson, writeChunk, type Router } from '../http/index.js';
import { parseRange } from '../ledger/index.js';
import { readerOf, scopeTenant } from './auth.js';
import type { ApiDeps } from './deps.js';
import { withQuery } from './query.js';

/**
 * Full cost and chargeback (DESIGN §3): statements, the pools report, the FOCUS export and run-time pools. Guards
 * are the prefix middleware of routes.ts; a `read` key sees only its own tenant's statement.
 */
export function registerAttributionRoutes(router: Router, deps: ApiDeps): void {
  const service = (): AttributionService => {
    if (!deps.attribution) throw new PertokenError('not_found', 'chargeback is not enabled on this server');
    return deps.attribution;
  };

  router.on(
    'GET',
    '/api/v1/chargeback',
    withQuery(['period', 'tenant'], async (ctx) => {
      const params = ctx.url.searchParams;
      const tenant = scopeTenant(readerOf(ctx), params.get('tenant'), 'tenant');
      const period = params.get('period') ?? currentMonth(deps.now());
      sendJson(ctx.res, 200, await service().chargeback(period, tenant));
    }),
  );

  router.on(
    'GET',
    '/api/v1/pools',
    withQuery(['from', 'to'], async (ctx) => {
      sendJson(ctx.res, 200, await service().poolsReport(parseRange(ctx.url.searchParams, deps.now())));
    }),
  );

  // FOCUS 1.2 as CSV, streamed: the ledger is read a day at a time and written with back-pressure.
  router.on(
    'GET',
    '/api/v1/focus',
    withQuery(['from', 'to', 'tenant'], async (ctx) => {
      const { res, url } = ctx;
      const tenant = scopeTenant(readerOf(ctx), url.searchParams.get('tenant'), 'tenant');
      const window = parseRange(url.searchParams, deps.now());
      const chunks = await service().focus(window, tenant);
      const name = `focus-${window.from.toISOString().slice(0, 10)}-${window.to.toISOString().slice(0, 10)}.csv`;
      res.writeHead(200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${name}"`,
      });
      for await (const chunk of chunks) {
        if (res.destroyed) break;
        await writeChunk(res, Buffer.from(chunk));
      }
      res.end();
    }),
  );

  router.on(
    'GET',
    '/api/v1/admin/pools',
    withQuery([], ({ res }) => {
      sendJson(res, 200, { pools: service().poolConfigs() });
    }),
  );

  router.on('POST', '/api/v1/admin/pools', async ({ req, res }) => {
    const parsed = gpuPoolSchema.safeParse(parseJsonBody(await readBody(req, deps.maxBodyBytes)));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PertokenError('invalid_request', issue?.message ?? 'invalid pool', {
        param: issue?.path.join('.') || null,
      });
    }
    const { created } = await service().putPool(parsed.data);
    sendJson(res, created ? 201 : 200, parsed.data);
  });
}

function currentMonth(now: Date): string {
  return now.toISOString().slice(0, 7);
}
