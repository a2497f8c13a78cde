import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../../ledger/index.js';
import { ledgerDialects, type LedgerTarget } from '../../ledger/testing/dialects.js';
import { parseUsd } from '../../money.js';
import { projectBudget } from '../forecast.js';
import { budget, context, DAY, HOUR, insert, MINUTE, spend } from '../testing/budget-fixtures.js';
import type { Finding } from '../types.js';
import { budgetThresholdDetector, burnRateDetector, forecastOverBudgetDetector } from './budgets.js';

const sqlite = (await ledgerDialects()).find((d) => d.name === 'sqlite')!;

/**
 * Hourly spend of `perHour` × (1 ± spread) on alternate days (counted from 1970, so months do not
 * break the rhythm): days differ, while the same weekday 1–4 weeks back is high and low twice each,
 * so the seasonal medians sit on the mean and the forecast sees day-to-day noise of ± spread.
 */
function month(perHour: number, spread: number): (i: number, t: Date) => string {
  return (_, t) => (perHour * (Math.floor(t.getTime() / DAY) % 2 === 1 ? 1 + spread : 1 - spread)).toFixed(6);
}

const OCT_NOV_HOURS = 61 * 24;

describe('budget detectors', () => {
  let target: LedgerTarget;
  let store: LedgerStore;

  beforeEach(async () => {
    target = await sqlite.target();
    store = await target.open();
  });
  afterEach(async () => {
    await target.dispose();
  });

  const all = async (at: string, budgets = [budget({ id: 'acme-monthly' })]): Promise<Finding[]> => {
    const ctx = context(store, at, budgets);
    return [
      ...(await burnRateDetector(ctx)),
      ...(await budgetThresholdDetector(ctx)),
      ...(await forecastOverBudgetDetector(ctx)),
    ];
  };
  const brief = (fs: Finding[]) => fs.map((f) => [f.kind, f.severity, f.variant ?? null]);

  it('a slow month under budget raises nothing', async () => {
    await insert(store, spend('2026-10-01T00:00:00Z', OCT_NOV_HOURS, HOUR, month(0.4, 0.2)));
    for (const at of ['2026-11-02T00:00:00Z', '2026-11-15T12:30:00Z', '2026-11-29T00:00:00Z'])
      expect(await all(at)).toEqual([]);
  });

  it('a steady month over budget: a forecast ticket long before the limit, then thresholds 0.5 and 0.8', async () => {
    // $1.05/h on average against a $1/h pace: $756 by the end of a $720 November.
    await insert(store, spend('2026-10-01T00:00:00Z', OCT_NOV_HOURS, HOUR, month(1.05, 0.3)));
    const b = budget({ id: 'acme-monthly' });
    const p = (await projectBudget(store, b, new Date('2026-11-10T00:00:00Z')))!;
    expect(p.spent_nano).toBeLessThan(b.limit_nano / 2n);
    expect(p.projected_nano).toBeGreaterThan(b.limit_nano);
    expect(Math.abs(Number(p.projected_nano) / 1e9 - 756)).toBeLessThan(756 * 0.01);
    expect(p.low_nano).toBeLessThan(b.limit_nano);

    // (A steady 5% over the pace may also open burn-rate tickets at the 3d tier: not asserted here.)
    const nov10 = (await all('2026-11-10T00:00:00Z')).filter((f) => f.kind !== 'burn_rate');
    expect(brief(nov10)).toEqual([['forecast_over_budget', 'ticket', null]]);
    expect(nov10[0]).toMatchObject({ scope: { budget: 'acme-monthly', tenant: 'acme' }, baseline: 720 });
    expect(nov10[0]!.value).toBeCloseTo(Number(p.projected_nano) / 1e9, 6);
    expect(nov10[0]!.summary).toMatch(
      /^budget acme-monthly: projected \$7\d\d\.\d\d by 2026-12-01T00:00Z \(80% \$\d+\.\d\d–\$\d+\.\d\d, seasonal\) against the month's \$720\.00; \$2\d\d\.\d\d spent so far; the limit is reached 2026-11-\d\dT\d\d:\d\dZ$/,
    );

    const nov26 = (await all('2026-11-26T00:00:00Z')).filter((f) => f.kind !== 'burn_rate');
    expect(brief(nov26)).toEqual([
      ['budget_threshold', 'ticket', '0.5'],
      ['budget_threshold', 'ticket', '0.8'],
      ['forecast_over_budget', expect.stringMatching(/ticket|page/), null],
    ]);
    expect(nov26[0]!.summary).toMatch(
      /^budget acme-monthly: \$\d+\.\d\d of the month's \$720\.00 spent \(\d+%\) since 2026-11-01T00:00Z, threshold 50%$/,
    );

    // A new period spends from zero: the thresholds resolve (no finding).
    expect(brief(await all('2026-12-01T00:10:00Z'))).toEqual([]);
  });

  it('pages when even the low end of the forecast is over, and at threshold 1', async () => {
    await insert(store, spend('2026-10-01T00:00:00Z', OCT_NOV_HOURS, HOUR, '1.5'));
    // 1.5× the pace for days: the 3d/6h burn-rate tier (factor 1) opens a ticket too.
    expect(brief(await all('2026-11-10T00:00:00Z'))).toEqual([
      ['burn_rate', 'ticket', '3d'],
      ['forecast_over_budget', 'page', null],
    ]);
    expect(brief(await all('2026-11-21T00:00:00Z'))).toEqual([
      ['burn_rate', 'ticket', '3d'],
      ['budget_threshold', 'ticket', '0.5'],
      ['budget_threshold', 'ticket', '0.8'],
      ['budget_threshold', 'page', '1'],
      ['forecast_over_budget', 'page', null],
    ]);
  });

  it('keeps forecasts quiet in the first 3 days unless the budget is already going wildly', async () => {
    await insert(store, spend('2026-10-01T00:00:00Z', OCT_NOV_HOURS, HOUR, '1.5'));
    const b = budget({ id: 'acme-monthly' });
    expect((await projectBudget(store, b, new Date('2026-11-03T12:00:00Z')))!.projected_nano).toBeGreaterThan(
      b.limit_nano,
    );
    const forecasts = async (at: string) => forecastOverBudgetDetector(context(store, at, [b]));
    expect(await forecasts('2026-11-03T12:00:00Z')).toEqual([]);
    expect(brief(await forecasts('2026-11-04T00:00:00Z'))).toEqual([['forecast_over_budget', 'page', null]]);

    // A tenant that spent $80 of $720 in its first 2 hours (11% of the limit, 40× the pace).
    await insert(store, spend('2026-11-01T00:00:00Z', 120, MINUTE, '0.666666667', { tenant: 'wild' }));
    const wild = budget({ id: 'wild', scope: { tenant: 'wild' } });
    const early = await forecastOverBudgetDetector(context(store, '2026-11-01T02:00:00Z', [wild]));
    // Two hours of history: the run rate is far over, but its interval is too wide for a page.
    expect(brief(early)).toEqual([['forecast_over_budget', 'ticket', null]]);
    expect(early[0]!.summary).toContain('run_rate');
  });

  it('thresholds of a key budget and a total budget', async () => {
    await insert(store, [
      ...spend('2026-11-01T00:00:00Z', 10, HOUR, '10', { key_id: 'key-2' }),
      ...spend('2026-11-01T00:00:00Z', 10, HOUR, '100', { key_id: 'key-1' }),
    ]);
    const ctx = context(store, '2026-11-02T00:00:00Z', [
      budget({ id: 'key-2', scope: { tenant: 'acme', key: 'key-2' }, limit_nano: parseUsd('150') }),
      budget({ id: 'lifetime', period: 'total', limit_nano: parseUsd('2000'), thresholds: [0.5] }),
      budget({ id: 'free', limit_nano: 0n }),
    ]);
    const found = await budgetThresholdDetector(ctx);
    expect(found.map((f) => [f.scope, f.variant, f.value])).toEqual([
      [{ budget: 'key-2', tenant: 'acme', key: 'key-2' }, '0.5', 100],
      [{ budget: 'lifetime', tenant: 'acme' }, '0.5', 1100],
      [{ budget: 'free', tenant: 'acme' }, '0.5', 1100],
      [{ budget: 'free', tenant: 'acme' }, '0.8', 1100],
      [{ budget: 'free', tenant: 'acme' }, '1', 1100],
    ]);
    expect(found[1]!.summary).toBe('budget lifetime: $1,100.00 of the total $2,000.00 spent (55%), threshold 50%');
  });
});
