import type { Kysely } from 'kysely';
import { PertokenError } from '../errors.js';
import { resolveWindow } from './filters.js';
import { rowToEvent } from './rows.js';
import { toNumber, type LedgerDatabase } from './schema.js';
import type { GroupKey, UsageEvent } from './types.js';

/**
 * Streaming reads for export: oldest first, keyset-paged by (time_ms, id) so that memory holds one
 * page whatever the range, and a page costs the same at the end of 10M rows as at the start (no
 * OFFSET). Rows inserted behind the cursor while a scan runs are not revisited; rows ahead of it
 * are picked up.
 */

export const DEFAULT_SCAN_PAGE = 1000;

export interface ScanQuery {
  from: Date;
  to: Date;
  filter?: Partial<Record<GroupKey, string>>;
  /** Rows per round trip. Default 1000. */
  pageSize?: number;
}

export async function* scanEvents(db: Kysely<LedgerDatabase>, query: ScanQuery): AsyncGenerator<UsageEvent[]> {
  const pageSize = query.pageSize ?? DEFAULT_SCAN_PAGE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new PertokenError('invalid_request', `pageSize must be a positive integer, got ${String(pageSize)}`, {
      param: 'pageSize',
    });
  }
  const window = resolveWindow(query.from, query.to, query.filter ?? {});
  const fromMs = window.fromMs ?? 0;
  const toMs = window.toMs ?? 0;
  let cursor: { timeMs: number; id: string } | null = null;
  while (fromMs < toMs) {
    let q = db.selectFrom('events').selectAll().where('time_ms', '>=', fromMs).where('time_ms', '<', toMs);
    for (const [column, value] of window.dims) q = q.where(column, '=', value);
    if (cursor !== null) {
      const c = cursor;
      q = q.where((eb) => eb(eb.refTuple('time_ms', 'id'), '>', eb.tuple(c.timeMs, c.id)));
    }
    const rows = await q.orderBy('time_ms', 'asc').orderBy('id', 'asc').limit(pageSize).execute();
    const last = rows[rows.length - 1];
    if (last === undefined) return;
    cursor = { timeMs: toNumber(last.time_ms), id: last.id };
    yield rows.map(rowToEvent);
    if (rows.length < pageSize) return;
  }
}
