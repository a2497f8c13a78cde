import type { Kysely } from 'kysely';
import { RollupBatch, applyRollups } from './rollups.js';
import type { EventRow, ReservationRow } from './rows.js';
import type { LedgerDatabase } from './schema.js';

/**
 * Write statements shared by every dialect (PostgreSQL's path; SQLite writes the same rows through
 * prepared statements, see sqlite/bulk-writer.ts). All functions run inside the caller's
 * transaction; none commits. Multi-row statements keep a 500-item group commit to a handful of
 * round trips.
 */

/** ~45 parameters per event row: 250 rows stay below SQLite's 32766 and pg's 65535 limits. */
const EVENT_CHUNK = 250;
const ID_CHUNK = 500;

export type WriteOp = { kind: 'reserve'; row: ReservationRow } | { kind: 'settle'; row: EventRow };

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Inserts events with ON CONFLICT (id) DO NOTHING and adds only the rows actually inserted to the
 * rollups, so a re-sent or re-settled event never counts twice. Duplicates within `rows` keep the
 * first occurrence. Returns the ids inserted.
 */
export async function insertEventRows(db: Kysely<LedgerDatabase>, rows: readonly EventRow[]): Promise<Set<string>> {
  const unique = new Map<string, EventRow>();
  for (const row of rows) if (!unique.has(row.id)) unique.set(row.id, row);
  const inserted = new Set<string>();
  // Sorted by id for the same reason rollup deltas are sorted: a stable lock order across writers.
  const ordered = [...unique.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const chunk of chunks(ordered, EVENT_CHUNK)) {
    const returned = await db
      .insertInto('events')
      .values(chunk)
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    for (const r of returned) inserted.add(r.id);
  }
  const rollups = new RollupBatch();
  for (const row of unique.values()) if (inserted.has(row.id)) rollups.addEvent(row);
  await applyRollups(db, rollups);
  return inserted;
}

export async function deleteReservations(db: Kysely<LedgerDatabase>, ids: readonly string[]): Promise<void> {
  for (const chunk of chunks([...ids].sort(), ID_CHUNK)) {
    await db.deleteFrom('reservations').where('id', 'in', chunk).execute();
  }
}

async function insertReservations(db: Kysely<LedgerDatabase>, rows: readonly ReservationRow[]): Promise<void> {
  // ~15 parameters per row.
  for (const chunk of chunks(rows, ID_CHUNK)) {
    await db
      .insertInto('reservations')
      .values(chunk)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
}

/**
 * Applies a group-commit batch in arrival order. Consecutive operations of one kind become one
 * multi-row statement; a kind change starts a new run, so "reserve X then settle X" in one batch
 * leaves no reservation behind.
 */
export async function applyWriteOps(db: Kysely<LedgerDatabase>, ops: readonly WriteOp[]): Promise<void> {
  let i = 0;
  while (i < ops.length) {
    const kind = ops[i]!.kind;
    let j = i;
    while (j < ops.length && ops[j]!.kind === kind) j++;
    const run = ops.slice(i, j);
    if (kind === 'reserve') {
      await insertReservations(
        db,
        run.flatMap((op) => (op.kind === 'reserve' ? [op.row] : [])),
      );
    } else {
      const rows = run.flatMap((op) => (op.kind === 'settle' ? [op.row] : []));
      await insertEventRows(db, rows);
      await deleteReservations(
        db,
        rows.map((r) => r.id),
      );
    }
    i = j;
  }
}
