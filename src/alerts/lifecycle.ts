/**
 * Findings -> alerts. Each evaluation hands over everything its detectors saw at `at`; compared
 * with the open alerts, a finding opens an alert (or keeps one firing), an open alert whose
 * finding is gone resolves, ticket -> page escalates. Every state change and the notifications it
 * queues (one outbox row per sink) commit in one transaction, so a crash loses neither and a
 * notification never announces a change that did not commit.
 *
 * Replicas may evaluate at the same time: the transaction is exclusive (SQLite's write lock, an
 * advisory lock on PostgreSQL), so the second one sees the first one's alerts and has nothing left
 * to announce; the unique open fingerprint and the (alert, seq, sink) key back that up.
 *
 * Kept firing, an alert takes the latest finding's summary, value and baseline. A page that drops
 * to ticket is updated without a notification (only escalation interrupts people). A firing alert
 * that no silence covers is notified again `renotify_s` after its last notification, or for the
 * first time once the silence that covered its opening ends.
 */
import { createHash } from 'node:crypto';
import { sinkName, type AlertsConfig } from '../config/index.js';
import { newEventId } from '../ledger/index.js';
import { presentAlert, runbookPath, type Change } from './present.js';
import { routeAlert, type RouteTarget } from './routing.js';
import { isSilenced } from './silences.js';
import {
  canonicalScope,
  publicAlert,
  type AlertRepo,
  type AlertStore,
  type NewOutboxEntry,
  type StoredAlert,
} from './store/index.js';
import type { AlertsTable } from './store/schema.js';
import type { Alert, AlertKind, Finding, Severity } from './types.js';

export interface ApplyOptions {
  config: Pick<AlertsConfig, 'sinks' | 'routes' | 'renotify_s'>;
  /**
   * The kinds whose detectors ran in this evaluation: only their open alerts can resolve, so a
   * detector that failed does not resolve everything it had raised. Default every kind.
   */
  kinds?: readonly AlertKind[];
}

export interface ApplyResult {
  /** Groups this evaluation's notifications into one delivery per sink and route. */
  batch: string;
  opened: Alert[];
  escalated: Alert[];
  resolved: Alert[];
  renotified: Alert[];
  /** Outbox rows queued. */
  queued: number;
}

const SEVERITY_RANK: Record<Severity, number> = { ticket: 0, page: 1 };

/** Stable identity of "the same alert": kind, scope (keys sorted) and variant; 16 bytes of SHA-256 as hex. */
export function fingerprintOf(finding: Pick<Finding, 'kind' | 'scope' | 'variant'>): string {
  const scope = Object.entries(canonicalScope(finding.scope)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const identity = JSON.stringify([finding.kind, scope, finding.variant ?? '']);
  return createHash('sha256').update(identity).digest('hex').slice(0, 32);
}

export async function applyFindings(
  store: AlertStore,
  findings: readonly Finding[],
  at: Date,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const batch = newEventId();
  const byFingerprint = strongestPerFingerprint(findings);
  const kinds = options.kinds === undefined ? null : new Set(options.kinds);
  const renotifyMs = options.config.renotify_s * 1000;
  const configured = new Set(options.config.sinks.map((s, i) => sinkName(s, i)));

  return store.write(
    async (repo) => {
      const result: ApplyResult = { batch, opened: [], escalated: [], resolved: [], renotified: [], queued: 0 };
      const open = new Map((await repo.listOpen()).map((a) => [a.fingerprint, a]));
      const silences = await repo.listSilences({ activeAt: at });
      const outbox: Array<Omit<NewOutboxEntry, 'id'>> = [];
      const announce = (alert: StoredAlert, change: Change, targets: readonly RouteTarget[]): void => {
        for (const { sink, route } of targets)
          outbox.push({
            batch,
            alert_id: alert.id,
            seq: alert.seq,
            change,
            sink,
            route,
            alert: presentAlert(publicAlert(alert)),
            created_at: at,
          });
      };

      for (const [fingerprint, finding] of byFingerprint) {
        const existing = open.get(fingerprint);
        const targets = isSilenced(silences, finding, at) ? [] : routeAlert(options.config, finding);
        if (existing === undefined) {
          const alert = newAlert(finding, fingerprint, at, targets);
          if (!(await repo.insertOpen(alert))) continue; // another replica opened it and announces it
          result.opened.push(publicAlert(alert));
          announce(alert, 'opened', targets);
          continue;
        }
        const set: Partial<AlertsTable> = refreshed(existing, finding);
        const escalates = SEVERITY_RANK[finding.severity] > SEVERITY_RANK[existing.severity];
        const due = existing.notified_at === null || at.getTime() - existing.notified_at.getTime() >= renotifyMs;
        const notify = targets.length > 0 && (escalates || due);
        if (notify) {
          set.notified_ms = at.getTime();
          set.notified_sinks = JSON.stringify(union(existing.notified_sinks, targets));
        }
        if (Object.keys(set).length === 0 && !escalates) continue;
        const updated = await updateFiring(repo, existing, set, at, escalates || notify);
        if (updated === null) continue;
        if (escalates) result.escalated.push(publicAlert(updated));
        else if (notify) result.renotified.push(publicAlert(updated));
        if (notify)
          announce(updated, escalates ? 'escalated' : existing.notified_at === null ? 'opened' : 'renotify', targets);
      }

      for (const alert of open.values()) {
        if (byFingerprint.has(alert.fingerprint)) continue;
        if (kinds !== null && !kinds.has(alert.kind)) continue;
        if (alert.started_at > at) continue; // an evaluation of an earlier instant cannot end it
        const resolvedSet = { state: 'resolved', ended_ms: at.getTime(), open_fingerprint: null };
        const updated = await updateFiring(repo, alert, resolvedSet, at, true);
        if (updated === null) continue;
        result.resolved.push(publicAlert(updated));
        // The sinks that heard it fire hear it end, silenced or not, grouped by today's routes.
        const routes = new Map(routeAlert(options.config, alert).map((t) => [t.sink, t.route]));
        const targets = alert.notified_sinks
          .filter((sink) => configured.has(sink))
          .map((sink) => ({ sink, route: routes.get(sink) ?? -1 }));
        announce(updated, 'resolved', targets);
      }

      // Ids minted back to back, in announcement order: a sink's deliveries go out in id order.
      await repo.queue(outbox.map((entry) => ({ ...entry, id: newEventId() })));
      result.queued = outbox.length;
      return result;
    },
    { exclusive: true },
  );
}

/** One finding per fingerprint: the most severe, then the first. */
function strongestPerFingerprint(findings: readonly Finding[]): Map<string, Finding> {
  const out = new Map<string, Finding>();
  for (const finding of findings) {
    const fingerprint = fingerprintOf(finding);
    const seen = out.get(fingerprint);
    if (seen === undefined || SEVERITY_RANK[finding.severity] > SEVERITY_RANK[seen.severity])
      out.set(fingerprint, finding);
  }
  return out;
}

function newAlert(finding: Finding, fingerprint: string, at: Date, targets: readonly RouteTarget[]): StoredAlert {
  return {
    id: newEventId(),
    kind: finding.kind,
    severity: finding.severity,
    state: 'firing',
    scope: canonicalScope(finding.scope),
    started_at: at,
    ended_at: null,
    summary: finding.summary,
    value: finding.value,
    baseline: finding.baseline,
    fingerprint,
    runbook: runbookPath(finding.kind),
    variant: finding.variant ?? null,
    seq: 1,
    notified_at: targets.length > 0 ? at : null,
    notified_sinks: union([], targets),
    updated_at: at,
  };
}

/** The columns a kept-firing alert takes from the latest finding (empty when nothing changed). */
function refreshed(alert: StoredAlert, finding: Finding): Partial<AlertsTable> {
  const set: Partial<AlertsTable> = {};
  if (finding.severity !== alert.severity) set.severity = finding.severity;
  if (finding.summary !== alert.summary) set.summary = finding.summary;
  if (finding.value !== alert.value) set.value = finding.value;
  if (finding.baseline !== alert.baseline) set.baseline = finding.baseline;
  return set;
}

function updateFiring(
  repo: AlertRepo,
  alert: StoredAlert,
  set: Partial<AlertsTable>,
  at: Date,
  change: boolean,
): Promise<StoredAlert | null> {
  return repo.updateFiring(alert.id, { ...set, updated_ms: at.getTime() }, change);
}

function union(sinks: readonly string[], targets: readonly RouteTarget[]): string[] {
  return [...new Set([...sinks, ...targets.map((t) => t.sink)])].sort();
}
