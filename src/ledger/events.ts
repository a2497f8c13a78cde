import type { Kysely } from 'kysely';
import { PertokenError } from '../errors.js';
import { resolveWindow } from './filters.js';
import { rowToEvent } from './rows.js';
import { toNumber, type LedgerDatabase } from './schema.js';
import type { EventPage, EventQuery, UsageEvent } from './types.js';

/** Event reads shared by every dialect: newest first, keyset-paged by (time_ms, id). */

export const MAX_PAGE = 1000;

interface Cursor {
  timeMs: number;
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.timeMs, c.id]), 'utf8').toString('base64url');
}

function decodeCursor(text: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch (err: unknown) {
    throw new PertokenError('invalid_request', 'cursor is not valid', { param: 'cursor', cause: err });
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    !Number.isSafeInteger(parsed[0]) ||
    typeof parsed[1] !== 'string'
  ) {
    throw new PertokenError('invalid_request', 'cursor is not valid', { param: 'cursor' });
  }
  return { timeMs: parsed[0] as number, id: parsed[1] };
}

/** Clamps a requested page size to 1..1000; a non-finite size gets 100. */
export function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return 100;
  return Math.min(MAX_PAGE, Math.max(1, Math.trunc(limit)));
}

export async function listEvents(db: Kysely<LedgerDatabase>, query: EventQuery): Promise<EventPage> {
  const limit = clampLimit(query.limit);
  const window = resolveWindow(query.from, query.to, query.filter ?? {});
  const cursor = query.cursor === undefined || query.cursor === '' ? undefined : decodeCursor(query.cursor);
  if (window.fromMs !== undefined && window.toMs !== undefined && window.fromMs >= window.toMs) {
    return { events: [], next_cursor: null };
  }
  let q = db.selectFrom('events').selectAll();
  if (window.fromMs !== undefined) q = q.where('time_ms', '>=', window.fromMs);
  if (window.toMs !== undefined) q = q.where('time_ms', '<', window.toMs);
  for (const [column, value] of window.dims) q = q.where(column, '=', value);
  if (cursor !== undefined) {
    // A row-value comparison (SQLite >= 3.15, PostgreSQL) is one range on the (time_ms, id) index.
    q = q.where((eb) => eb(eb.refTuple('time_ms', 'id'), '<', eb.tuple(cursor.timeMs, cursor.id)));
  }
  const rows = await q
    .orderBy('time_ms', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const next_cursor =
    rows.length > limit && last !== undefined ? encodeCursor({ timeMs: toNumber(last.time_ms), id: last.id }) : null;
  return { events: page.map(rowToEvent), next_cursor };
}

export async function getEvent(db: Kysely<LedgerDatabase>, id: string): Promise<UsageEvent | null> {
  const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : rowToEvent(row);
}
