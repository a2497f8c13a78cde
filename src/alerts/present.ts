/**
 * The JSON of alerts (DESIGN §3 "Alerts, forecasts and metrics"), shared by the API and every
 * sink: ISO times, the scope as given, numbers as numbers (value and baseline are statistics, not
 * money), and the runbook's path.
 */
import type { Alert, AlertKind, AlertScope, AlertState, Severity, Silence } from './types.js';

export interface AlertJson {
  id: string;
  kind: AlertKind;
  severity: Severity;
  state: AlertState;
  scope: AlertScope;
  started_at: string;
  ended_at: string | null;
  summary: string;
  value: number;
  baseline: number | null;
  fingerprint: string;
  /** docs/runbooks/<kind>.md; sinks prefix their base URL when one is configured. */
  runbook: string;
}

/** What a notification announces about its alert. */
export type Change = 'opened' | 'resolved' | 'escalated' | 'renotify';
export const CHANGES: readonly Change[] = ['opened', 'resolved', 'escalated', 'renotify'];

/**
 * One queued notification as sinks see it: the alert as it was at the change, the change, the
 * alert's change sequence number, and the outbox row id (`notification`) — with the alert id and
 * `seq`, what lets a receiver drop a retry it already took.
 */
export interface Notification {
  notification: string;
  change: Change;
  seq: number;
  alert: AlertJson;
}

export function runbookPath(kind: AlertKind): string {
  return `docs/runbooks/${kind}.md`;
}

export function presentAlert(alert: Alert): AlertJson {
  return {
    id: alert.id,
    kind: alert.kind,
    severity: alert.severity,
    state: alert.state,
    scope: { ...alert.scope },
    started_at: alert.started_at.toISOString(),
    ended_at: alert.ended_at === null ? null : alert.ended_at.toISOString(),
    summary: alert.summary,
    value: alert.value,
    baseline: alert.baseline,
    fingerprint: alert.fingerprint,
    runbook: alert.runbook,
  };
}

/** `GET /api/v1/alerts` */
export function presentAlerts(alerts: readonly Alert[]): { alerts: AlertJson[] } {
  return { alerts: alerts.map(presentAlert) };
}

export function presentSilence(silence: Silence): Record<string, unknown> {
  return {
    id: silence.id,
    matchers: { ...silence.matchers },
    from: silence.from.toISOString(),
    to: silence.to.toISOString(),
    reason: silence.reason,
    created_at: silence.created_at.toISOString(),
  };
}

/** A webhook's element for one notification: the alert's fields plus what changed. */
export function notificationJson(n: Notification): AlertJson & { change: Change; seq: number; notification: string } {
  return { ...n.alert, change: n.change, seq: n.seq, notification: n.notification };
}
