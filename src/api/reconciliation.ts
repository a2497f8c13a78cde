import { checkDayWindow, parseThreshold, reconcile, summarize, type ReconciliationJson } from '../attribution/index.js';
import { invalidInput } from '../errors.js';
import { sendJson, type RequestContext, type Router } from '../http/index.js';
import { parseInstant } from '../ledger/index.js';
import { readerOf, scopeTenant } from './auth.js';
import type { ApiDeps } from './deps.js';
import { withQuery } from './query.js';

/** Both reconciliation routes read the same window (api/query.ts). */
const RECONCILIATION_QUERY = ['from', 'to', 'threshold_pct', 'tenant'];

/**
 * Reconciliation (DESIGN §3): `GET /api/v1/reconciliation?from=&to=[&threshold_pct=0.5][&tenant=]`
 * and `GET /api/v1/reconciliation/summary` (per provider × month). Under /api/v1, so the read
 * guard of routes.ts admits the admin token or a `read` key; a read key sees its own tenant's rows
 * only (the unmapped billing_only rows belong to no tenant and are the admin's to see).
 */
export function registerReconciliationRoutes(router: Router, deps: ApiDeps): void {
  const run = (ctx: RequestContext): Promise<ReconciliationJson> => {
    const params = ctx.url.searchParams;
    const tenant = scopeTenant(readerOf(ctx), params.get('tenant'), 'tenant');
    const from = required(parseInstant(params.get('from'), 'from'), 'from');
    const to = required(parseInstant(params.get('to'), 'to'), 'to');
    checkDayWindow(from, to, 'from', 'to');
    const threshold = parseThreshold(params.get('threshold_pct'), 'threshold_pct');
    return reconcile(deps.store, deps.priceBook, { from, to, threshold, tenant });
  };

  router.on(
    'GET',
    '/api/v1/reconciliation',
    withQuery(RECONCILIATION_QUERY, async (ctx) => {
      sendJson(ctx.res, 200, await run(ctx));
    }),
  );

  router.on(
    'GET',
    '/api/v1/reconciliation/summary',
    withQuery(RECONCILIATION_QUERY, async (ctx) => {
      sendJson(ctx.res, 200, summarize(await run(ctx)));
    }),
  );
}

function required(value: Date | null, param: string): Date {
  if (value === null) throw invalidInput(param, 'is required (a UTC day, YYYY-MM-DD)');
  return value;
}
