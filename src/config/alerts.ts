/**
 * `alerts:` and `metrics:` of pertoken.yaml (DESIGN §3 "Alerts, forecasts and metrics"): how often
 * the detectors run, their thresholds, where notifications go, and how many label values the
 * Prometheus endpoint may expose. Every field has a default, so `alerts: {}` is a working setup
 * that alerts into the API only (no sinks).
 */
import { z } from 'zod';
import { checkUnique, dimId, name, usd } from './primitives.js';

const score = z.number().positive().max(100);
const ratio = z.number().positive().max(1000);
const fraction = z.number().min(0).max(1);

const anomalySchema = z
  .object({
    /** Robust score (residual ÷ 1.4826·MAD) at which an anomaly pages, and at which it opens a ticket. */
    page_score: score.default(3),
    ticket_score: score.default(2),
    /** Weeks of the same hour-of-week that form the seasonal baseline. */
    weeks: z.number().int().min(1).max(12).default(4),
    /** Hours of recent history a young series (fewer weeks than `weeks`) is compared with instead. */
    recent_hours: z
      .number()
      .int()
      .min(3)
      .max(24 * 14)
      .default(24),
    /** An anomaly must exceed its baseline by at least this many USD per hour … */
    min_impact_usd: usd.default('1'),
    /** … and by at least this fraction of the baseline. */
    min_relative: z.number().min(0).max(100).default(0.5),
    /** Token anomalies: the absolute floor in tokens per hour. */
    min_impact_tokens: z.number().int().min(0).default(100_000),
  })
  .strict();

const inflationSchema = z
  .object({
    /** Tokens per request (or input/output ratio) this many times the series' baseline … */
    factor: ratio.default(1.5),
    /** … over at least this many requests in the window. */
    min_requests: z.number().int().min(1).default(20),
  })
  .strict();

const keyAbuseSchema = z
  .object({
    /** A key's requests in the last hour this many times its baseline hourly rate pages. */
    rate_factor: ratio.default(10),
    min_requests: z.number().int().min(1).default(200),
    /** The same request fingerprint this many times within `loop_window_s` is a loop. */
    loop_repeats: z.number().int().min(2).default(20),
    loop_window_s: z.number().int().min(10).max(86_400).default(600),
    /** Alert when a key is used from a client address it never used in `new_address_days`. */
    new_address: z.boolean().default(true),
    new_address_days: z.number().int().min(1).max(90).default(14),
  })
  .strict();

const dataQualitySchema = z
  .object({
    /** Share of requests in the last hour that are unpriced, estimated or interrupted. */
    max_unpriced_share: fraction.default(0.05),
    max_estimated_share: fraction.default(0.2),
    max_interrupted_share: fraction.default(0.2),
    /** Provider cache-hit share (cache_read ÷ input tokens) falling below this fraction of its baseline. */
    cache_drop_factor: fraction.default(0.5),
    min_requests: z.number().int().min(1).default(50),
  })
  .strict();

const matcherSchema = z
  .object({
    kind: z.string().min(1).max(64).optional(),
    severity: z.enum(['page', 'ticket']).optional(),
    tenant: dimId.optional(),
    project: dimId.optional(),
  })
  .strict();

const sinkSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('webhook'),
      name: name.optional(),
      url: z.url({ protocol: /^https?$/ }),
      /** HMAC-SHA256 key: each POST carries x-pertoken-signature: sha256=<hex of the raw body>. */
      secret: z.string().min(16).max(1024),
    })
    .strict(),
  z.object({ kind: z.literal('slack'), name: name.optional(), url: z.url({ protocol: /^https?$/ }) }).strict(),
  z.object({ kind: z.literal('alertmanager'), name: name.optional(), url: z.url({ protocol: /^https?$/ }) }).strict(),
]);
export type AlertSinkConfig = z.infer<typeof sinkSchema>;

const routeSchema = z
  .object({
    /** Every field given must match the alert; an empty match takes every alert. */
    match: matcherSchema.default({}),
    /** Sink names (a sink's `name`, default `<kind>-<position>`). */
    sinks: z.array(name).min(1).max(32),
    /** Stop at this route (default) or let later routes take the alert too. */
    continue: z.boolean().default(false),
  })
  .strict();

export const alertsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Seconds between evaluations by `serve`. */
    interval_s: z.number().int().min(5).max(3600).default(60),
    /** Re-notify a still-firing alert after this many seconds (Alertmanager re-sends more often). */
    renotify_s: z
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .default(4 * 3600),
    /** Seconds an Alertmanager alert stays firing without a re-send (its endsAt ahead of now). */
    alertmanager_resend_s: z.number().int().min(10).max(3600).default(60),
    anomaly: anomalySchema.default(anomalySchema.parse({})),
    inflation: inflationSchema.default(inflationSchema.parse({})),
    key_abuse: keyAbuseSchema.default(keyAbuseSchema.parse({})),
    data_quality: dataQualitySchema.default(dataQualitySchema.parse({})),
    /** Prefix of the runbook links in notifications (`<base>/spend_anomaly.md`); default the relative docs path. */
    runbook_base_url: z.url({ protocol: /^https?$/ }).optional(),
    sinks: z.array(sinkSchema).max(64).default([]),
    routes: z.array(routeSchema).max(256).default([]),
  })
  .strict();
export type AlertsConfig = z.infer<typeof alertsSchema>;

export const metricsSchema = z
  .object({
    /** Tenants and models kept as label values; the rest are folded into `other`. */
    top_tenants: z.number().int().min(1).max(1000).default(20),
    top_models: z.number().int().min(1).max(1000).default(20),
  })
  .strict();
export type MetricsConfig = z.infer<typeof metricsSchema>;

export const alertsSections = {
  alerts: alertsSchema.default(alertsSchema.parse({})),
  metrics: metricsSchema.default(metricsSchema.parse({})),
};

/** A sink's name as routes refer to it. */
export function sinkName(sink: AlertSinkConfig, index: number): string {
  return sink.name ?? `${sink.kind}-${index + 1}`;
}

/** Sink names are unique and every route names existing sinks. */
export function checkAlerts(config: { alerts: AlertsConfig }, ctx: z.RefinementCtx): void {
  const sinks = config.alerts.sinks.map((s, i) => ({ name: sinkName(s, i) }));
  checkUnique(ctx, sinks, ['alerts', 'sinks'], 'name', 'sink');
  const known = new Set(sinks.map((s) => s.name));
  config.alerts.routes.forEach((route, r) =>
    route.sinks.forEach((sink, s) => {
      if (!known.has(sink))
        ctx.addIssue({ code: 'custom', path: ['alerts', 'routes', r, 'sinks', s], message: `no sink named ${sink}` });
    }),
  );
  if (config.alerts.anomaly.ticket_score > config.alerts.anomaly.page_score)
    ctx.addIssue({
      code: 'custom',
      path: ['alerts', 'anomaly', 'ticket_score'],
      message: 'must not exceed page_score',
    });
}
