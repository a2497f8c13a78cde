import { importBilling, parseBillingFormat, textSource } from '../attribution/index.js';
import { invalidInput } from '../errors.js';
import { readBody, sendJson, type Router } from '../http/index.js';
import type { ApiDeps } from './deps.js';

/**
 * Billing imports (DESIGN §3): `POST /api/v1/admin/billing/imports?format=…[&name=…]`, body = one
 * file. Under /api/v1/admin so the admin prefix guard of routes.ts covers it; DESIGN's
 * /api/v1/billing/imports is deliberately not registered, since only a per-handler check could
 * keep `read` keys off it there. The reply is the import summary, rejected rows included (200:
 * the request was carried out; a refused file is reported in `rejected`, as the CLI does).
 */
export function registerBillingRoutes(router: Router, deps: ApiDeps): void {
  router.on('POST', '/api/v1/admin/billing/imports', async ({ req, res, url }) => {
    const format = parseBillingFormat(url.searchParams.get('format'), 'format');
    const name = url.searchParams.get('name') ?? 'body';
    if (name.length > 256) throw invalidInput('name', 'at most 256 characters');
    const body = await readBody(req, deps.maxBodyBytes);
    const summary = await importBilling({
      store: deps.store,
      accounts: deps.billingAccounts ?? [],
      format,
      sources: [textSource(name, body.toString('utf8'))],
      now: deps.now(),
    });
    sendJson(res, 200, summary);
  });
}
