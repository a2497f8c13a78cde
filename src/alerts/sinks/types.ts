import type { Notification } from '../present.js';

/** One HTTP POST, fully rendered: the outbox sends it as is. */
export interface HttpDelivery {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface RenderContext {
  /** The delivery clock: Alertmanager's endsAt is set ahead of it. */
  now: Date;
  /**
   * The idempotency key of this delivery (`x-pertoken-delivery`): the first outbox row id of the
   * group, the same on every retry of it.
   */
  delivery: string;
}

/**
 * A place notifications go. A sink only renders: which notifications go together, when, and what
 * a failure means is the outbox's business (src/alerts/outbox.ts), the same for every sink.
 */
export interface AlertSink {
  readonly name: string;
  readonly kind: 'webhook' | 'slack' | 'alertmanager';
  /** The most notifications one delivery carries (Slack allows 50 blocks per message). */
  readonly maxBatch: number;
  /**
   * Alertmanager only: firing alerts are re-asserted this often (and resolved ones for a while
   * after they end), because Alertmanager forgets an alert whose endsAt passes without a re-send.
   */
  readonly resendMs?: number;
  render(notifications: readonly Notification[], ctx: RenderContext): HttpDelivery;
}

/** The runbook as a link: the relative path, under `base` when one is configured. */
export function runbookUrl(runbook: string, base: string | undefined): string {
  if (base === undefined || base === '') return runbook;
  return new URL(runbook, base.endsWith('/') ? base : `${base}/`).href;
}

export interface SinkOptions {
  /** Prefix of runbook links (e.g. https://github.com/acme/pertoken/blob/main/); default: the relative path. */
  runbookBaseUrl?: string;
}
