import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { alertsSchema } from '../../config/index.js';
import { applyFindings, fingerprintOf } from '../lifecycle.js';
import { createAlertDelivery } from '../outbox.js';
import { alertStoreCases, type AlertTarget } from '../store/testing/targets.js';
import type { Finding } from '../types.js';
import { createSinks } from './index.js';
import { alertmanagerSkipReason, startAlertmanager, type RunningAlertmanager } from './testing/alertmanager.js';

/**
 * Against a real Alertmanager (v2 API): its clock decides active vs resolved, so this test runs on
 * the wall clock and polls with deadlines for what Alertmanager reports.
 */
const skip = alertmanagerSkipReason();

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

async function alertsOf(url: string, fingerprint: string): Promise<GettableAlert[]> {
  const filter = encodeURIComponent(`fingerprint="${fingerprint}"`);
  const res = await request(`${url}/api/v2/alerts?filter=${filter}`);
  expect(res.statusCode).toBe(200);
  return (await res.body.json()) as GettableAlert[];
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, deadlineMs = 15_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await fn();
    if (ok(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(skip !== null)('alertmanager sink against a real Alertmanager', () => {
  let am: RunningAlertmanager;
  let target: AlertTarget;
  beforeAll(async () => {
    am = await startAlertmanager();
    const sqlite = (await alertStoreCases()).find((c) => c.name === 'sqlite');
    target = sqlite!.target();
  });
  afterAll(async () => {
    await target?.dispose();
    await am?.stop();
  });

  it('posts a firing alert Alertmanager lists with its labels and annotations, then resolves it', async () => {
    const store = await target.open();
    const config = alertsSchema.parse({
      alertmanager_resend_s: 60,
      sinks: [{ kind: 'alertmanager', name: 'am', url: am.url }],
    });
    const delivery = createAlertDelivery({
      store,
      sinks: createSinks(config, { runbookBaseUrl: 'https://runbooks.example/pertoken/' }),
    });
    const finding: Finding = {
      kind: 'burn_rate',
      severity: 'page',
      scope: { tenant: 'acme', budget: 'monthly' },
      variant: '1h',
      summary: 'acme burns its monthly $500.00 at 16.2x even pace',
      value: 16.2,
      baseline: 1,
    };
    const fingerprint = fingerprintOf(finding);
    const opened = await applyFindings(store, [finding], new Date(), { config });
    expect(await delivery.pass()).toMatchObject({ delivered: 1, failed: 0 });

    const [listed] = await until(
      'the firing alert',
      () => alertsOf(am.url, fingerprint),
      (a) => a.length === 1,
    );
    expect(listed?.labels).toEqual({
      alertname: 'BurnRate',
      severity: 'page',
      fingerprint,
      tenant: 'acme',
      budget: 'monthly',
    });
    expect(listed?.annotations).toEqual({
      summary: 'acme burns its monthly $500.00 at 16.2x even pace',
      runbook_url: 'https://runbooks.example/pertoken/docs/runbooks/burn_rate.md',
      value: '16.2',
      baseline: '1',
      alert_id: opened.opened[0]?.id,
    });
    expect(listed?.status.state).toBe('active');
    // endsAt is three re-send periods ahead, so a missed re-send does not end it.
    expect(Date.parse(listed?.endsAt ?? '') - Date.now()).toBeGreaterThan(120_000);

    const resolved = await applyFindings(store, [], new Date(), { config });
    expect(resolved.resolved).toHaveLength(1);
    expect(await delivery.pass()).toMatchObject({ delivered: 1, failed: 0 });
    // Alertmanager stops listing an alert once its endsAt has passed.
    await until(
      'the alert to be resolved',
      () => alertsOf(am.url, fingerprint),
      (a) => a.length === 0,
    );
  });
});

if (skip !== null) describe.skip(`alertmanager sink: ${skip}`, () => undefined);
