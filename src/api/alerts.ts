import {
  parseAlertQuery,
  parseForecastScope,
  parseSilenceInput,
  presentSilence,
  type AlertService,
} from '../alerts/index.js';
import { invalidInput, PertokenError } from '../errors.js';
import { parseJsonBody, readBody, sendJson, type Router } from '../http/index.js';
import { parseInstant } from '../ledger/index.js';
import { readerOf, scopeTenant } from './auth.js';
import type { ApiDeps } from './deps.js';
import { withQuery } from './query.js';

/**
 * Alerts, silences and forecasts (DESIGN §3 "Alerts, forecasts and metrics"). The list and the
 * forecast are under /api/v1 (the admin token or a `read` key, which sees its own tenant); the
 * evaluate and silence endpoints are admin work under /api/v1/admin.
 */
export function registerAlertRoutes(router: Router, deps: ApiDeps, alerts: AlertService): void {
  router.on(
    'GET',
    '/api/v1/alerts',
    withQuery(['state', 'from', 'to', 'limit', 'tenant'], async (ctx) => {
      const query = parseAlertQuery(ctx.url.searchParams);
      const tenant = scopeTenant(readerOf(ctx), ctx.url.searchParams.get('tenant'), 'tenant');
      sendJson(ctx.res, 200, await alerts.list({ ...query, ...(tenant === null ? {} : { tenant }) }));
    }),
  );

  router.on(
    'GET',
    '/api/v1/forecast',
    withQuery(['scope', 'period', 'at'], async (ctx) => {
      const params = ctx.url.searchParams;
      const reader = readerOf(ctx);
      const period = params.get('period') ?? 'month';
      if (period !== 'month') throw invalidInput('period', 'only month is supported');
      const at = parseInstant(params.get('at'), 'at') ?? deps.now();
      const asked = params.get('scope') ?? (reader.kind === 'admin' ? 'all' : `tenant:${reader.tenant}`);
      const scope = parseForecastScope(asked);
      if (reader.kind !== 'admin') {
        // A read key forecasts its own tenant, or a budget of its tenant; never the organisation.
        const own = scope !== 'all' && 'tenant' in scope && scope.tenant === reader.tenant;
        const ownBudget =
          scope !== 'all' &&
          'budget' in scope &&
          (await deps.governance?.budgetDefinitions())?.some(
            (b) => b.id === scope.budget && b.scope.tenant === reader.tenant,
          ) === true;
        if (!own && !ownBudget)
          throw new PertokenError(
            'forbidden',
            `virtual key ${reader.key_id} may only forecast tenant "${reader.tenant}"`,
            {
              param: 'scope',
            },
          );
      }
      sendJson(ctx.res, 200, await alerts.forecast(scope, period, at));
    }),
  );

  router.on('POST', '/api/v1/admin/alerts/evaluate', async ({ req, res }) => {
    const body = await readBody(req, deps.maxBodyBytes);
    const parsed = body.length === 0 ? {} : parseJsonBody(body);
    const atText = typeof parsed === 'object' && parsed !== null ? (parsed as { at?: unknown }).at : undefined;
    if (atText !== undefined && typeof atText !== 'string') throw invalidInput('at', 'must be an ISO 8601 instant');
    const at = parseInstant(atText ?? null, 'at') ?? deps.now();
    sendJson(res, 200, await alerts.evaluate(at));
  });

  router.on('POST', '/api/v1/admin/silences', async ({ req, res }) => {
    const input = parseSilenceInput(parseJsonBody(await readBody(req, deps.maxBodyBytes)), deps.now());
    sendJson(res, 201, presentSilence(await alerts.silence(input)));
  });
}
