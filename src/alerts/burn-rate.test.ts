import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../ledger/index.js';
import { ledgerDialects, type LedgerTarget } from '../ledger/testing/dialects.js';
import { parseUsd } from '../money.js';
import { applicableTiers, burnFindings, exhaustionAt, measureBurn } from './burn-rate.js';
import { burnRateDetector } from './detectors/budgets.js';
import { budget, context, DAY, HOUR, insert, MINUTE, spend } from './testing/budget-fixtures.js';

const sqlite = (await ledgerDialects()).find((d) => d.name === 'sqlite')!;
const FLOOR = parseUsd('1');

describe('burn rate', () => {
  let target: LedgerTarget;
  let store: LedgerStore;

  beforeEach(async () => {
    target = await sqlite.target();
    store = await target.open();
  });
  afterEach(async () => {
    await target.dispose();
  });

  it('keeps the tiers a period can fire before its budget is spent', () => {
    expect(applicableTiers(30 * DAY).map((t) => t.name)).toEqual(['1h', '6h', '1d', '3d']);
    expect(applicableTiers(7 * DAY).map((t) => t.name)).toEqual(['1h', '6h', '1d', '3d']);
    // A day: 1h × 14.4 is 60% of it; 6h × 6 would need 150% of the budget.
    expect(applicableTiers(DAY).map((t) => t.name)).toEqual(['1h']);
    expect(applicableTiers(23 * HOUR).map((t) => t.name)).toEqual(['1h']);
  });

  it('pages at the 1h/5m tier within the first hour of a fast burn, with the time to exhaustion', async () => {
    // $0.60/h (60% of the $1/h pace) since Nov 1, then $30/h ($0.50 a minute) from Nov 10 12:00.
    await insert(store, [
      ...spend('2026-11-01T00:00:00Z', 228 * 6, 10 * MINUTE, '0.1'),
      ...spend('2026-11-10T12:00:00Z', 60, MINUTE, '0.5'),
      // Another tenant burning far faster is not this budget's spend.
      ...spend('2026-11-10T12:00:00Z', 60, MINUTE, '50', { tenant: 'other' }),
    ]);
    const b = budget({ id: 'acme-monthly' });
    const fired = async (at: string) => burnFindings((await measureBurn(store, b, new Date(at), FLOOR))!);

    // 12:28: 1h window = 3 × $0.10 + 28 × $0.50 = $14.30 < 14.4 × $1.
    expect(await fired('2026-11-10T12:28:00Z')).toEqual([]);
    // 12:29: $14.80 over the hour and $2.50 over 5 minutes (30×): both windows burn.
    expect((await fired('2026-11-10T12:29:00Z')).map((f) => [f.variant, f.severity])).toEqual([['1h', 'page']]);

    const burn = (await measureBurn(store, b, new Date('2026-11-10T12:40:00Z'), FLOOR))!;
    const rates = Object.fromEntries(burn.tiers.map((t) => [t.tier.name, [t.long_rate, t.short_rate]]));
    expect(rates['1h']![0]).toBeCloseTo(20.2, 9); // $0.20 + $20.00 in the hour
    expect(rates['1h']![1]).toBeCloseTo(30, 9); // $2.50 in 5 minutes
    expect(rates['6h']![0]).toBeCloseTo(23.2 / 6, 9);
    expect(rates['1d']![0]).toBeCloseTo(34 / 24, 9);
    expect(rates['3d']![0]).toBeCloseTo(62.8 / 72, 9);
    expect(burn.spent_nano).toBe(parseUsd('156.8'));

    const findings = burnFindings(burn);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'burn_rate',
      severity: 'page',
      variant: '1h',
      scope: { budget: 'acme-monthly', tenant: 'acme' },
      baseline: 1,
    });
    expect(findings[0]!.value).toBeCloseTo(20.2, 9);
    // $563.20 left at $20.20/h: 27.88 h after 12:40.
    const expected = Date.parse('2026-11-10T12:40:00Z') + (563.2 / 20.2) * HOUR;
    expect(exhaustionAt(burn, burn.tiers[0]!)!.getTime()).toBeCloseTo(expected, -1);
    expect(findings[0]!.summary).toBe(
      "budget acme-monthly: at 20.2× even pace over the last 1h (5m: 30.0×; page above 14.4×), the month's " +
        '$720.00 lasts until 2026-11-11T16:32Z ($563.20 left)',
    );
  });

  it('clips windows at the period start: spend of the previous period does not count, the pace does', async () => {
    await insert(store, [
      // October's last three hours at $30/h: another period's budget.
      ...spend('2026-10-31T21:00:00Z', 180, MINUTE, '0.5'),
    ]);
    const b = budget({ id: 'acme-monthly' });
    let burn = (await measureBurn(store, b, new Date('2026-11-01T00:20:00Z'), FLOOR))!;
    expect(burn.start.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(burn.tiers.every((t) => t.long_nano === 0n && !t.fires)).toBe(true);

    // $60/h from midnight: after 20 minutes, $20 of the month is gone.
    await insert(store, spend('2026-11-01T00:00:00Z', 20, MINUTE, '1'));
    burn = (await measureBurn(store, b, new Date('2026-11-01T00:20:00Z'), FLOOR))!;
    const byTier = Object.fromEntries(burn.tiers.map((t) => [t.tier.name, t]));
    // Expected spend stays r* × the full window: $20 over "1h" is 20×, over "6h" 3.3×, so only the
    // 1h tier fires (a clipped denominator would have made it 60× and paged the 6h tier too).
    expect(byTier['1h']!.long_rate).toBeCloseTo(20, 9);
    expect(byTier['6h']!.long_rate).toBeCloseTo(20 / 6, 9);
    expect(burnFindings(burn).map((f) => f.variant)).toEqual(['1h']);
    // The current rate for the exhaustion is the in-period one: $20 in 20 minutes = $60/h.
    expect(exhaustionAt(burn, byTier['1h']!)?.toISOString()).toBe('2026-11-01T12:00:00.000Z');
  });

  it('a slow budget and a tiny budget under the absolute floor raise nothing', async () => {
    await insert(store, [
      ...spend('2026-11-01T00:00:00Z', 14 * 24 * 6, 10 * MINUTE, '0.1'),
      // tenant tiny: 18× its $0.05/h pace, but $0.90 in the hour is under the $1 floor.
      ...spend('2026-11-14T00:00:00Z', 60, MINUTE, '0.015', { tenant: 'tiny' }),
    ]);
    const ctx = context(store, '2026-11-14T01:00:00Z', [
      budget({ id: 'acme-monthly' }),
      budget({ id: 'tiny-monthly', scope: { tenant: 'tiny' }, limit_nano: parseUsd('36') }),
    ]);
    const tiny = (await measureBurn(store, ctx.budgets[1]!, ctx.at, FLOOR))!;
    expect(tiny.tiers[0]!.long_rate).toBeGreaterThan(14.4);
    expect(await burnRateDetector(ctx)).toEqual([]);
  });

  it('follows a budget scoped to a key or a feature, and skips total budgets', async () => {
    await insert(store, [
      ...spend('2026-11-14T00:00:00Z', 60, MINUTE, '0.5', { key_id: 'key-2', feature: 'summarize' }),
      ...spend('2026-11-14T00:00:00Z', 60, MINUTE, '0.01', { key_id: 'key-1', feature: 'chat' }),
    ]);
    const ctx = context(store, '2026-11-14T01:00:00Z', [
      budget({ id: 'key-2', scope: { tenant: 'acme', key: 'key-2' } }),
      budget({ id: 'key-1', scope: { tenant: 'acme', key: 'key-1' } }),
      budget({ id: 'summaries', scope: { feature: 'summarize' } }),
      budget({ id: 'acme-all', limit_nano: parseUsd('100000') }),
      budget({ id: 'acme-total', period: 'total' }),
    ]);
    const findings = await burnRateDetector(ctx);
    expect(findings.map((f) => [f.variant, f.scope])).toEqual([
      ['1h', { budget: 'key-2', tenant: 'acme', key: 'key-2' }],
      ['1h', { budget: 'summaries', feature: 'summarize' }],
    ]);
    expect(await measureBurn(store, ctx.budgets[4]!, ctx.at, FLOOR)).toBeNull();
  });

  it('paces a day budget over its real length and names an exhausted budget', async () => {
    // Europe/Berlin, 2026-10-25 has 25 hours (DST ends): pace $25/25h = $1/h.
    await insert(store, spend('2026-10-25T10:00:00Z', 30, MINUTE, '1'));
    const b = budget({ id: 'daily', period: 'day', tz: 'Europe/Berlin', limit_nano: parseUsd('25') });
    const burn = (await measureBurn(store, b, new Date('2026-10-25T10:30:00Z'), FLOOR))!;
    expect(burn.end.getTime() - burn.start.getTime()).toBe(25 * HOUR);
    expect(burn.tiers.map((t) => t.tier.name)).toEqual(['1h']);
    expect(burn.tiers[0]!.long_rate).toBeCloseTo(30, 9);
    expect(burnFindings(burn)[0]!.summary).toContain("the day's $25.00 is already spent ($30.00)");
  });
});
