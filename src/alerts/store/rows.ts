import { runbookPath, type AlertJson, type Change } from '../present.js';
import { SCOPE_KEYS, type Alert, type AlertKind, type AlertScope, type Severity, type Silence } from '../types.js';
import type { AlertsTable, OutboxTable, SilencesTable } from './schema.js';

/** Row <-> model conversion: the only place that knows how JSON and times are stored. */

type Int = number | bigint | string;

const num = (v: Int): number => Number(v);
const dateOrNull = (v: Int | null): Date | null => (v === null ? null : new Date(Number(v)));

/** An alert with the bookkeeping the lifecycle needs (not part of the API shape). */
export interface StoredAlert extends Alert {
  variant: string | null;
  seq: number;
  notified_at: Date | null;
  notified_sinks: string[];
  updated_at: Date;
}

/** A notification waiting in (or delivered from) the outbox. */
export interface OutboxEntry {
  id: string;
  batch: string;
  alert_id: string;
  seq: number;
  change: Change;
  sink: string;
  route: number;
  alert: AlertJson;
  created_at: Date;
  attempts: number;
  last_error: string | null;
  delivered_at: Date | null;
}

export type NewOutboxEntry = Pick<OutboxEntry, 'id' | 'batch' | 'alert_id' | 'seq' | 'change' | 'sink' | 'route'> & {
  alert: AlertJson;
  created_at: Date;
};

/** The scope with its keys in SCOPE_KEYS order and no empty values: one spelling per scope. */
export function canonicalScope(scope: AlertScope): AlertScope {
  const out: AlertScope = {};
  for (const key of SCOPE_KEYS) {
    const value = scope[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

export function alertToRow(a: StoredAlert): AlertsTable {
  return {
    id: a.id,
    fingerprint: a.fingerprint,
    open_fingerprint: a.state === 'firing' ? a.fingerprint : null,
    kind: a.kind,
    severity: a.severity,
    state: a.state,
    scope: JSON.stringify(canonicalScope(a.scope)),
    tenant: a.scope.tenant ?? null,
    variant: a.variant,
    summary: a.summary,
    value: a.value,
    baseline: a.baseline,
    started_ms: a.started_at.getTime(),
    ended_ms: a.ended_at === null ? null : a.ended_at.getTime(),
    updated_ms: a.updated_at.getTime(),
    seq: a.seq,
    notified_ms: a.notified_at === null ? null : a.notified_at.getTime(),
    notified_sinks: JSON.stringify(a.notified_sinks),
  };
}

export function rowToAlert(r: AlertsTable): StoredAlert {
  return {
    id: r.id,
    kind: r.kind as AlertKind,
    severity: r.severity as Severity,
    state: r.state === 'firing' ? 'firing' : 'resolved',
    scope: JSON.parse(r.scope) as AlertScope,
    started_at: new Date(num(r.started_ms)),
    ended_at: dateOrNull(r.ended_ms),
    summary: r.summary,
    value: Number(r.value),
    baseline: r.baseline === null ? null : Number(r.baseline),
    fingerprint: r.fingerprint,
    runbook: runbookPath(r.kind as AlertKind),
    variant: r.variant,
    seq: num(r.seq),
    notified_at: dateOrNull(r.notified_ms),
    notified_sinks: JSON.parse(r.notified_sinks) as string[],
    updated_at: new Date(num(r.updated_ms)),
  };
}

/** The API shape only: bookkeeping fields stay inside the store. */
export function publicAlert(a: StoredAlert): Alert {
  const {
    variant: _variant,
    seq: _seq,
    notified_at: _notified,
    notified_sinks: _sinks,
    updated_at: _updated,
    ...alert
  } = a;
  return alert;
}

export function silenceToRow(s: Silence): SilencesTable {
  return {
    id: s.id,
    matchers: JSON.stringify(s.matchers),
    from_ms: s.from.getTime(),
    to_ms: s.to.getTime(),
    reason: s.reason,
    created_ms: s.created_at.getTime(),
  };
}

export function rowToSilence(r: SilencesTable): Silence {
  return {
    id: r.id,
    matchers: JSON.parse(r.matchers) as Silence['matchers'],
    from: new Date(num(r.from_ms)),
    to: new Date(num(r.to_ms)),
    reason: r.reason,
    created_at: new Date(num(r.created_ms)),
  };
}

export function outboxToRow(e: NewOutboxEntry): OutboxTable {
  return {
    id: e.id,
    batch: e.batch,
    alert_id: e.alert_id,
    seq: e.seq,
    change: e.change,
    sink: e.sink,
    route: e.route,
    payload: JSON.stringify(e.alert),
    created_ms: e.created_at.getTime(),
    attempts: 0,
    last_attempt_ms: null,
    last_error: null,
    lease_token: null,
    lease_until_ms: null,
    delivered_ms: null,
  };
}

export function rowToOutbox(r: OutboxTable): OutboxEntry {
  return {
    id: r.id,
    batch: r.batch,
    alert_id: r.alert_id,
    seq: num(r.seq),
    change: r.change as Change,
    sink: r.sink,
    route: num(r.route),
    alert: JSON.parse(r.payload) as AlertJson,
    created_at: new Date(num(r.created_ms)),
    attempts: num(r.attempts),
    last_error: r.last_error,
    delivered_at: dateOrNull(r.delivered_ms),
  };
}
