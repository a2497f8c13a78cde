import type { Kysely } from 'kysely';
import { eventToRow, rowToReservation } from './rows.js';
import type { LedgerDatabase } from './schema.js';
import type { InterruptedPricer, Reservation, UsageEvent } from './types.js';
import { deleteReservations, insertEventRows } from './writes.js';

/**
 * Crash recovery: a reservation still present at start-up belongs to a request whose process died
 * before settling it. Each becomes an `interrupted` event with an estimated cost, in the same
 * transaction that deletes the reservation. An event that already exists under the reservation's id
 * is kept as it is and counted once; only the reservation goes.
 */

const RECOVERY_CHUNK = 500;

export const INTERRUPTED_ISSUE = 'interrupted: the process stopped before this request settled; usage estimated';

export function interruptedEvent(r: Reservation, pricer: InterruptedPricer): UsageEvent {
  const estimate = pricer(r);
  return {
    id: r.id,
    time: r.time,
    origin: 'recovery',
    source: r.source,
    tenant: r.tenant,
    project: r.project,
    user: r.user,
    feature: r.feature,
    key_id: r.key_id,
    trace_id: r.trace_id,
    tags: r.tags,
    provider: r.provider,
    requested_model: r.requested_model,
    // Which model would have served it is unknown; the contract says requested_model then.
    model: r.requested_model,
    route: r.route,
    status: 'interrupted',
    http_status: null,
    streamed: r.streamed,
    latency_ms: null,
    ttft_ms: null,
    buckets: { ...estimate.buckets },
    usage_source: 'estimated',
    cost_nano: estimate.cost_nano,
    price_ref: estimate.price_ref,
    raw_usage: null,
    usage_issues: [INTERRUPTED_ISSUE],
  };
}

/**
 * Settles every open reservation; returns how many interrupted events were written. Meant for
 * start-up, before the gateway serves: a reservation of a live request would be settled too.
 * Each chunk commits on its own, so a rerun after a failure continues where it stopped.
 */
export async function recoverInterrupted(db: Kysely<LedgerDatabase>, pricer: InterruptedPricer): Promise<number> {
  let recovered = 0;
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('reservations')
      .selectAll()
      .where('id', '>', after)
      .orderBy('id')
      .limit(RECOVERY_CHUNK)
      .execute();
    const last = rows[rows.length - 1];
    if (last === undefined) return recovered;
    // The pricer runs before the transaction: it is caller code and may throw.
    const events = rows.map((row) => eventToRow(interruptedEvent(rowToReservation(row), pricer)));
    const inserted = await db.transaction().execute(async (trx) => {
      const ids = await insertEventRows(trx, events);
      await deleteReservations(
        trx,
        rows.map((r) => r.id),
      );
      return ids;
    });
    recovered += inserted.size;
    after = last.id;
  }
}
