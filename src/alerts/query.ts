/** `GET /api/v1/alerts?state=firing|resolved|all&from=&to=&limit=`: the query string as an AlertQuery. */
import { invalidInput } from '../errors.js';
import { parseInstant, parseLimit } from '../ledger/index.js';
import type { AlertQuery } from './store/index.js';

const STATES = ['firing', 'resolved', 'all'] as const;

/** Default state `all`, limit 1000 (at most 10 000); `from`/`to` select alerts whose firing overlaps [from, to). */
export function parseAlertQuery(params: URLSearchParams): AlertQuery {
  const state = params.get('state') ?? 'all';
  if (!(STATES as readonly string[]).includes(state)) throw invalidInput('state', 'must be firing, resolved or all');
  const from = parseInstant(params.get('from'), 'from');
  const to = parseInstant(params.get('to'), 'to');
  if (from && to && to <= from) throw invalidInput('to', 'must be after from');
  return {
    state: state as AlertQuery['state'],
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    limit: parseLimit(params.get('limit'), 1000, 10_000),
  };
}
