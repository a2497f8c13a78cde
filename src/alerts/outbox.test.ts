import { afterEach, describe, expect, it } from 'vitest';
import { alertsSchema, type AlertsConfig } from '../config/index.js';
import { applyFindings } from './lifecycle.js';
import { createAlertDelivery, startAlertDelivery } from './outbox.js';
import { createSinks, verifySignature } from './sinks/index.js';
import type { AlertStore } from './store/index.js';
import { TestReceiver } from './store/testing/receiver.js';
import { alertStoreCases, type AlertTarget } from './store/testing/targets.js';
import type { Finding } from './types.js';

const T0 = Date.parse('2026-11-02T10:00:00.000Z');
const SECRET = 'a-secret-of-16-chars';

function finding(tenant: string, overrides: Partial<Finding> = {}): Finding {
  return {
    kind: 'spend_anomaly',
    severity: 'page',
    scope: { tenant },
    summary: `${tenant} spends 10x its usual rate`,
    value: 10,
    baseline: 1,
    ...overrides,
  };
}

interface WebhookBody {
  version: number;
  alerts: Array<{
    id: string;
    seq: number;
    change: string;
    state: string;
    notification: string;
    scope: { tenant?: string };
  }>;
}

const parse = (body: string): WebhookBody => JSON.parse(body) as WebhookBody;

const cases = await alertStoreCases();

describe.each(cases)('alert delivery on $name', ({ skip, target }) => {
  let t: AlertTarget | null = null;
  const receivers: TestReceiver[] = [];
  afterEach(async () => {
    await t?.dispose();
    t = null;
    for (const r of receivers.splice(0)) await r.close();
  });
  const open = async (): Promise<AlertStore> => {
    t ??= target();
    return t.open();
  };
  const receiver = async (): Promise<TestReceiver> => {
    const r = new TestReceiver();
    receivers.push(r);
    await r.start();
    return r;
  };
  const clock = { ms: T0 };
  const now = (): Date => new Date(clock.ms);
  const at = (s: number): Date => new Date(T0 + s * 1000);

  it.skipIf(skip !== null)(
    'a webhook down for 2 minutes gets every change exactly once afterwards, grouped and signed',
    async () => {
      const store = await open();
      const hook = await receiver();
      const config: AlertsConfig = alertsSchema.parse({
        sinks: [{ kind: 'webhook', name: 'hook', url: `${hook.url}/hook`, secret: SECRET }],
      });
      const delivery = createAlertDelivery({ store, sinks: createSinks(config), now });
      hook.mode = 'down';
      let passes = 0;
      for (let s = 0; s <= 300; s += 5) {
        clock.ms = T0 + s * 1000;
        if (s === 0) await applyFindings(store, [finding('a'), finding('b'), finding('c')], at(0), { config });
        // While it is down, c resolves and d opens.
        if (s === 60) await applyFindings(store, [finding('a'), finding('b'), finding('d')], at(60), { config });
        if (s === 120) hook.mode = 'up';
        await delivery.pass();
        if (s < 120) passes++;
      }

      const refused = hook.received.filter((r) => r.status === 503);
      // Backoff, not a retry per pass: 1, 2, 4, 8, 16, 32, 64 s.
      expect(refused.length).toBeGreaterThanOrEqual(4);
      expect(refused.length).toBeLessThan(passes / 2);

      const accepted = hook.accepted();
      expect(accepted).toHaveLength(2);
      for (const r of hook.received) {
        expect(r.path).toBe('/hook');
        expect(verifySignature(SECRET, r.body, r.headers['x-pertoken-signature'] as string)).toBe(true);
      }
      const [first, second] = accepted.map((r) => parse(r.body));
      expect(first?.version).toBe(1);
      expect(first?.alerts.map((a) => [a.scope.tenant, a.change, a.state, a.seq])).toEqual([
        ['a', 'opened', 'firing', 1],
        ['b', 'opened', 'firing', 1],
        ['c', 'opened', 'firing', 1],
      ]);
      expect(second?.alerts.map((a) => [a.scope.tenant, a.change, a.state, a.seq])).toEqual([
        ['d', 'opened', 'firing', 1],
        ['c', 'resolved', 'resolved', 2],
      ]);
      // Retries of one delivery carry the same idempotency key; each state change arrived once.
      expect(new Set(refused.map((r) => r.headers['x-pertoken-delivery']))).toEqual(
        new Set([accepted[0]?.headers['x-pertoken-delivery']]),
      );
      expect(accepted[0]?.headers['x-pertoken-delivery']).toBe(first?.alerts[0]?.notification);
      const changes = accepted.flatMap((r) => parse(r.body).alerts.map((a) => `${a.id}/${a.seq}`));
      expect(new Set(changes).size).toBe(changes.length);
      expect(changes).toHaveLength(5);
      expect(await store.pendingCounts()).toEqual({});
      expect((await store.sinkState('hook')).failures).toBe(0);

      // Nothing is sent twice afterwards.
      clock.ms = T0 + 400_000;
      expect(await delivery.pass()).toEqual({ delivered: 0, failed: 0, resent: 0 });
      expect(hook.accepted()).toHaveLength(2);
    },
  );

  it.skipIf(skip !== null)('retries a delivery whose answer was lost with the same key and body', async () => {
    const store = await open();
    const hook = await receiver();
    const config = alertsSchema.parse({ sinks: [{ kind: 'webhook', url: hook.url, secret: SECRET }] });
    const delivery = createAlertDelivery({ store, sinks: createSinks(config), now });
    clock.ms = T0;
    await applyFindings(store, [finding('a')], at(0), { config });
    hook.mode = 'drop';
    expect(await delivery.pass()).toMatchObject({ delivered: 0, failed: 1 });
    hook.mode = 'up';
    clock.ms = T0 + 1000;
    expect(await delivery.pass()).toMatchObject({ delivered: 1, failed: 0 });
    const [lost, retry] = hook.received;
    expect(retry?.headers['x-pertoken-delivery']).toBe(lost?.headers['x-pertoken-delivery']);
    expect(retry?.body).toBe(lost?.body);
    const [row] = await store.listOutbox();
    expect(row).toMatchObject({ attempts: 2, delivered_at: new Date(T0 + 1000), last_error: null });
  });

  it.skipIf(skip !== null)('backs a refusing sink off exponentially up to 5 minutes', async () => {
    const store = await open();
    const closed = await receiver();
    const url = closed.url;
    await closed.close();
    receivers.splice(receivers.indexOf(closed), 1);
    const config = alertsSchema.parse({ sinks: [{ kind: 'webhook', name: 'gone', url, secret: SECRET }] });
    const delivery = createAlertDelivery({ store, sinks: createSinks(config), now });
    clock.ms = T0;
    await applyFindings(store, [finding('a')], at(0), { config });
    expect((await delivery.pass()).failed).toBe(1);
    expect(await store.sinkState('gone')).toMatchObject({ failures: 1, retry_at: new Date(T0 + 1000) });
    clock.ms = T0 + 999;
    expect((await delivery.pass()).failed).toBe(0);
    clock.ms = T0 + 1000;
    expect((await delivery.pass()).failed).toBe(1);
    expect(await store.sinkState('gone')).toMatchObject({ failures: 2, retry_at: new Date(T0 + 3000) });
    for (let i = 0; i < 12; i++) {
      clock.ms = (await store.sinkState('gone')).retry_at.getTime();
      await delivery.pass();
    }
    const state = await store.sinkState('gone');
    expect(state.failures).toBe(14);
    expect(state.retry_at.getTime() - clock.ms).toBe(300_000);
    const [row] = await store.listOutbox();
    expect(row?.attempts).toBe(14);
    expect(row?.delivered_at).toBeNull();
    expect(row?.last_error).toMatch(/ECONNREFUSED|connect/i);
  });

  it.skipIf(skip !== null)(
    'groups one evaluation per sink and route: one Slack message, one POST per route',
    async () => {
      const store = await open();
      const slack = await receiver();
      const hook = await receiver();
      const config = alertsSchema.parse({
        sinks: [
          { kind: 'slack', name: 'chat', url: `${slack.url}/services/x` },
          { kind: 'webhook', name: 'hook', url: hook.url, secret: SECRET },
        ],
        routes: [
          { match: { tenant: 'a' }, sinks: ['chat', 'hook'] },
          { match: { tenant: 'b' }, sinks: ['chat', 'hook'] },
          { sinks: ['chat'] },
        ],
      });
      const delivery = createAlertDelivery({ store, sinks: createSinks(config), now });
      clock.ms = T0;
      await applyFindings(store, [finding('a'), finding('b'), finding('c')], at(0), { config });
      await delivery.pass();
      // Slack hears all three from three routes: one message per route.
      expect(slack.accepted().map((r) => (JSON.parse(r.body) as { blocks: unknown[] }).blocks.length)).toEqual([
        1, 1, 1,
      ]);
      expect(hook.accepted().map((r) => parse(r.body).alerts.map((a) => a.scope.tenant))).toEqual([['a'], ['b']]);

      // Same route, one evaluation: one message listing them.
      const single = alertsSchema.parse({ sinks: [{ kind: 'slack', name: 'chat', url: `${slack.url}/services/x` }] });
      await applyFindings(store, [finding('d'), finding('e'), finding('f')], at(60), { config: single, kinds: [] });
      clock.ms = T0 + 60_000;
      await delivery.pass();
      const last = JSON.parse(slack.accepted().at(-1)?.body ?? '{}') as { text: string; blocks: unknown[] };
      expect(last.text).toBe('pertoken: 3 alerts (3 opened)');
      expect(last.blocks).toHaveLength(3);
    },
  );

  it.skipIf(skip !== null)('survives a crash mid-delivery: the lease runs out and the rows go out once', async () => {
    const first = await open();
    const hook = await receiver();
    const config = alertsSchema.parse({ sinks: [{ kind: 'webhook', name: 'hook', url: hook.url, secret: SECRET }] });
    await applyFindings(first, [finding('a')], at(0), { config });
    // A replica claims the row and dies before it answers (kill -9: no release, no settle).
    const claim = await first.write((repo) => repo.claimGroup('hook', 10, 'dead', at(0), at(60)));
    expect(claim?.entries).toHaveLength(1);
    await first.close();

    const restarted = await open();
    const delivery = createAlertDelivery({ store: restarted, sinks: createSinks(config), now });
    clock.ms = T0 + 59_000;
    expect((await delivery.pass()).delivered).toBe(0);
    clock.ms = T0 + 60_000;
    expect((await delivery.pass()).delivered).toBe(1);
    clock.ms = T0 + 120_000;
    expect((await delivery.pass()).delivered).toBe(0);
    expect(hook.accepted()).toHaveLength(1);
  });

  it.skipIf(skip !== null)('two replicas delivering at once send each group once', async () => {
    const a = await open();
    const b = await open();
    const hook = await receiver();
    const config = alertsSchema.parse({ sinks: [{ kind: 'webhook', name: 'hook', url: hook.url, secret: SECRET }] });
    for (const [i, tenant] of ['a', 'b', 'c', 'd'].entries())
      await applyFindings(a, [finding(tenant)], at(i), { config, kinds: [] });
    clock.ms = T0 + 10_000;
    const sinks = createSinks(config);
    const [ra, rb] = await Promise.all([
      createAlertDelivery({ store: a, sinks, now }).pass(),
      createAlertDelivery({ store: b, sinks, now }).pass(),
    ]);
    expect(ra.delivered + rb.delivered).toBe(4);
    const tenants = hook.accepted().flatMap((r) => parse(r.body).alerts.map((x) => x.scope.tenant));
    expect(tenants.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it.skipIf(skip !== null)(
    're-sends firing alerts to Alertmanager every resend period, and resolved ones for 5 minutes',
    async () => {
      const store = await open();
      const am = await receiver();
      const config = alertsSchema.parse({
        alertmanager_resend_s: 60,
        sinks: [{ kind: 'alertmanager', name: 'am', url: am.url }],
      });
      const delivery = createAlertDelivery({ store, sinks: createSinks(config), now });
      const posts = (): Array<Array<{ endsAt: string; labels: { tenant: string } }>> =>
        am.accepted().map((r) => JSON.parse(r.body) as Array<{ endsAt: string; labels: { tenant: string } }>);
      clock.ms = T0;
      await applyFindings(store, [finding('a')], at(0), { config });
      await delivery.pass();
      expect(posts()).toEqual([[expect.objectContaining({ endsAt: at(180).toISOString() })]]);
      expect(am.accepted()[0]?.path).toBe('/api/v2/alerts');

      clock.ms = T0 + 30_000;
      await delivery.pass();
      expect(posts()).toHaveLength(1);
      clock.ms = T0 + 60_000;
      await delivery.pass();
      expect(posts().at(-1)).toEqual([expect.objectContaining({ endsAt: at(240).toISOString() })]);

      await applyFindings(store, [], at(90), { config });
      clock.ms = T0 + 90_000;
      await delivery.pass();
      expect(posts().at(-1)).toEqual([expect.objectContaining({ endsAt: at(90).toISOString() })]);
      const count = posts().length;
      for (let s = 120; s <= 600; s += 60) {
        clock.ms = T0 + s * 1000;
        await delivery.pass();
      }
      // The resolve is re-sent at 120..360 s (within 5 minutes of its end at 90 s), then no more.
      expect(
        posts()
          .slice(count)
          .map((p) => p.map((x) => x.endsAt)),
      ).toEqual([120, 180, 240, 300, 360].map(() => [at(90).toISOString()]));
    },
  );

  it.skipIf(skip !== null)('startAlertDelivery runs passes in the background until stopped', async () => {
    const store = await open();
    const hook = await receiver();
    const config = alertsSchema.parse({ sinks: [{ kind: 'webhook', name: 'hook', url: hook.url, secret: SECRET }] });
    await applyFindings(store, [finding('a')], new Date(), { config });
    const loop = startAlertDelivery({ store, sinks: createSinks(config), pollMs: 10 });
    const deadline = Date.now() + 10_000;
    while (hook.accepted().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await loop.stop();
    expect(hook.accepted()).toHaveLength(1);
  });
});
