/**
 * Slack incoming webhook: `{text, blocks}` — `text` is the notification line phones and clients
 * without blocks show; one section block per alert with its severity, change, summary, scope and
 * runbook. Slack caps a message at 50 blocks, hence maxBatch 40.
 */
import type { Notification } from '../present.js';
import { runbookUrl, type AlertSink, type SinkOptions } from './types.js';

export interface SlackSinkConfig {
  name: string;
  url: string;
}

/** A section's text is capped at 3000 characters by Slack. */
const SECTION_MAX = 2900;

export function slackSink(config: SlackSinkConfig, options: SinkOptions = {}): AlertSink {
  return {
    name: config.name,
    kind: 'slack',
    maxBatch: 40,
    render(notifications) {
      const blocks = notifications.map((n) => ({
        type: 'section',
        text: { type: 'mrkdwn', text: sectionText(n, options.runbookBaseUrl).slice(0, SECTION_MAX) },
      }));
      return {
        url: config.url,
        headers: { 'content-type': 'application/json', 'user-agent': 'pertoken-alerts' },
        body: JSON.stringify({ text: headline(notifications), blocks }),
      };
    },
  };
}

function headline(notifications: readonly Notification[]): string {
  if (notifications.length === 1) {
    const n = notifications[0] as Notification;
    return escape(`pertoken ${n.alert.severity} ${n.alert.kind} ${n.change}: ${n.alert.summary}`);
  }
  const counts = new Map<string, number>();
  for (const n of notifications) counts.set(n.change, (counts.get(n.change) ?? 0) + 1);
  const parts = [...counts].map(([change, count]) => `${count} ${change}`);
  return `pertoken: ${notifications.length} alerts (${parts.join(', ')})`;
}

function sectionText(n: Notification, base: string | undefined): string {
  const icon =
    n.change === 'resolved' ? ':white_check_mark:' : n.alert.severity === 'page' ? ':rotating_light:' : ':warning:';
  const scope = Object.entries(n.alert.scope)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const link = runbookUrl(n.alert.runbook, base);
  const runbook = /^https?:\/\//.test(link) ? `<${link}|Runbook>` : `Runbook: \`${escape(link)}\``;
  return [
    `${icon} *${n.alert.severity.toUpperCase()}* · *${n.alert.kind}* ${n.change}`,
    escape(n.alert.summary),
    scope === '' ? null : `\`${escape(scope)}\``,
    `${runbook} · since ${n.alert.started_at}${n.alert.ended_at ? ` until ${n.alert.ended_at}` : ''}`,
  ]
    .filter((line): line is string => line !== null)
    .join('\n');
}

/** Slack's mrkdwn control characters; the rest passes through. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
