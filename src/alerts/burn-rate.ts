/**
 * @module
 * Multiwindow, multi-burn-rate alerting on a spend budget (reference §(a), the SRE Workbook
 * tiers as Sloth encodes them). The budget's "error budget" is its limit; burning at rate 1 spends
 * exactly the limit by the end of the period.
 *
 * Decisions:
 * - **Flat pace.** r* = limit ÷ the real length of the current period (a 31-day month, a 23-hour
 *   DST day). Not the remaining-aware pace: with the flat pace each tier keeps its meaning ("page
 *   when 2% of the month's budget went in an hour"), and a hot start of the month is what
 *   `budget_threshold` and `forecast_over_budget` report. What is left only enters the summary,
 *   as the time to exhaustion at the current rate.
 * - **Fixed factors** for every period (14.4, 6, 3, 1: multiples of the pace), so 14.4 on a week
 *   budget still means "gone in a 14.4th of the period". A tier whose long window at its factor
 *   would need more than the whole budget (on a day budget: 6h×6, 1d×3, 3d×1) is skipped: it could
 *   only fire after the budget is spent, which `budget_threshold` reports.
 * - **Windows clipped at the period start, full-length denominators.** Spend before the period
 *   start belongs to the previous budget and is not counted; the expected spend of a window stays
 *   r* × its full length. So a tier fires at the start of a period only after the same share of the
 *   budget is gone as mid-period (2% for the 1h tier), not after a few requests in the first
 *   minutes (with clipped denominators, 5 minutes into a month a $5,000 budget's 1h tier would
 *   page at $8.33, 0.17% of it).
 * - **Absolute floor**: the long window must have spent at least `alerts.anomaly.min_impact_usd`
 *   (default $1, the floor the operator already set for spend alerts), so tiny budgets do not flap.
 * - `total` budgets have no period, hence no pace: they get threshold findings only.
 */
import { budgetCostFilter, periodBounds, type Budget } from '../governance/index.js';
import type { LedgerStore } from '../ledger/index.js';
import { budgetAlertScope, dollars, isoMinute, periodNoun, spendBetween } from './budget-spend.js';
import type { Finding, Severity } from './types.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

export interface BurnTier {
  /** The long window's name; the finding's variant. */
  name: string;
  longMs: number;
  shortName: string;
  shortMs: number;
  /** Burn rate (multiple of the even pace) both windows must exceed. */
  factor: number;
  severity: Severity;
}

export const BURN_TIERS: readonly BurnTier[] = [
  { name: '1h', longMs: HOUR_MS, shortName: '5m', shortMs: 5 * MINUTE_MS, factor: 14.4, severity: 'page' },
  { name: '6h', longMs: 6 * HOUR_MS, shortName: '30m', shortMs: 30 * MINUTE_MS, factor: 6, severity: 'page' },
  { name: '1d', longMs: 24 * HOUR_MS, shortName: '2h', shortMs: 2 * HOUR_MS, factor: 3, severity: 'ticket' },
  { name: '3d', longMs: 72 * HOUR_MS, shortName: '6h', shortMs: 6 * HOUR_MS, factor: 1, severity: 'ticket' },
];

/** Tiers that can fire before a budget of this period length is spent (see the module notes). */
export function applicableTiers(periodMs: number): BurnTier[] {
  return BURN_TIERS.filter((t) => t.factor * t.longMs <= periodMs);
}

/** Spend over a window as a multiple of the even pace over the window's full length. */
export function burnRate(spendNano: bigint, windowMs: number, limitNano: bigint, periodMs: number): number {
  return (Number(spendNano) * periodMs) / (Number(limitNano) * windowMs);
}

export interface TierBurn {
  tier: BurnTier;
  long_nano: bigint;
  short_nano: bigint;
  long_rate: number;
  short_rate: number;
  fires: boolean;
}

export interface BudgetBurn {
  budget: Budget;
  at: Date;
  start: Date;
  end: Date;
  /** Spent in [start, at). */
  spent_nano: bigint;
  tiers: TierBurn[];
}

/**
 * Burn rates of one budget's applicable tiers as of `at` (only spend before `at` counts); null for
 * budgets without a pace (`total`, or a limit of zero).
 */
export async function measureBurn(
  store: LedgerStore,
  budget: Budget,
  at: Date,
  floorNano: bigint,
): Promise<BudgetBurn | null> {
  const bounds = periodBounds(budget.period, budget.tz, at);
  if (bounds.start === null || bounds.end === null || budget.limit_nano <= 0n) return null;
  const start = bounds.start;
  const periodMs = bounds.end.getTime() - start.getTime();
  const tiers = applicableTiers(periodMs);
  const filter = budgetCostFilter(budget);
  const windows = [...new Set(tiers.flatMap((t) => [t.longMs, t.shortMs]))];
  const clipped = (ms: number): Date => new Date(Math.max(start.getTime(), at.getTime() - ms));
  const [spent, ...sums] = await Promise.all([
    spendBetween(store, filter, start, at),
    ...windows.map((ms) => spendBetween(store, filter, clipped(ms), at)),
  ]);
  const spendOf = new Map(windows.map((ms, i) => [ms, sums[i] ?? 0n]));
  return {
    budget,
    at,
    start,
    end: bounds.end,
    spent_nano: spent ?? 0n,
    tiers: tiers.map((tier) => {
      const long = spendOf.get(tier.longMs) ?? 0n;
      const short = spendOf.get(tier.shortMs) ?? 0n;
      const longRate = burnRate(long, tier.longMs, budget.limit_nano, periodMs);
      const shortRate = burnRate(short, tier.shortMs, budget.limit_nano, periodMs);
      return {
        tier,
        long_nano: long,
        short_nano: short,
        long_rate: longRate,
        short_rate: shortRate,
        fires: longRate > tier.factor && shortRate > tier.factor && long >= floorNano,
      };
    }),
  };
}

/** One finding per firing tier; value = the long window's burn rate, baseline = 1 (even pace). */
export function burnFindings(burn: BudgetBurn): Finding[] {
  return burn.tiers
    .filter((t) => t.fires)
    .map((t) => ({
      kind: 'burn_rate',
      severity: t.tier.severity,
      scope: budgetAlertScope(burn.budget),
      variant: t.tier.name,
      value: t.long_rate,
      baseline: 1,
      summary:
        `budget ${burn.budget.id}: at ${t.long_rate.toFixed(1)}× even pace over the last ${t.tier.name} ` +
        `(${t.tier.shortName}: ${t.short_rate.toFixed(1)}×; ${t.tier.severity} above ${t.tier.factor}×), ${exhaustion(burn, t)}`,
    }));
}

/**
 * When the budget runs out at the long window's current rate: the remaining budget divided by the
 * window's in-period spend per unit of in-period time (the real rate, even when the window is
 * clipped at the period start).
 */
export function exhaustionAt(burn: BudgetBurn, t: TierBurn): Date | null {
  const remaining = burn.budget.limit_nano - burn.spent_nano;
  if (remaining <= 0n) return burn.at;
  const elapsedMs = Math.min(t.tier.longMs, burn.at.getTime() - burn.start.getTime());
  if (t.long_nano <= 0n || elapsedMs <= 0) return null;
  const perMs = Number(t.long_nano) / elapsedMs;
  return new Date(burn.at.getTime() + Math.ceil(Number(remaining) / perMs));
}

function exhaustion(burn: BudgetBurn, t: TierBurn): string {
  const whose = `${periodNoun(burn.budget.period)} ${dollars(burn.budget.limit_nano)}`;
  if (burn.spent_nano >= burn.budget.limit_nano) return `${whose} is already spent (${dollars(burn.spent_nano)})`;
  const when = exhaustionAt(burn, t);
  if (when === null || when.getTime() >= burn.end.getTime())
    return `${whose} lasts past the period's end (${isoMinute(burn.end)})`;
  return `${whose} lasts until ${isoMinute(when)} (${dollars(burn.budget.limit_nano - burn.spent_nano)} left)`;
}
