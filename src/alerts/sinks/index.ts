/** @module Sinks: render notifications for a webhook, Slack or Alertmanager; the outbox sends them. */
import { sinkName, type AlertsConfig } from '../../config/index.js';
import { alertmanagerSink } from './alertmanager.js';
import { slackSink } from './slack.js';
import type { AlertSink, SinkOptions } from './types.js';
import { webhookSink } from './webhook.js';

export { alertmanagerSink, alertName, postableAlert, type PostableAlert } from './alertmanager.js';
export { slackSink } from './slack.js';
export { signBody, verifySignature, webhookSink } from './webhook.js';
export { runbookUrl, type AlertSink, type HttpDelivery, type RenderContext, type SinkOptions } from './types.js';

/** The configured sinks, named as routes name them (`sinkName`). */
export function createSinks(
  config: Pick<AlertsConfig, 'sinks' | 'alertmanager_resend_s'>,
  options: SinkOptions = {},
): AlertSink[] {
  return config.sinks.map((sink, index) => {
    const name = sinkName(sink, index);
    switch (sink.kind) {
      case 'webhook':
        return webhookSink({ name, url: sink.url, secret: sink.secret }, options);
      case 'slack':
        return slackSink({ name, url: sink.url }, options);
      case 'alertmanager':
        return alertmanagerSink({ name, url: sink.url, resendS: config.alertmanager_resend_s }, options);
    }
  });
}
