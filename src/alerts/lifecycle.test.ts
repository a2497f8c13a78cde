import { afterEach, describe, expect, it } from 'vitest';
import { alertsSchema, type AlertsConfig } from '../config/index.js';
import { applyFindings, fingerprintOf } from './lifecycle.js';
import { alertStoreCases, type AlertTarget } from './store/testing/targets.js';
import type { AlertStore } from './store/index.js';
import type { Finding } from './types.js';

const T0 = new Date('2026-11-02T10:00:00.000Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

const config: AlertsConfig = alertsSchema.parse({
  renotify_s: 3600,
  sinks: [{ kind: 'webhook', name: 'hook', url: 'http://127.0.0.1:9/hook', secret: 'a-secret-of-16-chars' }],
});

function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    kind: 'spend_anomaly',
    severity: 'ticket',
    scope: { tenant: 'acme' },
    summary: 'acme spent $12.00/h vs $3.00/h expected (score 4.1)',
    value: 12,
    baseline: 3,
    ...overrides,
  };
}

describe('fingerprintOf', () => {
  it('depends on kind, scope and variant, not on key order or empty values', () => {
    const a = fingerprintOf({ kind: 'burn_rate', scope: { tenant: 't', budget: 'b' }, variant: '1h' });
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(fingerprintOf({ kind: 'burn_rate', scope: { budget: 'b', tenant: 't', project: '' }, variant: '1h' })).toBe(
      a,
    );
    expect(fingerprintOf({ kind: 'burn_rate', scope: { tenant: 't', budget: 'b' }, variant: '6h' })).not.toBe(a);
    expect(fingerprintOf({ kind: 'burn_rate', scope: { tenant: 't' }, variant: '1h' })).not.toBe(a);
    expect(fingerprintOf({ kind: 'spend_anomaly', scope: { tenant: 't', budget: 'b' }, variant: '1h' })).not.toBe(a);
  });
});

const cases = await alertStoreCases();

describe.each(cases)('alert lifecycle on $name', ({ skip, target }) => {
  let t: AlertTarget | null = null;
  afterEach(async () => {
    await t?.dispose();
    t = null;
  });
  const open = async (): Promise<AlertStore> => {
    t ??= target();
    return t.open();
  };

  it.skipIf(skip !== null)(
    'opens, keeps, escalates, re-notifies and resolves, one notification per change',
    async () => {
      const store = await open();
      const first = await applyFindings(store, [finding()], at(0), { config });
      expect(first.opened).toHaveLength(1);
      expect(first.queued).toBe(1);
      const alert = first.opened[0]!;
      expect(alert).toMatchObject({
        kind: 'spend_anomaly',
        severity: 'ticket',
        state: 'firing',
        scope: { tenant: 'acme' },
        started_at: at(0),
        ended_at: null,
        value: 12,
        baseline: 3,
        fingerprint: fingerprintOf(finding()),
        runbook: 'docs/runbooks/spend_anomaly.md',
      });

      // Still seen a minute later with a new value: updated, nothing announced.
      const kept = await applyFindings(store, [finding({ value: 14, summary: 'now $14.00/h' })], at(60), { config });
      expect(kept).toMatchObject({ opened: [], escalated: [], resolved: [], renotified: [], queued: 0 });
      expect((await store.getAlert(alert.id))?.value).toBe(14);

      const escalated = await applyFindings(store, [finding({ severity: 'page', value: 30 })], at(120), { config });
      expect(escalated.escalated.map((a) => a.severity)).toEqual(['page']);
      // Dropping back to ticket updates silently.
      expect((await applyFindings(store, [finding({ severity: 'ticket' })], at(180), { config })).queued).toBe(0);
      expect((await store.getAlert(alert.id))?.severity).toBe('ticket');
      await applyFindings(store, [finding({ severity: 'page' })], at(240), { config });

      // renotify_s after the last notification (the escalation at 240 s), not before.
      expect((await applyFindings(store, [finding({ severity: 'page' })], at(240 + 3599), { config })).queued).toBe(0);
      const again = await applyFindings(store, [finding({ severity: 'page' })], at(240 + 3600), { config });
      expect(again.renotified.map((a) => a.id)).toEqual([alert.id]);

      const resolved = await applyFindings(store, [], at(5000), { config });
      expect(resolved.resolved).toHaveLength(1);
      expect(resolved.resolved[0]).toMatchObject({ id: alert.id, state: 'resolved', ended_at: at(5000) });

      const rows = await store.listOutbox({ alertId: alert.id });
      expect(rows.map((r) => [r.change, r.seq, r.sink, r.alert.severity, r.alert.state])).toEqual([
        ['opened', 1, 'hook', 'ticket', 'firing'],
        ['escalated', 2, 'hook', 'page', 'firing'],
        ['escalated', 3, 'hook', 'page', 'firing'],
        ['renotify', 4, 'hook', 'page', 'firing'],
        ['resolved', 5, 'hook', 'page', 'resolved'],
      ]);

      // Seen again: a new alert under the same fingerprint; the API lists both, newest first.
      const reopened = await applyFindings(store, [finding()], at(6000), { config });
      expect(reopened.opened[0]?.id).not.toBe(alert.id);
      expect(reopened.opened[0]?.fingerprint).toBe(alert.fingerprint);
      expect((await store.listAlerts({ state: 'all' })).map((a) => [a.state, a.started_at])).toEqual([
        ['firing', at(6000)],
        ['resolved', at(0)],
      ]);
      expect(await store.listAlerts({ state: 'resolved' })).toHaveLength(1);
      expect(await store.listAlerts({ state: 'all', from: at(5001) })).toHaveLength(1);
      expect(await store.listAlerts({ state: 'all', to: at(6000) })).toHaveLength(1);
      expect(await store.firingCounts()).toEqual([{ kind: 'spend_anomaly', severity: 'ticket', count: 1 }]);
    },
  );

  it.skipIf(skip !== null)('resolves only kinds whose detectors ran, and never before the alert started', async () => {
    const store = await open();
    await applyFindings(store, [finding(), finding({ kind: 'data_quality', scope: { tenant: 'acme' } })], at(0), {
      config,
    });
    const partial = await applyFindings(store, [], at(60), { config, kinds: ['data_quality'] });
    expect(partial.resolved.map((a) => a.kind)).toEqual(['data_quality']);
    expect((await applyFindings(store, [], at(-60), { config })).resolved).toEqual([]);
  });

  it.skipIf(skip !== null)('two replicas evaluating at once open one alert and queue each change once', async () => {
    const a = await open();
    const b = await open();
    const findings = [finding(), finding({ scope: { tenant: 'beta' } }), finding({ kind: 'key_abuse' })];
    const [ra, rb] = await Promise.all([
      applyFindings(a, findings, at(0), { config }),
      applyFindings(b, findings, at(0), { config }),
    ]);
    expect(ra.opened.length + rb.opened.length).toBe(3);
    expect(await a.listAlerts()).toHaveLength(3);
    expect(await a.listOutbox()).toHaveLength(3);

    const [sa, sb] = await Promise.all([
      applyFindings(a, [], at(60), { config }),
      applyFindings(b, [], at(60), { config }),
    ]);
    expect(sa.resolved.length + sb.resolved.length).toBe(3);
    expect((await a.listOutbox()).filter((r) => r.change === 'resolved')).toHaveLength(3);
  });

  it.skipIf(skip !== null)('silences suppress notifications while in force, and expire', async () => {
    const store = await open();
    const silence = await store.createSilence(
      { matchers: { tenant: 'acme' }, from: at(0), to: at(7200), reason: 'planned load test' },
      at(0),
    );
    expect(await store.listSilences({ activeAt: at(60) })).toEqual([silence]);
    const opened = await applyFindings(store, [finding(), finding({ scope: { tenant: 'beta' } })], at(0), { config });
    expect(opened.opened).toHaveLength(2);
    expect((await store.listOutbox()).map((r) => r.alert.scope.tenant)).toEqual(['beta']);

    // Still silenced later on, escalation included.
    const beta = finding({ scope: { tenant: 'beta' } });
    const acmeRows = async (): Promise<Array<[string, string]>> =>
      (await store.listOutbox())
        .filter((r) => r.alert.scope.tenant === 'acme')
        .map((r) => [r.change, r.alert.severity]);
    await applyFindings(store, [finding({ severity: 'page' }), beta], at(3000), { config });
    expect(await acmeRows()).toEqual([]);
    // The silence ends: the alert's first notification goes out.
    await applyFindings(store, [finding({ severity: 'page' }), beta], at(7200), { config });
    expect(await acmeRows()).toEqual([['opened', 'page']]);

    // Silenced again after it was notified: its resolve still reaches the sink that heard it fire.
    await store.createSilence(
      { matchers: { kind: 'spend_anomaly' }, from: at(7300), to: at(90_000), reason: 'ack' },
      at(7300),
    );
    const resolved = await applyFindings(store, [], at(7400), { config });
    expect(resolved.resolved).toHaveLength(2);
    const resolves = (await store.listOutbox()).filter((r) => r.change === 'resolved');
    expect(resolves.map((r) => r.alert.scope.tenant).sort()).toEqual(['acme', 'beta']);
  });

  it.skipIf(skip !== null)('an alert silenced for its whole life notifies nothing, resolve included', async () => {
    const store = await open();
    const silence = await store.createSilence(
      { matchers: { kind: 'spend_anomaly', tenant: 'acme' }, from: at(0), to: at(600), reason: 'known' },
      at(0),
    );
    await applyFindings(store, [finding()], at(0), { config });
    expect(await store.expireSilence(silence.id, at(30))).toBe(true);
    expect(await store.expireSilence('nope', at(30))).toBe(false);
    // Resolved before anyone was told.
    await applyFindings(store, [], at(20), { config });
    expect(await store.listOutbox()).toEqual([]);
  });
});
