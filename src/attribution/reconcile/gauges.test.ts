import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../../ledger/kysely-store.js';
import { ledgerDialects, type LedgerTarget } from '../../ledger/testing/dialects.js';
import { PertokenMetrics } from '../../metrics/index.js';
import { createPriceBook } from '../../pricing/index.js';
import { observeReconciliation, parseThreshold, reconcile, ReconciliationSummaryCache, summarize } from './index.js';
import { bill, D, DAY_MS, metered } from './testing/fixtures.js';

const book = createPriceBook();
const sqlite = (await ledgerDialects()).find((d) => d.name === 'sqlite')!;

/** The `name{provider,month}` samples of the exposition, as numbers. */
async function samples(metrics: PertokenMetrics, name: string): Promise<Record<string, number>> {
  const { body } = await metrics.exposition();
  const out: Record<string, number> = {};
  for (const m of body.matchAll(new RegExp(`^${name}\\{provider="([^"]+)",month="([^"]+)"\\} (\\S+)$`, 'gm')))
    out[`${m[1]}/${m[2]}`] = Number(m[3]);
  return out;
}

describe('reconciliation summary gauges', () => {
  let target: LedgerTarget;
  let store: LedgerStore;
  let now: Date;
  let errors: unknown[];
  let cache: ReconciliationSummaryCache;
  let metrics: PertokenMetrics;

  beforeEach(async () => {
    target = await sqlite.target();
    store = await target.open();
    now = new Date(D + 12 * 3_600_000);
    errors = [];
    cache = new ReconciliationSummaryCache({
      store,
      priceBook: book,
      maxAgeMs: 60_000,
      now: () => now,
      onError: (err) => errors.push(err),
    });
    metrics = new PertokenMetrics();
    observeReconciliation(metrics, cache);
  });
  afterEach(async () => {
    await cache.idle();
    await target.dispose();
  });

  it('exports metered, billed and the explained share per provider and month, from the cache', async () => {
    const october = D - 20 * DAY_MS;
    await store.insertEvents([
      metered('t-match'),
      metered('t-price'),
      metered('t-odd', { buckets: { input: 1_000_000 }, usd: '2.5' }),
      metered('t-old', { time: new Date(october + 3_600_000) }),
    ]);
    await store.importBillingRows({
      importId: 'i1',
      rows: [
        bill({ tenant: 't-match' }),
        bill({ tenant: 't-price', usd: '3' }),
        bill({ tenant: 't-odd', quantity: 1_400_000n, usd: '4' }),
        bill({ tenant: 't-old', start_ms: october }),
      ],
    });
    // Nothing computed yet: the first scrape answers at once (empty) and starts the refresh.
    expect(await samples(metrics, 'pertoken_billing_metered_usd')).toEqual({});
    await cache.idle();

    expect(await samples(metrics, 'pertoken_billing_metered_usd')).toEqual({
      'openai/2026-10': 2.5,
      'openai/2026-11': 7.5,
    });
    expect(await samples(metrics, 'pertoken_billing_billed_usd')).toEqual({
      'openai/2026-10': 2.5,
      'openai/2026-11': 9.5,
    });
    const summary = summarize(
      await reconcile(store, book, {
        from: new Date(Date.UTC(2026, 9, 1)),
        to: new Date(D + DAY_MS),
        threshold: parseThreshold(null, 't'),
      }),
    );
    const ratios = await samples(metrics, 'pertoken_billing_explained_ratio');
    expect(ratios['openai/2026-10']).toBe(1);
    const november = summary.months.find((m) => m.month === '2026-11')!;
    expect(november.gaps).toBeGreaterThan(0);
    expect(ratios['openai/2026-11']).toBe(november.explained_pct / 100);
    expect((await samples(metrics, 'pertoken_billing_gap_usd'))['openai/2026-11']).toBe(Number(november.gap_usd));
    expect(errors).toEqual([]);
  });

  it('refreshes only when stale, in the background, and keeps the last values on error', async () => {
    await store.insertEvents([metered('t-a')]);
    await store.importBillingRows({ importId: 'i1', rows: [bill({ tenant: 't-a' })] });
    await cache.refresh();
    expect(await samples(metrics, 'pertoken_billing_metered_usd')).toEqual({ 'openai/2026-11': 2.5 });

    await store.insertEvents([metered('t-b')]);
    now = new Date(now.getTime() + 30_000);
    await metrics.exposition();
    await cache.idle();
    // Fresh (30 s < 60 s): no recomputation.
    expect(await samples(metrics, 'pertoken_billing_metered_usd')).toEqual({ 'openai/2026-11': 2.5 });

    now = new Date(now.getTime() + 60_000);
    // The stale scrape still answers with the old value; the next one sees the refresh.
    expect(await samples(metrics, 'pertoken_billing_metered_usd')).toEqual({ 'openai/2026-11': 2.5 });
    await cache.idle();
    expect(await samples(metrics, 'pertoken_billing_metered_usd')).toEqual({ 'openai/2026-11': 5 });

    await target.dispose();
    now = new Date(now.getTime() + 120_000);
    await metrics.exposition();
    await cache.idle();
    expect(errors).toHaveLength(1);
    expect(await samples(metrics, 'pertoken_billing_metered_usd')).toEqual({ 'openai/2026-11': 5 });
    target = await sqlite.target();
  });
});
