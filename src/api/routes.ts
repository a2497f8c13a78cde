import { PertokenError } from '../errors.js';
import { parseJsonBody, readBody, sendJson, sendText, type Router } from '../http/index.js';
import {
  FILTERS,
  parseFilters,
  parseGroupBy,
  parseInstant,
  parseLimit,
  parseRange,
  parseSeriesOptions,
  parseTopOptions,
  presentCosts,
  presentSeries,
  rankCostRows,
  seriesCostQuery,
  presentEvent,
  type GroupKey,
} from '../ledger/index.js';
import type { Reader } from '../governance/index.js';
import { registerAdminRoutes } from './admin.js';
import { registerAlertRoutes } from './alerts.js';
import { registerAttributionRoutes } from './attribution.js';
import { registerBillingRoutes } from './billing.js';
import { registerReconciliationRoutes } from './reconciliation.js';
import type { ApiDeps } from './deps.js';
import { adminGuard, ingestGuard, metricsGuard, readerOf, readGuard, scopeTenant } from './auth.js';
import { parseEventBatch, type IngestReply } from './ingest.js';
import { costLinesOf } from './cost-lines.js';
import { withQuery } from './query.js';

/** The query parameters of each GET route here (api/query.ts). */
const COSTS_QUERY = ['from', 'to', 'group_by', 'sort', 'top', FILTERS];
const EVENTS_QUERY = ['from', 'to', 'cursor', 'limit', FILTERS];
const SERIES_QUERY = ['from', 'to', 'step', 'tz', 'group_by', 'top', FILTERS];

export function registerApiRoutes(router: Router, deps: ApiDeps): void {
  // Guards first, by prefix; admin before read so a read key never reaches the admin handlers.
  router.use('/api/v1/admin', adminGuard(deps));
  router.use('/api/v1', readGuard(deps));
  router.use('/v1/usage', ingestGuard(deps));
  router.use('/metrics', metricsGuard(deps));

  router.on('POST', '/v1/usage/events', async ({ req, res }) => {
    const body = parseJsonBody(await readBody(req, deps.maxBodyBytes));
    const { events, rejected } = parseEventBatch(body, { book: deps.priceBook, now: deps.now() });
    // Ingested spend counts against budgets too: counters are seeded before the insert, added after.
    const counters = events.length > 0 && deps.governance ? await deps.governance.beforeIngest(events) : null;
    const stored = events.length > 0 ? await deps.store.insertEvents(events) : { accepted: [], duplicate: [] };
    if (counters && deps.governance) {
      await deps.governance
        .afterIngest(events, counters, new Set(stored.accepted))
        .catch((err: unknown) => deps.log.error({ err }, 'ingested events not added to budget counters'));
    }
    // Ingested spend is spend: the cost and token counters (and the burn-rate rules on them) count it too.
    const accepted = new Set(stored.accepted);
    for (const event of events) if (accepted.has(event.id)) deps.metrics.eventRecorded(event);
    deps.metrics.eventsIngested('accepted', stored.accepted.length);
    deps.metrics.eventsIngested('duplicate', stored.duplicate.length);
    deps.metrics.eventsIngested('rejected', rejected.length);
    const reply: IngestReply = { accepted: stored.accepted, duplicate: stored.duplicate, rejected };
    sendJson(res, 200, reply);
  });

  router.on(
    'GET',
    '/api/v1/costs',
    withQuery(COSTS_QUERY, async (ctx) => {
      const { res, url } = ctx;
      const reader = readerOf(ctx);
      const { from, to } = parseRange(url.searchParams, deps.now());
      const query = {
        from,
        to,
        groupBy: parseGroupBy(url.searchParams.get('group_by')),
        filter: tenantFilter(reader, parseFilters(url.searchParams)),
      };
      const ranking = parseTopOptions(url.searchParams);
      sendJson(res, 200, presentCosts(query, rankCostRows(await deps.store.queryCosts(query), ranking)));
    }),
  );

  router.on(
    'GET',
    '/api/v1/timeseries',
    withQuery(SERIES_QUERY, async (ctx) => {
      const params = ctx.url.searchParams;
      const range = parseRange(params, deps.now());
      const query = {
        ...range,
        ...parseSeriesOptions(params, range),
        filter: tenantFilter(readerOf(ctx), parseFilters(params)),
      };
      sendJson(ctx.res, 200, presentSeries(query, await deps.store.queryCosts(seriesCostQuery(query))));
    }),
  );

  router.on(
    'GET',
    '/api/v1/events',
    withQuery(EVENTS_QUERY, async (ctx) => {
      const reader = readerOf(ctx);
      const params = ctx.url.searchParams;
      const from = parseInstant(params.get('from'), 'from');
      const to = parseInstant(params.get('to'), 'to');
      const cursor = params.get('cursor');
      const page = await deps.store.listEvents({
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        ...(cursor ? { cursor } : {}),
        filter: tenantFilter(reader, parseFilters(params)),
        limit: parseLimit(params.get('limit'), 100, 1000),
      });
      sendJson(ctx.res, 200, { events: page.events.map(presentEvent), next_cursor: page.next_cursor });
    }),
  );

  router.on(
    'GET',
    '/api/v1/events/:id',
    withQuery([], async (ctx) => {
      const { res, params } = ctx;
      const reader = readerOf(ctx);
      const event = await deps.store.getEvent(params.id ?? '');
      if (!event) throw new PertokenError('not_found', `no event with id "${params.id}"`, { param: 'id' });
      scopeTenant(reader, event.tenant, 'id');
      sendJson(res, 200, { ...presentEvent(event), cost_lines: costLinesOf(deps.priceBook, event) });
    }),
  );

  registerAdminRoutes(router, deps);
  registerAttributionRoutes(router, deps);
  registerBillingRoutes(router, deps);
  registerReconciliationRoutes(router, deps);
  if (deps.alerts) registerAlertRoutes(router, deps, deps.alerts);

  router.on('GET', '/metrics', async ({ res }) => {
    const { contentType, body } = await deps.metrics.exposition();
    sendText(res, 200, body, contentType);
  });

  router.on('GET', '/healthz', ({ res }) => sendJson(res, 200, { status: 'ok' }));

  router.on('GET', '/readyz', async ({ res }) => {
    try {
      await deps.store.ping();
      sendJson(res, 200, { status: 'ready' });
    } catch (err) {
      deps.log.warn({ err }, 'readiness check failed');
      sendJson(res, 503, new PertokenError('store_unavailable', 'the ledger is not reachable').toJSON());
    }
  });
}

/** A `read` key sees its own tenant: filter[tenant] is forced to it (another tenant is a 403). */
function tenantFilter(reader: Reader, filter: Partial<Record<GroupKey, string>>): Partial<Record<GroupKey, string>> {
  const tenant = scopeTenant(reader, filter.tenant, 'filter[tenant]');
  return tenant === null ? filter : { ...filter, tenant };
}
