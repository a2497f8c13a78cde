/**
 * Alertmanager v2: `POST {url}/api/v2/alerts` with a JSON array of postableAlert (reference §(b)).
 * Labels identify an alert to Alertmanager (alertname, severity, the scope, the fingerprint);
 * annotations carry the rest. A firing alert's endsAt is 3 re-send periods ahead of now, so it
 * stays firing across a missed re-send or two and ends by itself when pertoken goes away; a
 * resolved one carries its real end, which Alertmanager takes as "resolved".
 */
import type { AlertJson, Notification } from '../present.js';
import { runbookUrl, type AlertSink, type SinkOptions } from './types.js';

export interface AlertmanagerSinkConfig {
  name: string;
  /** The base address; pertoken posts to `/api/v2/alerts` under it. */
  url: string;
  /** `alerts.alertmanager_resend_s` */
  resendS: number;
}

export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

/** spend_anomaly -> SpendAnomaly, the usual Prometheus alert-name style. */
export function alertName(kind: string): string {
  return kind
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

export function postableAlert(alert: AlertJson, now: Date, resendS: number, runbookBase?: string): PostableAlert {
  const endsAt =
    alert.state === 'firing' || alert.ended_at === null
      ? new Date(now.getTime() + 3 * resendS * 1000).toISOString()
      : alert.ended_at;
  const labels: Record<string, string> = {
    alertname: alertName(alert.kind),
    severity: alert.severity,
    fingerprint: alert.fingerprint,
  };
  for (const [key, value] of Object.entries(alert.scope)) if (value !== undefined) labels[key] = value;
  return {
    labels,
    annotations: {
      summary: alert.summary,
      runbook_url: runbookUrl(alert.runbook, runbookBase),
      value: String(alert.value),
      baseline: alert.baseline === null ? '' : String(alert.baseline),
      alert_id: alert.id,
    },
    startsAt: alert.started_at,
    endsAt,
  };
}

export function alertmanagerSink(config: AlertmanagerSinkConfig, options: SinkOptions = {}): AlertSink {
  const url = `${config.url.replace(/\/+$/, '')}/api/v2/alerts`;
  return {
    name: config.name,
    kind: 'alertmanager',
    maxBatch: 100,
    resendMs: config.resendS * 1000,
    render(notifications: readonly Notification[], ctx) {
      const alerts = notifications.map((n) => postableAlert(n.alert, ctx.now, config.resendS, options.runbookBaseUrl));
      return {
        url,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'pertoken-alerts',
          'x-pertoken-delivery': ctx.delivery,
        },
        body: JSON.stringify(alerts),
      };
    },
  };
}
