/**
 * Alert tables, in the same dialect-neutral types as the ledger and governance (text, bigint,
 * integer, double precision): JSON travels as text, times as epoch ms. SQLite hands integers back
 * as bigint, PostgreSQL's pool as bigint too; readers convert with Number().
 */

type Int = number | bigint | string;

export interface AlertsTable {
  /** Time-sortable id (ULID). */
  id: string;
  fingerprint: string;
  /**
   * The fingerprint while the alert fires, NULL once resolved. Unique: at most one open alert
   * per fingerprint, whichever replica opens it (both dialects allow many NULLs in a unique key).
   */
  open_fingerprint: string | null;
  kind: string;
  severity: string;
  state: string;
  /** The scope as JSON with sorted keys. */
  scope: string;
  /** scope.tenant, as a column: a tenant's read key lists its own alerts only. */
  tenant: string | null;
  variant: string | null;
  summary: string;
  value: number;
  baseline: number | null;
  started_ms: Int;
  ended_ms: Int | null;
  updated_ms: Int;
  /** Bumped by every state change (opened = 1, escalated, renotify, resolved); gaps allowed. */
  seq: Int;
  /** When a notification was last queued for it; null while it never was (silenced from birth). */
  notified_ms: Int | null;
  /** JSON array of the sink names it was ever notified to: its resolve goes to the same ones. */
  notified_sinks: string;
}

export interface SilencesTable {
  id: string;
  /** JSON object: scope keys and `kind`, each must equal the alert's. */
  matchers: string;
  from_ms: Int;
  to_ms: Int;
  reason: string;
  created_ms: Int;
}

export interface OutboxTable {
  /** Time-sortable id (ULID): a sink's delivery order; also the idempotency key sent to receivers. */
  id: string;
  /** One evaluation (one applyFindings call): its rows for one sink and route go in one delivery. */
  batch: string;
  alert_id: string;
  seq: Int;
  change: string;
  sink: string;
  /** Index of the route that chose the sink; -1 when there are no routes. */
  route: Int;
  /** The alert as presented at the change (JSON): receivers see the state it announces. */
  payload: string;
  created_ms: Int;
  attempts: Int;
  last_attempt_ms: Int | null;
  last_error: string | null;
  /** Claimed by one delivery attempt until lease_until_ms; a crashed claimer's rows come back. */
  lease_token: string | null;
  lease_until_ms: Int | null;
  delivered_ms: Int | null;
}

/** Per-sink delivery state shared by replicas: backoff after failures and the Alertmanager re-send clock. */
export interface SinksTable {
  sink: string;
  failures: Int;
  /** No delivery to the sink before this instant (backoff). */
  retry_ms: Int;
  /** Next Alertmanager re-send of its firing and recently resolved alerts. */
  resend_ms: Int;
}

export interface AlertDatabase {
  alert_alerts: AlertsTable;
  alert_silences: SilencesTable;
  alert_outbox: OutboxTable;
  alert_sinks: SinksTable;
}
