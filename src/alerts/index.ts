/**
 * Alerts, forecasts and their delivery (DESIGN §3 "Alerts, forecasts and metrics"): detectors read
 * the ledger as of an instant, the lifecycle turns their findings into alerts and queues one
 * notification per state change in a durable outbox, and the delivery loop sends them to the
 * webhook, Slack and Alertmanager sinks.
 */
export { ALERT_KINDS, SCOPE_KEYS, type Alert, type AlertKind, type AlertScope, type Finding } from './types.js';
export type { Severity, Silence } from './types.js';
export type { DetectContext, Detector, NamedDetector } from './detect.js';
export { defaultDetectors } from './detectors/index.js';
export { AlertService, type AlertServiceOptions, type EvaluationJson } from './service.js';
export { openAlertStore, AlertStore, type AlertQuery, type AlertStoreOptions } from './store/index.js';
export { createSinks, signBody, verifySignature, type AlertSink } from './sinks/index.js';
export { forecastSpend, parseForecastScope, type ForecastJson, type ForecastScope } from './forecast.js';
export { presentAlert, presentAlerts, presentSilence, runbookPath, type AlertJson } from './present.js';
export { parseAlertQuery } from './query.js';
export { parseSilenceInput, type SilenceInput } from './silences.js';
export { applyFindings, fingerprintOf } from './lifecycle.js';
