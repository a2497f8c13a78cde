import type { RouteHandler } from '../http/index.js';
import { checkQueryParams } from '../ledger/index.js';

/**
 * A GET route's handler behind the check of its query string: the route names every parameter it
 * takes (FILTERS for `filter[KEY]`), and anything else is a 400 naming it, before the handler runs.
 * `api/query.test.ts` walks every registered GET /api/v1 route to keep each one declared.
 */
export function withQuery(allowed: readonly string[], handler: RouteHandler): RouteHandler {
  return (ctx) => {
    checkQueryParams(ctx.url.searchParams, allowed);
    return handler(ctx);
  };
}
