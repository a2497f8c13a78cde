import type { Kysely, Transaction } from 'kysely';
import type { Alert, AlertKind, AlertState, Severity, Silence } from '../types.js';
import {
  alertToRow,
  outboxToRow,
  publicAlert,
  rowToAlert,
  rowToOutbox,
  rowToSilence,
  silenceToRow,
  type NewOutboxEntry,
  type OutboxEntry,
  type StoredAlert,
} from './rows.js';
import type { AlertDatabase, AlertsTable } from './schema.js';

type Db = Kysely<AlertDatabase> | Transaction<AlertDatabase>;

export interface AlertQuery {
  /** Default all. */
  state?: AlertState | 'all';
  /** Alerts whose firing overlaps [from, to): started before `to`, not ended before `from`. */
  from?: Date;
  to?: Date;
  /** Only alerts whose scope names this tenant. */
  tenant?: string;
  limit?: number;
}

export interface SinkState {
  failures: number;
  retry_at: Date;
  resend_at: Date;
}

/** A claimed delivery: the rows one attempt sends, and the token that settles or releases them. */
export interface Claim {
  token: string;
  entries: OutboxEntry[];
}

/** Reads of the alert tables, safe outside a transaction on both dialects. */
export class AlertReader {
  constructor(protected readonly db: Db) {}

  async getAlert(id: string): Promise<StoredAlert | null> {
    const row = await this.db.selectFrom('alert_alerts').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? rowToAlert(row) : null;
  }

  /** Firing alerts, oldest first. */
  async listOpen(): Promise<StoredAlert[]> {
    const rows = await this.db
      .selectFrom('alert_alerts')
      .selectAll()
      .where('state', '=', 'firing')
      .orderBy('started_ms')
      .orderBy('id')
      .execute();
    return rows.map(rowToAlert);
  }

  /** `GET /api/v1/alerts`: newest first. */
  async listAlerts(query: AlertQuery = {}): Promise<Alert[]> {
    let q = this.db.selectFrom('alert_alerts').selectAll();
    if (query.state !== undefined && query.state !== 'all') q = q.where('state', '=', query.state);
    if (query.to) q = q.where('started_ms', '<', query.to.getTime());
    if (query.tenant !== undefined) q = q.where('tenant', '=', query.tenant);
    if (query.from) {
      const from = query.from.getTime();
      q = q.where((eb) => eb.or([eb('ended_ms', 'is', null), eb('ended_ms', '>=', from)]));
    }
    const rows = await q
      .orderBy('started_ms', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit ?? 1000)
      .execute();
    return rows.map((r) => publicAlert(rowToAlert(r)));
  }

  /** Firing alerts and those resolved at or after `resolvedSince`: what an Alertmanager re-send re-asserts. */
  async listForResend(resolvedSince: Date): Promise<StoredAlert[]> {
    const rows = await this.db
      .selectFrom('alert_alerts')
      .selectAll()
      .where((eb) => eb.or([eb('state', '=', 'firing'), eb('ended_ms', '>=', resolvedSince.getTime())]))
      .orderBy('started_ms')
      .orderBy('id')
      .execute();
    return rows.map(rowToAlert);
  }

  /** Firing alerts per kind and severity (the `pertoken_alerts_firing` gauge). */
  async firingCounts(): Promise<Array<{ kind: AlertKind; severity: Severity; count: number }>> {
    const rows = await this.db
      .selectFrom('alert_alerts')
      .select(['kind', 'severity', (eb) => eb.fn.countAll().as('n')])
      .where('state', '=', 'firing')
      .groupBy(['kind', 'severity'])
      .orderBy('kind')
      .orderBy('severity')
      .execute();
    return rows.map((r) => ({ kind: r.kind as AlertKind, severity: r.severity as Severity, count: Number(r.n) }));
  }

  async getSilence(id: string): Promise<Silence | null> {
    const row = await this.db.selectFrom('alert_silences').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? rowToSilence(row) : null;
  }

  /** Silences in force at `activeAt` (from <= at < to), or every silence without it; newest first. */
  async listSilences(query: { activeAt?: Date; limit?: number } = {}): Promise<Silence[]> {
    let q = this.db.selectFrom('alert_silences').selectAll();
    if (query.activeAt) {
      const at = query.activeAt.getTime();
      q = q.where('from_ms', '<=', at).where('to_ms', '>', at);
    }
    const rows = await q
      .orderBy('created_ms', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit ?? 1000)
      .execute();
    return rows.map(rowToSilence);
  }

  /** Outbox rows, oldest first (inspection and tests). */
  async listOutbox(query: { alertId?: string; sink?: string; pending?: boolean } = {}): Promise<OutboxEntry[]> {
    let q = this.db.selectFrom('alert_outbox').selectAll();
    if (query.alertId !== undefined) q = q.where('alert_id', '=', query.alertId);
    if (query.sink !== undefined) q = q.where('sink', '=', query.sink);
    if (query.pending === true) q = q.where('delivered_ms', 'is', null);
    if (query.pending === false) q = q.where('delivered_ms', 'is not', null);
    return (await q.orderBy('id').execute()).map(rowToOutbox);
  }

  /** Notifications not yet delivered, per sink. */
  async pendingCounts(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('alert_outbox')
      .select(['sink', (eb) => eb.fn.countAll().as('n')])
      .where('delivered_ms', 'is', null)
      .groupBy('sink')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.sink, Number(r.n)]));
  }

  async sinkState(sink: string): Promise<SinkState> {
    const row = await this.db.selectFrom('alert_sinks').selectAll().where('sink', '=', sink).executeTakeFirst();
    return {
      failures: row ? Number(row.failures) : 0,
      retry_at: new Date(row ? Number(row.retry_ms) : 0),
      resend_at: new Date(row ? Number(row.resend_ms) : 0),
    };
  }
}

/** Writes; run inside AlertStore.write() so SQLite takes its write lock first and PostgreSQL commits atomically. */
export class AlertRepo extends AlertReader {
  /** Opens an alert unless one is already open for its fingerprint; whether this call opened it. */
  async insertOpen(alert: StoredAlert): Promise<boolean> {
    const result = await this.db
      .insertInto('alert_alerts')
      .values(alertToRow(alert))
      .onConflict((oc) => oc.column('open_fingerprint').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /**
   * Changes a firing alert; `bumpSeq` marks a state change. Null when the alert is no longer
   * firing (another evaluation resolved it first): the caller then has nothing to announce.
   */
  async updateFiring(
    id: string,
    set: Partial<Omit<AlertsTable, 'id' | 'seq'>>,
    bumpSeq: boolean,
  ): Promise<StoredAlert | null> {
    const row = await this.db
      .updateTable('alert_alerts')
      .set((eb) => ({ ...set, ...(bumpSeq ? { seq: eb('seq', '+', 1) } : {}) }))
      .where('id', '=', id)
      .where('state', '=', 'firing')
      .returningAll()
      .executeTakeFirst();
    return row ? rowToAlert(row) : null;
  }

  /** Queues notifications; a (alert, seq, sink) already queued is skipped. */
  async queue(entries: readonly NewOutboxEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db
      .insertInto('alert_outbox')
      .values(entries.map(outboxToRow))
      .onConflict((oc) => oc.columns(['alert_id', 'seq', 'sink']).doNothing())
      .execute();
  }

  async insertSilence(silence: Silence): Promise<void> {
    await this.db.insertInto('alert_silences').values(silenceToRow(silence)).execute();
  }

  /** Ends a silence at `at` (if it ends later); whether it existed. */
  async expireSilence(id: string, at: Date): Promise<boolean> {
    const existing = await this.getSilence(id);
    if (!existing) return false;
    if (existing.to > at)
      await this.db.updateTable('alert_silences').set({ to_ms: at.getTime() }).where('id', '=', id).execute();
    return true;
  }

  /**
   * Claims the oldest deliverable group of `sink`: its first pending, unleased row's batch and
   * route, at most `limit` rows in id order. A lease that ran out (a claimer died) counts as free.
   */
  async claimGroup(sink: string, limit: number, token: string, now: Date, leaseUntil: Date): Promise<Claim | null> {
    const nowMs = now.getTime();
    const first = await this.db
      .selectFrom('alert_outbox')
      .select(['batch', 'route'])
      .where('sink', '=', sink)
      .where('delivered_ms', 'is', null)
      .where((eb) => eb.or([eb('lease_until_ms', 'is', null), eb('lease_until_ms', '<=', nowMs)]))
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    if (!first) return null;
    await this.db
      .updateTable('alert_outbox')
      .set({ lease_token: token, lease_until_ms: leaseUntil.getTime() })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('alert_outbox')
          .select('id')
          .where('sink', '=', sink)
          .where('batch', '=', first.batch)
          .where('route', '=', first.route)
          .where('delivered_ms', 'is', null)
          .orderBy('id')
          .limit(limit),
      )
      .where('delivered_ms', 'is', null)
      .where((eb) => eb.or([eb('lease_until_ms', 'is', null), eb('lease_until_ms', '<=', nowMs)]))
      .execute();
    const rows = await this.db
      .selectFrom('alert_outbox')
      .selectAll()
      .where('lease_token', '=', token)
      .orderBy('id')
      .execute();
    return rows.length === 0 ? null : { token, entries: rows.map(rowToOutbox) };
  }

  /** Marks a claim delivered (after a 2xx); 0 when the lease was lost and someone else owns the rows. */
  async settle(token: string, now: Date): Promise<number> {
    const result = await this.db
      .updateTable('alert_outbox')
      .set((eb) => ({
        delivered_ms: now.getTime(),
        last_attempt_ms: now.getTime(),
        attempts: eb('attempts', '+', 1),
        last_error: null,
        lease_token: null,
        lease_until_ms: null,
      }))
      .where('lease_token', '=', token)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Gives a failed claim back, with what went wrong. */
  async release(token: string, now: Date, error: string): Promise<void> {
    await this.db
      .updateTable('alert_outbox')
      .set((eb) => ({
        last_attempt_ms: now.getTime(),
        attempts: eb('attempts', '+', 1),
        last_error: error.slice(0, 1000),
        lease_token: null,
        lease_until_ms: null,
      }))
      .where('lease_token', '=', token)
      .execute();
  }

  /** Deletes delivered rows older than `before`; how many. */
  async pruneDelivered(before: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('alert_outbox')
      .where('delivered_ms', 'is not', null)
      .where('delivered_ms', '<', before.getTime())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async putSinkState(sink: string, state: SinkState): Promise<void> {
    const row = {
      sink,
      failures: state.failures,
      retry_ms: state.retry_at.getTime(),
      resend_ms: state.resend_at.getTime(),
    };
    await this.db
      .insertInto('alert_sinks')
      .values(row)
      .onConflict((oc) =>
        oc.column('sink').doUpdateSet({ failures: row.failures, retry_ms: row.retry_ms, resend_ms: row.resend_ms }),
      )
      .execute();
  }
}
