/**
 * The vocabulary every part of the alerts pipeline shares (DESIGN §3 "Alerts, forecasts and
 * metrics"): detectors produce findings at an instant; the lifecycle turns findings into alerts
 * (dedupe by fingerprint, firing/resolved, silences) and queues one notification per state change
 * in a durable outbox; sinks deliver them.
 */

export const ALERT_KINDS = [
  'spend_anomaly',
  'token_anomaly',
  'token_inflation',
  'key_abuse',
  'request_loop',
  'data_quality',
  'cache_drop',
  'burn_rate',
  'budget_threshold',
  'forecast_over_budget',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export type Severity = 'page' | 'ticket';
export type AlertState = 'firing' | 'resolved';

/** The dimensions an alert names; absent ones do not apply. */
export const SCOPE_KEYS = ['tenant', 'project', 'model', 'feature', 'key', 'budget'] as const;
export type ScopeKey = (typeof SCOPE_KEYS)[number];
export type AlertScope = Partial<Record<ScopeKey, string>>;

/**
 * What one detector saw at one instant. The same kind and scope seen again is the same alert
 * (its fingerprint); a finding that stops being seen resolves it.
 */
export interface Finding {
  kind: AlertKind;
  severity: Severity;
  scope: AlertScope;
  /** One line for humans: what, where, how far off (numbers with units). */
  summary: string;
  /** The observed figure (USD, tokens, ratio or burn rate: the summary names which). */
  value: number;
  /** What the detector expected; null when the alert has no baseline (thresholds). */
  baseline: number | null;
  /**
   * Distinguishes findings of one kind and scope that must alert separately (a budget's threshold
   * 0.8 vs 1, a burn-rate tier); part of the fingerprint. Default none.
   */
  variant?: string;
}

export interface Alert {
  id: string;
  kind: AlertKind;
  severity: Severity;
  state: AlertState;
  scope: AlertScope;
  started_at: Date;
  ended_at: Date | null;
  summary: string;
  value: number;
  baseline: number | null;
  fingerprint: string;
  /** docs/runbooks/<kind>.md, relative to the project's docs. */
  runbook: string;
}

export interface Silence {
  id: string;
  /** Every matcher must equal the alert's scope value; an empty object matches every alert. */
  matchers: AlertScope & { kind?: AlertKind };
  from: Date;
  to: Date;
  reason: string;
  created_at: Date;
}
