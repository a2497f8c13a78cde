import type { Query } from './api.js';
import { filtersOf, type Route } from './route.js';
import { isoOrNull, type Window } from './time.js';

/** from/to of a window and the route's filters, as the query API takes them. */
export function windowQuery(window: Window, route: Route, extra: Query = {}): Query {
  const query: Query = { from: isoOrNull(window.from), to: isoOrNull(window.to) };
  for (const [k, v] of Object.entries(filtersOf(route.params))) query[`filter[${k}]`] = v;
  return { ...query, ...extra };
}
