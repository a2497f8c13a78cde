/**
 * Generic webhook: `POST url` with `{version: 1, alerts: [<alert JSON> + change, seq, notification]}`
 * and `x-pertoken-signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>`
 * (DESIGN §3). `x-pertoken-delivery` repeats on every retry of one delivery, and each element's
 * alert `id` + `seq` names the state change, so a receiver that took a delivery whose 2xx was lost
 * can drop the retry.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { notificationJson } from '../present.js';
import { runbookUrl, type AlertSink, type SinkOptions } from './types.js';

export interface WebhookSinkConfig {
  name: string;
  url: string;
  secret: string;
}

export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers and tests: whether `header` is the signature of `body` under `secret` (constant time). */
export function verifySignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (header === undefined) return false;
  const want = Buffer.from(signBody(secret, body));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

export function webhookSink(config: WebhookSinkConfig, options: SinkOptions = {}): AlertSink {
  return {
    name: config.name,
    kind: 'webhook',
    maxBatch: 100,
    render(notifications, ctx) {
      const alerts = notifications.map((n) => ({
        ...notificationJson(n),
        runbook: runbookUrl(n.alert.runbook, options.runbookBaseUrl),
      }));
      const body = JSON.stringify({ version: 1, alerts });
      return {
        url: config.url,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'pertoken-alerts',
          'x-pertoken-delivery': ctx.delivery,
          'x-pertoken-signature': signBody(config.secret, body),
        },
        body,
      };
    },
  };
}
