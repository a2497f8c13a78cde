import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../ledger/index.js';
import { ledgerDialects, type LedgerTarget } from '../ledger/testing/dialects.js';
import { makeEvent } from '../ledger/testing/fixtures.js';
import {
  changeText,
  dailyBands,
  describeScope,
  hourLabel,
  ratioSamples,
  readSeries,
  scoredHourStart,
  seriesWindow,
  sumBuckets,
  usdText,
} from './series.js';

describe('the scored hour', () => {
  it('is the last complete hour before `at`', () => {
    expect(new Date(scoredHourStart(new Date('2026-11-24T15:00:00Z'))).toISOString()).toBe('2026-11-24T14:00:00.000Z');
    expect(new Date(scoredHourStart(new Date('2026-11-24T15:59:59.999Z'))).toISOString()).toBe(
      '2026-11-24T14:00:00.000Z',
    );
    const window = seriesWindow(new Date('2026-11-24T15:20:00Z'), 3);
    expect(window).toEqual({
      startMs: Date.parse('2026-11-24T12:00:00Z'),
      endMs: Date.parse('2026-11-24T15:00:00Z'),
      hours: 3,
      ranges: [[0, 3]],
    });
    expect(hourLabel(window)).toBe('2026-11-24 14:00–15:00 UTC');
    expect(hourLabel(window, 2)).toBe('2026-11-24 13:00–15:00 UTC');
  });

  it('reads the scored hour ±halfWidth on past days, and the recent hours', () => {
    const window = dailyBands(new Date('2026-11-24T15:20:00Z'), { days: 3, halfWidth: 1, recentHours: 24 });
    // 3 days back plus one hour before the oldest band's centre, through 14:00–15:00 today.
    expect(window.hours).toBe(3 * 24 + 2);
    expect(new Date(window.startMs).toISOString()).toBe('2026-11-21T13:00:00.000Z');
    // Day 3 (21st 13–16h), day 2 (22nd 13–16h), then day 1's band (23rd from 13h) runs into the
    // 24 recent hours and the scored hour.
    expect(window.ranges).toEqual([
      [0, 3],
      [24, 27],
      [48, 74],
    ]);
    const bands = dailyBands(new Date('2026-11-24T15:00:00Z'), { days: 2, halfWidth: 1, recentHours: 0 });
    expect(bands.ranges).toEqual([
      [0, 3],
      [24, 27],
      [49, 50],
    ]);
  });

  it('formats scopes, money and changes for summaries', () => {
    expect(describeScope({ tenant: 'acme', feature: 'search' })).toBe('tenant acme, feature search');
    expect(usdText(12.345)).toBe('$12.35');
    expect(usdText(0.01234)).toBe('$0.0123');
    expect(changeText(30, 10)).toBe('+200%');
    expect(changeText(5, 10)).toBe('-50%');
    expect(changeText(5, 0)).toBe('new');
  });

  it('keeps the ratio samples of hours with enough requests only', () => {
    expect(ratioSamples([10, 20, 30, 40], [1, 2, 0, 4], [5, 1, 5, 5], 5, 3)).toEqual([
      { numerator: 10, denominator: 1 },
    ]);
    expect(ratioSamples([10, 20, 30, 40], [1, 2, 0, 4], [5, 5, 5, Number.NaN], 5, 4)).toEqual([
      { numerator: 10, denominator: 1 },
      { numerator: 20, denominator: 2 },
    ]);
  });
});

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(`readSeries [${dialect.name}]${dialect.skip ?? ''}`, () => {
    let target: LedgerTarget;
    let store: LedgerStore;
    const at = new Date('2026-11-24T15:10:00Z');

    beforeAll(async () => {
      target = await dialect.target();
      store = await target.open();
      const ev = (time: string, overrides: Parameters<typeof makeEvent>[0] = {}) =>
        makeEvent({ time: new Date(time), tenant: 'acme', feature: 'search', ...overrides });
      await store.insertEvents([
        // Before the window: not read.
        ev('2026-11-24T11:59:59Z'),
        ev('2026-11-24T12:05:00Z', { buckets: { input: 100, output: 20 }, cost_nano: 1_500_000n }),
        ev('2026-11-24T14:10:00Z', { buckets: { input: 300, cache_read: 50 }, cost_nano: 2_000_000n }),
        ev('2026-11-24T14:50:00Z', { buckets: { input: 200 }, cost_nano: 500_000_000n }),
        ev('2026-11-24T14:20:00Z', { feature: null, cost_nano: 3_000_000n }),
        ev('2026-11-24T13:30:00Z', { tenant: 'beta', feature: 'search', cost_nano: 1_000_000n }),
        // The current, partial hour and later: not read.
        ev('2026-11-24T15:00:00Z', { cost_nano: 9_000_000_000n }),
        ev('2026-11-24T15:05:00Z', { cost_nano: 9_000_000_000n }),
      ]);
    });
    afterAll(async () => {
      await target.dispose();
    });

    it('returns dense hourly arrays per tenant × feature, skipping events without a feature', async () => {
      const window = seriesWindow(at, 3);
      const series = await readSeries(store, window, 'feature');
      const byScope = new Map(series.map((s) => [describeScope(s.scope), s]));
      expect([...byScope.keys()].sort()).toEqual(['tenant acme, feature search', 'tenant beta, feature search']);
      const acme = byScope.get('tenant acme, feature search')!;
      expect(acme.scope).toEqual({ tenant: 'acme', feature: 'search' });
      expect(Array.from(acme.requests)).toEqual([1, 0, 2]);
      expect(Array.from(acme.cost)).toEqual([0.0015, 0, 0.502]);
      expect(Array.from(acme.tokens.input!)).toEqual([100, 0, 500]);
      expect(Array.from(acme.tokens.output!)).toEqual([20, 0, 0]);
      expect(Array.from(acme.tokens.cache_read!)).toEqual([0, 0, 50]);
      expect(acme.tokens.reasoning).toBeUndefined();
      expect(acme.firstSeen).toBe(0);
      expect(Array.from(sumBuckets(acme, ['input', 'cache_read']))).toEqual([100, 0, 550]);
      const beta = byScope.get('tenant beta, feature search')!;
      expect(Array.from(beta.requests)).toEqual([0, 1, 0]);
      expect(beta.firstSeen).toBe(1);
    });

    it('leaves the hours outside the bands NaN, so they cannot pass for quiet ones', async () => {
      const window = {
        ...seriesWindow(at, 3),
        ranges: [
          [0, 1],
          [2, 3],
        ] as const,
      };
      const acme = (await readSeries(store, window, 'feature')).find((s) => s.scope.tenant === 'acme')!;
      expect(Array.from(acme.requests)).toEqual([1, Number.NaN, 2]);
      expect(Array.from(acme.tokens.output!)).toEqual([20, Number.NaN, 0]);
      expect(Array.from(sumBuckets(acme, ['input', 'reasoning']))).toEqual([100, Number.NaN, 500]);
    });

    it('returns the tenant series with every event of the tenant', async () => {
      const series = await readSeries(store, seriesWindow(at, 3), 'tenant');
      const acme = series.find((s) => s.scope.tenant === 'acme')!;
      expect(acme.scope).toEqual({ tenant: 'acme' });
      expect(Array.from(acme.requests)).toEqual([1, 0, 3]);
      expect(Array.from(acme.cost)).toEqual([0.0015, 0, 0.505]);
    });
  });
}
