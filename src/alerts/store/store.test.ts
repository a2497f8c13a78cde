import { afterEach, describe, expect, it } from 'vitest';
import { presentAlerts, presentSilence } from '../present.js';
import type { StoredAlert } from './index.js';
import { alertStoreCases, type AlertTarget } from './testing/targets.js';

const T0 = new Date('2026-11-02T10:00:00.000Z');

function stored(overrides: Partial<StoredAlert> = {}): StoredAlert {
  return {
    id: '01JBZ0000000000000000000A1',
    kind: 'budget_threshold',
    severity: 'ticket',
    state: 'firing',
    scope: { tenant: 'acme', budget: 'monthly' },
    started_at: T0,
    ended_at: null,
    summary: 'monthly budget at 80%',
    value: 0.8,
    baseline: null,
    fingerprint: 'f'.repeat(32),
    runbook: 'docs/runbooks/budget_threshold.md',
    variant: '0.8',
    seq: 1,
    notified_at: T0,
    notified_sinks: ['hook'],
    updated_at: T0,
    ...overrides,
  };
}

const cases = await alertStoreCases();

describe.each(cases)('alert store on $name', ({ skip, target }) => {
  let t: AlertTarget | null = null;
  afterEach(async () => {
    await t?.dispose();
    t = null;
  });

  it.skipIf(skip !== null)('migrates idempotently and keeps one open alert per fingerprint', async () => {
    t = target();
    const store = await t.open();
    await store.migrate();
    await store.ping();
    expect(await store.write((repo) => repo.insertOpen(stored()))).toBe(true);
    // The unique open fingerprint backs up the lifecycle's lock.
    expect(await store.write((repo) => repo.insertOpen(stored({ id: '01JBZ0000000000000000000A2' })))).toBe(false);
    expect(await store.getAlert('01JBZ0000000000000000000A1')).toEqual(stored());

    const resolved = await store.write((repo) =>
      repo.updateFiring(
        '01JBZ0000000000000000000A1',
        { state: 'resolved', ended_ms: T0.getTime() + 60_000, open_fingerprint: null },
        true,
      ),
    );
    expect(resolved).toMatchObject({ state: 'resolved', seq: 2, ended_at: new Date(T0.getTime() + 60_000) });
    // Not firing any more: nothing to change.
    expect(await store.write((repo) => repo.updateFiring('01JBZ0000000000000000000A1', {}, true))).toBeNull();
    // Resolved, its fingerprint may open again.
    expect(await store.write((repo) => repo.insertOpen(stored({ id: '01JBZ0000000000000000000A2' })))).toBe(true);

    expect(await store.listAlerts({ tenant: 'acme' })).toHaveLength(2);
    expect(await store.listAlerts({ tenant: 'beta' })).toEqual([]);
    expect(presentAlerts(await store.listAlerts({ state: 'resolved' }))).toEqual({
      alerts: [
        {
          id: '01JBZ0000000000000000000A1',
          kind: 'budget_threshold',
          severity: 'ticket',
          state: 'resolved',
          scope: { tenant: 'acme', budget: 'monthly' },
          started_at: '2026-11-02T10:00:00.000Z',
          ended_at: '2026-11-02T10:01:00.000Z',
          summary: 'monthly budget at 80%',
          value: 0.8,
          baseline: null,
          fingerprint: 'f'.repeat(32),
          runbook: 'docs/runbooks/budget_threshold.md',
        },
      ],
    });
  });

  it.skipIf(skip !== null)('stores silences and outbox rows; a change is queued to a sink once', async () => {
    t = target();
    const store = await t.open();
    const silence = await store.createSilence(
      {
        matchers: { tenant: 'acme', kind: 'burn_rate' },
        from: T0,
        to: new Date(T0.getTime() + 3_600_000),
        reason: 'x',
      },
      T0,
    );
    expect(presentSilence(silence)).toEqual({
      id: silence.id,
      matchers: { tenant: 'acme', kind: 'burn_rate' },
      from: '2026-11-02T10:00:00.000Z',
      to: '2026-11-02T11:00:00.000Z',
      reason: 'x',
      created_at: '2026-11-02T10:00:00.000Z',
    });
    expect(await store.listSilences()).toEqual([silence]);
    expect(await store.listSilences({ activeAt: new Date(T0.getTime() + 3_600_000) })).toEqual([]);

    const alert = presentAlerts([stored()]).alerts[0]!;
    const entry = {
      batch: 'b1',
      alert_id: alert.id,
      seq: 1,
      change: 'opened' as const,
      route: -1,
      alert,
      created_at: T0,
    };
    await store.write((repo) =>
      repo.queue([
        { ...entry, id: 'o1', sink: 'hook' },
        { ...entry, id: 'o2', sink: 'chat' },
      ]),
    );
    await store.write((repo) => repo.queue([{ ...entry, id: 'o3', sink: 'hook' }]));
    expect((await store.listOutbox()).map((r) => [r.id, r.sink])).toEqual([
      ['o1', 'hook'],
      ['o2', 'chat'],
    ]);
    expect(await store.pendingCounts()).toEqual({ hook: 1, chat: 1 });

    const claim = await store.write((repo) => repo.claimGroup('hook', 10, 'tok', T0, new Date(T0.getTime() + 60_000)));
    expect(claim?.entries.map((e) => e.id)).toEqual(['o1']);
    // Leased: nobody else takes it until the lease ends.
    expect(await store.write((repo) => repo.claimGroup('hook', 10, 'other', T0, T0))).toBeNull();
    expect(await store.write((repo) => repo.settle('tok', T0))).toBe(1);
    expect(await store.write((repo) => repo.settle('tok', T0))).toBe(0);
    expect(await store.pendingCounts()).toEqual({ chat: 1 });
    expect(await store.write((repo) => repo.pruneDelivered(new Date(T0.getTime() + 1)))).toBe(1);
    expect((await store.listOutbox()).map((r) => r.id)).toEqual(['o2']);
  });
});
