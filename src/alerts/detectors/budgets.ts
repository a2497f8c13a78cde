/**
 * @module
 * The budget detectors: `burn_rate` (burn-rate.ts), `budget_threshold` and `forecast_over_budget`
 * (forecast.ts), one finding per budget (and per tier or threshold), scope {budget, tenant?,
 * project?, key?, feature?}. Budgets come from governance (DetectContext.budgets).
 */
import { budgetCostFilter, periodBounds, type Budget } from '../../governance/index.js';
import { parseUsd } from '../../money.js';
import { budgetAlertScope, dollars, isoMinute, periodNoun, spendBetween, usdNumber } from '../budget-spend.js';
import { burnFindings, measureBurn } from '../burn-rate.js';
import type { Detector } from '../detect.js';
import { projectBudget } from '../forecast.js';
import type { Finding } from '../types.js';

const DAY_MS = 86_400_000;

export const burnRateDetector: Detector = async (ctx) => {
  const floor = parseUsd(ctx.config.anomaly.min_impact_usd, 'alerts.anomaly.min_impact_usd');
  const burns = await Promise.all(ctx.budgets.map((b) => measureBurn(ctx.store, b, ctx.at, floor)));
  return burns.flatMap((burn) => (burn ? burnFindings(burn) : []));
};

/** limit × threshold, exact to a millionth of the threshold (governance's rounding). */
function thresholdNano(limit: bigint, threshold: number): bigint {
  return (limit * BigInt(Math.round(threshold * 1_000_000))) / 1_000_000n;
}

/**
 * The thresholds governance raises at settle time (gov_alerts), as findings: each threshold the
 * current period's spend has reached is one finding (variant = the threshold), page from 1 (the
 * whole budget) up, ticket below. A new period spends from zero, so they resolve at its start. A
 * zero limit needs some spend: "reached" must not mean "nothing happened yet".
 */
export const budgetThresholdDetector: Detector = async (ctx) => {
  const perBudget = await Promise.all(
    ctx.budgets.map(async (budget): Promise<Finding[]> => {
      const bounds = periodBounds(budget.period, budget.tz, ctx.at);
      const from = bounds.start ?? new Date(0);
      const spent = await spendBetween(ctx.store, budgetCostFilter(budget), from, ctx.at);
      if (spent <= 0n) return [];
      return budget.thresholds
        .filter((t) => spent >= thresholdNano(budget.limit_nano, t))
        .map((t) => ({
          kind: 'budget_threshold',
          severity: t >= 1 ? 'page' : 'ticket',
          scope: budgetAlertScope(budget),
          variant: String(t),
          value: usdNumber(spent),
          baseline: null,
          summary:
            `budget ${budget.id}: ${dollars(spent)} of ${periodNoun(budget.period)} ${dollars(budget.limit_nano)} ` +
            `spent (${percent(spent, budget.limit_nano)})${bounds.start ? ` since ${isoMinute(bounds.start)}` : ''}, ` +
            `threshold ${Math.round(t * 100)}%`,
        }));
    }),
  );
  return perBudget.flat();
};

function percent(spent: bigint, limit: bigint): string {
  return limit > 0n ? `${((Number(spent) / Number(limit)) * 100).toFixed(0)}%` : 'no limit';
}

/**
 * Early in a period a forecast rests on a few days of the period (the seasonal model reads the
 * weeks before, but the level may just have changed): forecasts stay quiet for the first 3 days (a
 * tenth of shorter periods), unless the budget is already going wildly: ≥ 3× the pro-rata spend
 * and ≥ 10% of the limit (the second keeps the first hours' few requests from counting as wild).
 */
function suppressedEarly(budget: Budget, start: Date, end: Date, at: Date, spent: bigint): boolean {
  const periodMs = end.getTime() - start.getTime();
  const elapsedMs = at.getTime() - start.getTime();
  if (elapsedMs >= Math.min(3 * DAY_MS, periodMs / 10)) return false;
  const limit = Number(budget.limit_nano);
  const wild = Number(spent) >= Math.max((3 * limit * elapsedMs) / periodMs, 0.1 * limit);
  return !wild;
}

/**
 * Ticket when the forecast's P50 for the period end exceeds the limit, page when even its P10
 * does. It keeps firing once the limit is reached (the projection still exceeds it; an alert that
 * resolved there would read as "fixed"); `budget_threshold` at 1 says the limit was reached.
 */
export const forecastOverBudgetDetector: Detector = async (ctx) => {
  const budgets = ctx.budgets.filter((b) => b.period !== 'total' && b.limit_nano > 0n);
  const findings = await Promise.all(
    budgets.map(async (budget): Promise<Finding | null> => {
      const p = await projectBudget(ctx.store, budget, ctx.at);
      if (!p || p.projected_nano <= budget.limit_nano) return null;
      if (suppressedEarly(budget, p.start, p.end, ctx.at, p.spent_nano)) return null;
      const when = p.exhaustion_at ? `; the limit is reached ${isoMinute(p.exhaustion_at)}` : '';
      return {
        kind: 'forecast_over_budget',
        severity: p.low_nano > budget.limit_nano ? 'page' : 'ticket',
        scope: budgetAlertScope(budget),
        value: usdNumber(p.projected_nano),
        baseline: usdNumber(budget.limit_nano),
        summary:
          `budget ${budget.id}: projected ${dollars(p.projected_nano)} by ${isoMinute(p.end)} ` +
          `(80% ${dollars(p.low_nano)}–${dollars(p.high_nano)}, ${p.method}) against ` +
          `${periodNoun(budget.period)} ${dollars(budget.limit_nano)}; ${dollars(p.spent_nano)} spent so far${when}`,
      };
    }),
  );
  return findings.filter((f): f is Finding => f !== null);
};
