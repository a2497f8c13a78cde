import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerStore, UsageEvent } from '../../ledger/index.js';
import { ledgerDialects, type LedgerTarget } from '../../ledger/testing/dialects.js';
import { makeEvent } from '../../ledger/testing/fixtures.js';
import { HOUR, context, insertAll, streamEvents } from '../testing/seasonal-fixtures.js';
import { cacheDropDetector, dataQualityDetector } from './quality.js';

const sqlite = (await ledgerDialects()).find((d) => d.name === 'sqlite');
const HOUR_START = Date.parse('2026-11-24T14:00:00Z');

/** `n` events of `tenant` spread over the scored hour. */
function hourOf(tenant: string, n: number, overrides: (i: number) => Partial<UsageEvent> = () => ({})): UsageEvent[] {
  return Array.from({ length: n }, (_, i) =>
    makeEvent({ tenant, time: new Date(HOUR_START + Math.floor((i * HOUR) / n)), ...overrides(i) }),
  );
}

describe.skipIf(sqlite === undefined)('dataQualityDetector (sqlite)', () => {
  let target: LedgerTarget;
  let store: LedgerStore;

  beforeAll(async () => {
    target = await sqlite!.target();
    store = await target.open();
    await insertAll(store, [
      // 60 requests: 10 unpriced, 20 cut off (estimated, interrupted), 5 estimated but complete.
      ...hourOf('acme', 60, (i) =>
        i < 10
          ? { model: i < 7 ? 'acme-ft-1' : 'acme-ft-2', cost_nano: null, price_ref: null }
          : i < 30
            ? { status: 'interrupted', usage_source: 'estimated' }
            : i < 35
              ? { usage_source: 'estimated' }
              : {},
      ),
      // Every request estimated, none interrupted.
      ...hourOf('beta', 80, () => ({ usage_source: 'estimated' })),
      // As bad as acme, but too few requests to judge.
      ...hourOf('gamma', 49, (i) =>
        i < 25 ? { status: 'interrupted', usage_source: 'estimated', cost_nano: null } : {},
      ),
      // Healthy.
      ...hourOf('delta', 200),
      // The hour before and the hour after: not the scored hour.
      ...hourOf('delta', 100, (i) => ({ time: new Date(HOUR_START - HOUR + i), cost_nano: null })),
      ...hourOf('delta', 100, (i) => ({ time: new Date(HOUR_START + HOUR + i), cost_nano: null })),
    ]);
  });
  afterAll(async () => {
    await target.dispose();
  });

  it('opens one ticket per tenant and problem in the last complete hour', async () => {
    const findings = await dataQualityDetector(context(store, '2026-11-24T15:05:00Z'));
    expect(
      findings.map(({ kind, variant, severity, scope, value, baseline }) => ({
        kind,
        variant,
        severity,
        scope,
        value,
        baseline,
      })),
    ).toEqual([
      {
        kind: 'data_quality',
        variant: 'unpriced',
        severity: 'ticket',
        scope: { tenant: 'acme' },
        value: 10 / 60,
        baseline: null,
      },
      {
        kind: 'data_quality',
        variant: 'estimated',
        severity: 'ticket',
        scope: { tenant: 'acme' },
        value: 25 / 60,
        baseline: null,
      },
      {
        kind: 'data_quality',
        variant: 'interrupted',
        severity: 'ticket',
        scope: { tenant: 'acme' },
        value: 20 / 60,
        baseline: null,
      },
      {
        kind: 'data_quality',
        variant: 'estimated',
        severity: 'ticket',
        scope: { tenant: 'beta' },
        value: 1,
        baseline: null,
      },
    ]);
    expect(findings[0]!.summary).toBe(
      '16.7% of 60 requests of tenant acme in 2026-11-24 14:00–15:00 UTC have no price (max 5.0%); ' +
        'models: acme-ft-1 (7), acme-ft-2 (3)',
    );
    expect(findings[2]!.summary).toBe(
      '33.3% of 60 requests of tenant acme in 2026-11-24 14:00–15:00 UTC were interrupted (max 20.0%)',
    );
  });

  it('honours the configured shares and minimum', async () => {
    const ctx = context(store, '2026-11-24T15:05:00Z', {
      data_quality: { max_unpriced_share: 0.5, max_estimated_share: 1, max_interrupted_share: 0.5, min_requests: 40 },
    });
    const findings = await dataQualityDetector(ctx);
    expect(findings.map((f) => [f.scope.tenant, f.variant])).toEqual([
      ['gamma', 'unpriced'],
      ['gamma', 'interrupted'],
    ]);
  });
});

describe.skipIf(sqlite === undefined)('cacheDropDetector (sqlite)', () => {
  let target: LedgerTarget;
  let store: LedgerStore;
  const FROM = Date.parse('2026-11-16T00:00:00Z');
  // The cache breaks at 13:00 and stays broken.
  const storm = (ms: number) => (ms >= HOUR_START - HOUR ? { buckets: { input: 20000, output: 500 } } : null);

  beforeAll(async () => {
    target = await sqlite!.target();
    store = await target.open();
    const stream = { project: 'p', key: 'k', model: 'claude-sonnet-4', peak: 80 } as const;
    await insertAll(store, [
      // Usually 60% of the prompt from the cache; the cache breaks in one of two features.
      ...streamEvents(
        {
          ...stream,
          tenant: 'acme',
          feature: 'chat',
          buckets: { input: 8000, cache_read: 12000, output: 500 },
          seed: 1,
          incident: storm,
        },
        FROM,
        HOUR_START + HOUR,
      ),
      ...streamEvents(
        {
          ...stream,
          tenant: 'acme',
          feature: 'faq',
          model: 'claude-haiku-4',
          buckets: { input: 8000, cache_read: 12000, output: 500 },
          seed: 2,
        },
        FROM,
        HOUR_START + HOUR,
      ),
      // Usually 10% cached: losing it is not worth an alert.
      ...streamEvents(
        {
          ...stream,
          tenant: 'beta',
          feature: 'chat',
          buckets: { input: 18000, cache_read: 2000, output: 500 },
          seed: 3,
          incident: storm,
        },
        FROM,
        HOUR_START + HOUR,
      ),
    ]);
  }, 60_000);
  afterAll(async () => {
    await target.dispose();
  });

  it('names the feature whose cache hits fell below half of its usual share', async () => {
    const findings = await cacheDropDetector(context(store, '2026-11-24T15:00:00Z'));
    expect(findings.map(({ kind, severity, scope, value }) => ({ kind, severity, scope, value }))).toEqual([
      { kind: 'cache_drop', severity: 'ticket', scope: { tenant: 'acme', feature: 'chat' }, value: 0 },
    ]);
    expect(findings[0]!.baseline!).toBeCloseTo(0.6, 2);
    expect(findings[0]!.summary).toMatch(
      /^Provider cache hits of tenant acme, feature chat: 0\.0% of [\d,]+ prompt tokens in 2026-11-24 13:00–15:00 UTC/,
    );
    expect(findings[0]!.summary).toContain('also seen in tenant acme, model claude-sonnet-4');
  });

  it('waits for a second hour: caches also go cold on their own', async () => {
    expect(await cacheDropDetector(context(store, '2026-11-24T14:00:00Z'))).toEqual([]);
  });
});
