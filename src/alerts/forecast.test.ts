import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import type { LedgerStore } from '../ledger/index.js';
import { ledgerDialects, type LedgerTarget } from '../ledger/testing/dialects.js';
import { seededRandom } from '../ledger/testing/fixtures.js';
import { formatUsd, parseUsd } from '../money.js';
import { forecastSpend, parseForecastScope, projectBudget } from './forecast.js';
import { budget, HOUR, insert, spend } from './testing/budget-fixtures.js';

const sqlite = (await ledgerDialects()).find((d) => d.name === 'sqlite')!;

describe('month-end forecast', () => {
  let target: LedgerTarget;
  let store: LedgerStore;

  beforeEach(async () => {
    target = await sqlite.target();
    store = await target.open();
  });
  afterEach(async () => {
    await target.dispose();
  });

  const forecast = (scope: string, at: string, budgets = [budget({ id: 'acme-monthly' })]) =>
    forecastSpend({ store, scope: parseForecastScope(scope), period: 'month', at: new Date(at), budgets });

  it('projects constant hourly spend exactly, with a closed interval and the exact exhaustion', async () => {
    // $1 every hour since Oct 1 (six weeks of history at Nov 10), and after `at` a spike that must not count.
    await insert(store, [
      ...spend('2026-10-01T00:00:00Z', 40 * 24 + 9 * 24, HOUR, '1'),
      ...spend('2026-11-10T00:00:00Z', 1, HOUR, '5000'),
      ...spend('2026-11-01T00:00:00Z', 100, HOUR, '3', { tenant: 'other' }),
    ]);
    expect(await forecast('tenant:acme', '2026-11-10T00:00:00Z')).toEqual({
      scope: 'tenant:acme',
      period_start: '2026-11-01T00:00:00.000Z',
      period_end: '2026-12-01T00:00:00.000Z',
      spent_usd: '216.000000000',
      projected_usd: '720.000000000',
      low_usd: '720.000000000',
      high_usd: '720.000000000',
      interval: 0.8,
      method: 'seasonal',
    });
    // $500 is reached after 500 hours of November: 216 spent, 284 to go at $1/h.
    const b = budget({ id: 'acme-500', limit_nano: parseUsd('500') });
    expect(await forecast('budget:acme-500', '2026-11-10T00:00:00Z', [b])).toMatchObject({
      scope: 'budget:acme-500',
      projected_usd: '720.000000000',
      limit_usd: '500.000000000',
      exhaustion_at: '2026-11-21T20:00:00.000Z',
    });
    // A budget the projection stays under has no exhaustion in the period.
    const big = budget({ id: 'acme-big', limit_nano: parseUsd('1000') });
    expect((await forecast('budget:acme-big', '2026-11-10T00:00:00Z', [big])).exhaustion_at).toBeNull();
    // Already spent: when, inside the hour it happened (spend assumed even within the hour).
    const small = budget({ id: 'acme-100', limit_nano: parseUsd('100') });
    expect((await forecast('budget:acme-100', '2026-11-10T00:00:00Z', [small])).exhaustion_at).toBe(
      '2026-11-05T04:00:00.000Z',
    );
    // Scope all adds the other tenant: 100 hours × $3 in November.
    expect((await forecast('all', '2026-11-10T00:00:00Z')).spent_usd).toBe('516.000000000');
  });

  it('falls back to the run rate for a 3-day-old series', async () => {
    await insert(store, spend('2026-11-07T00:00:00Z', 72, HOUR, '1'));
    expect(await forecast('tenant:acme', '2026-11-10T00:00:00Z')).toMatchObject({
      method: 'run_rate',
      spent_usd: '72.000000000',
      projected_usd: '576.000000000', // 72 + 21 days × $24
      low_usd: '576.000000000',
      high_usd: '576.000000000',
    });
  });

  it('follows the weekly profile the run rate misses', async () => {
    // Weekdays 09–18 UTC $5/h, otherwise $1/h, since Sep 28 (a Monday).
    const usd = (_: number, t: Date): string => {
      const office = t.getUTCDay() >= 1 && t.getUTCDay() <= 5 && t.getUTCHours() >= 9 && t.getUTCHours() < 18;
      return office ? '5' : '1';
    };
    const hours = (Date.parse('2026-11-14T00:00:00Z') - Date.parse('2026-09-28T00:00:00Z')) / HOUR;
    const events = spend('2026-09-28T00:00:00Z', hours + 17 * 24, HOUR, usd);
    await insert(store, events);
    const at = Date.parse('2026-11-14T00:00:00Z'); // a Saturday
    const november = events.filter((e) => e.time.getTime() >= Date.parse('2026-11-01T00:00:00Z'));
    const total = november.reduce((sum, e) => sum + (e.cost_nano ?? 0n), 0n);
    const spent = november.filter((e) => e.time.getTime() < at).reduce((sum, e) => sum + (e.cost_nano ?? 0n), 0n);
    const f = await forecast('tenant:acme', new Date(at).toISOString());
    expect(f).toMatchObject({ method: 'seasonal', spent_usd: formatUsd(spent), projected_usd: formatUsd(total) });
    // The run rate from a weekend-heavy first 13 days would say something else.
    expect(formatUsd((spent * 30n) / 13n)).not.toBe(f.projected_usd);
  });

  it('gives an 80% interval from daily residuals that narrows to nothing at the period end', async () => {
    const random = seededRandom(7);
    // Each day's hours at $1 ± 30% (one factor per day): days vary, hours within a day do not.
    const dayFactor = new Map<string, number>();
    const usd = (_: number, t: Date): string => {
      const day = t.toISOString().slice(0, 10);
      if (!dayFactor.has(day)) dayFactor.set(day, 0.7 + 0.6 * random());
      return dayFactor.get(day)!.toFixed(6);
    };
    await insert(store, spend('2026-10-01T00:00:00Z', 61 * 24, HOUR, usd));
    const widths: number[] = [];
    for (const at of ['2026-11-05T00:00:00Z', '2026-11-20T00:00:00Z', '2026-11-30T12:00:00Z']) {
      const f = await forecast('tenant:acme', at);
      const [low, mid, high] = [Number(f.low_usd), Number(f.projected_usd), Number(f.high_usd)];
      expect(low).toBeLessThan(mid);
      expect(high - mid).toBeCloseTo(mid - low, 6);
      widths.push(high - low);
    }
    expect(widths[0]).toBeGreaterThan(widths[1]!);
    expect(widths[1]).toBeGreaterThan(widths[2]!);
    // A millisecond before the end nothing is left to be uncertain about.
    const last = await forecast('tenant:acme', '2026-11-30T23:59:59.999Z');
    expect(Number(last.high_usd) - Number(last.low_usd)).toBeLessThan(0.01);
    expect(last.spent_usd).toBe(last.low_usd);
  });

  it("forecasts a budget's own period in its time zone, with its scope", async () => {
    await insert(store, [
      ...spend('2026-11-09T00:00:00Z', 48, HOUR, '1', { key_id: 'key-2' }),
      ...spend('2026-11-09T00:00:00Z', 48, HOUR, '7', { key_id: 'key-1' }),
    ]);
    const week = budget({
      id: 'key-2-weekly',
      scope: { tenant: 'acme', key: 'key-2' },
      period: 'week',
      tz: 'America/New_York',
      limit_nano: parseUsd('100'),
    });
    const p = (await projectBudget(store, week, new Date('2026-11-11T00:00:00Z')))!;
    // The week of Monday Nov 9, New York time (UTC−5).
    expect(p.start.toISOString()).toBe('2026-11-09T05:00:00.000Z');
    expect(p.end.toISOString()).toBe('2026-11-16T05:00:00.000Z');
    expect(p.spent_nano).toBe(parseUsd('43')); // key-2 from 05:00 on the 9th
    expect(p.method).toBe('run_rate');
    expect(
      await projectBudget(store, budget({ id: 'all-time', period: 'total' }), new Date('2026-11-11T00:00:00Z')),
    ).toBeNull();
  });

  it('refuses unknown scopes, unknown budgets and total budgets', async () => {
    expect(parseForecastScope('project:search')).toEqual({ project: 'search' });
    expect(() => parseForecastScope('team:x')).toThrow(/expected all, tenant:ID, project:ID or budget:ID/);
    await expect(forecast('budget:nope', '2026-11-10T00:00:00Z')).rejects.toMatchObject({ code: 'not_found' });
    const total = budget({ id: 'all-time', period: 'total' });
    await expect(forecast('budget:all-time', '2026-11-10T00:00:00Z', [total])).rejects.toBeInstanceOf(PertokenError);
  });
});
