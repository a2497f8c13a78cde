/**
 * @module
 * Month-end (period-end) spend forecasts: `GET /api/v1/forecast` and the `forecast_over_budget`
 * detector. Reads a scope's hourly spend from the ledger (5 weeks, through the hourly rollup),
 * models what remains of the period (forecast-model.ts) and adds it to the exact spend so far.
 *
 * A budget scope forecasts the budget's own current period (day, week or month in its time zone)
 * with its scope filter, and adds `limit_usd` and `exhaustion_at`; the other scopes forecast the
 * UTC calendar month. Only events before `at` count.
 */
import { invalidInput, PertokenError } from '../errors.js';
import { budgetCostFilter, periodBounds, type Budget } from '../governance/index.js';
import type { LedgerStore } from '../ledger/index.js';
import { formatUsd } from '../money.js';
import type { CostFilter } from './budget-spend.js';
import {
  crossing,
  halfWidth,
  HOUR_MS,
  LOOKBACK_HOURS,
  modelSpend,
  type ForecastMethod,
  type Segment,
} from './forecast-model.js';

export type ForecastScope = 'all' | { tenant: string } | { project: string } | { budget: string };
export type ForecastPeriod = 'month';

export interface ForecastInput {
  store: LedgerStore;
  scope: ForecastScope;
  period: ForecastPeriod;
  at: Date;
  /** Budget definitions, for a `{budget}` scope. */
  budgets: readonly Budget[];
}

/** DESIGN §3 `GET /api/v1/forecast`; money as 9-decimal strings. */
export interface ForecastJson {
  scope: string;
  period_start: string;
  period_end: string;
  spent_usd: string;
  projected_usd: string;
  low_usd: string;
  high_usd: string;
  interval: 0.8;
  method: ForecastMethod;
  /** Budget scopes only. */
  limit_usd?: string;
  /** Budget scopes only: when the projection (P50) reaches the limit; null if not within the period. */
  exhaustion_at?: string | null;
}

export interface Projection {
  method: ForecastMethod;
  start: Date;
  end: Date;
  spent_nano: bigint;
  /** P50 at the period end. */
  projected_nano: bigint;
  /** P10 and P90: the 80% interval (low never below what is already spent). */
  low_nano: bigint;
  high_nano: bigint;
  /** The first instant cumulative spend (actual, then P50) reaches the limit; null without a limit or if never. */
  exhaustion_at: Date | null;
}

interface HourSpend {
  hourMs: number;
  nano: bigint;
}

async function hourly(store: LedgerStore, filter: CostFilter, from: number, to: number): Promise<HourSpend[]> {
  if (from >= to) return [];
  const rows = await store.queryCosts({ from: new Date(from), to: new Date(to), groupBy: ['hour'], filter });
  return rows
    .map((r) => ({ hourMs: Date.parse(r.keys.hour ?? ''), nano: r.net_nano }))
    .filter((h) => Number.isFinite(h.hourMs))
    .sort((a, b) => a.hourMs - b.hourMs);
}

/**
 * Forecasts the spend of `filter` over [start, end) as of `at` (start ≤ at < end). Two queries:
 * the history before the period and the period so far, both by hour; split at `start` so the
 * period's own spend is exact even when `start` is not a whole UTC hour (a +05:30 zone).
 */
export async function projectSpend(
  store: LedgerStore,
  filter: CostFilter,
  start: Date,
  end: Date,
  at: Date,
  limitNano: bigint | null,
): Promise<Projection> {
  const atMs = at.getTime();
  const startMs = start.getTime();
  const nowHour = Math.floor(atMs / HOUR_MS) * HOUR_MS;
  const historyFrom = Math.min(nowHour - LOOKBACK_HOURS * HOUR_MS, Math.floor(startMs / HOUR_MS) * HOUR_MS);
  const [before, during] = await Promise.all([
    hourly(store, filter, historyFrom, startMs),
    hourly(store, filter, startMs, atMs),
  ]);
  const hours = new Array<number>((nowHour - historyFrom) / HOUR_MS).fill(0);
  let partial = 0;
  for (const h of [...before, ...during]) {
    const i = (h.hourMs - historyFrom) / HOUR_MS;
    if (i < hours.length) hours[i] = (hours[i] ?? 0) + Number(h.nano);
    else partial += Number(h.nano);
  }
  const spent = during.reduce((sum, h) => sum + h.nano, 0n);
  const model = modelSpend({ startMs: historyFrom, hours, partial, atMs }, end.getTime());
  const future = model.segments.reduce((sum, s) => sum + s.nano, 0);
  const projected = spent + BigInt(Math.round(future));
  const width = BigInt(Math.round(halfWidth(model, atMs, end.getTime())));
  const low = projected - width;
  return {
    method: model.method,
    start,
    end,
    spent_nano: spent,
    projected_nano: projected,
    low_nano: low < spent ? spent : low,
    high_nano: projected + width,
    exhaustion_at: limitNano === null ? null : exhaustion(during, model.segments, spent, limitNano, startMs, atMs),
  };
}

function exhaustion(
  during: readonly HourSpend[],
  future: readonly Segment[],
  spent: bigint,
  limit: bigint,
  startMs: number,
  atMs: number,
): Date | null {
  if (spent < limit) {
    const ms = crossing(future, Number(spent), Number(limit));
    return ms === null ? null : new Date(ms);
  }
  // Already reached: when, within the hour it happened, assuming even spend inside that hour.
  const past: Segment[] = during.map((h) => ({
    fromMs: Math.max(startMs, h.hourMs),
    toMs: Math.min(atMs, h.hourMs + HOUR_MS),
    nano: Number(h.nano),
  }));
  return new Date(crossing(past, 0, Number(limit)) ?? atMs);
}

/** A budget's current period forecast with its limit; null for a `total` budget (no period end). */
export async function projectBudget(store: LedgerStore, budget: Budget, at: Date): Promise<Projection | null> {
  const bounds = periodBounds(budget.period, budget.tz, at);
  if (bounds.start === null || bounds.end === null) return null;
  return projectSpend(store, budgetCostFilter(budget), bounds.start, bounds.end, at, budget.limit_nano);
}

/** `all`, `tenant:ID`, `project:ID` or `budget:ID` (the API's and the CLI's `scope`). */
export function parseForecastScope(text: string): ForecastScope {
  if (text === 'all') return 'all';
  const m = /^(tenant|project|budget):(.+)$/.exec(text);
  if (!m) throw invalidInput('scope', `expected all, tenant:ID, project:ID or budget:ID, got ${JSON.stringify(text)}`);
  const id = m[2]!;
  return m[1] === 'tenant' ? { tenant: id } : m[1] === 'project' ? { project: id } : { budget: id };
}

export function formatForecastScope(scope: ForecastScope): string {
  if (scope === 'all') return 'all';
  if ('tenant' in scope) return `tenant:${scope.tenant}`;
  if ('project' in scope) return `project:${scope.project}`;
  return `budget:${scope.budget}`;
}

export function presentForecast(scope: ForecastScope, p: Projection, budget?: Budget): ForecastJson {
  const json: ForecastJson = {
    scope: formatForecastScope(scope),
    period_start: p.start.toISOString(),
    period_end: p.end.toISOString(),
    spent_usd: formatUsd(p.spent_nano),
    projected_usd: formatUsd(p.projected_nano),
    low_usd: formatUsd(p.low_nano),
    high_usd: formatUsd(p.high_nano),
    interval: 0.8,
    method: p.method,
  };
  if (budget) {
    json.limit_usd = formatUsd(budget.limit_nano);
    json.exhaustion_at = p.exhaustion_at?.toISOString() ?? null;
  }
  return json;
}

/** The forecast of a scope's current period as of `at` (DESIGN §3 `GET /api/v1/forecast`). */
export async function forecastSpend(input: ForecastInput): Promise<ForecastJson> {
  const { store, scope, at } = input;
  if (input.period !== 'month') throw invalidInput('period', `only period=month is supported`);
  if (scope !== 'all' && 'budget' in scope) {
    const budget = input.budgets.find((b) => b.id === scope.budget);
    if (!budget) throw new PertokenError('not_found', `no budget ${scope.budget}`, { param: 'scope' });
    const p = await projectBudget(store, budget, at);
    if (!p) throw invalidInput('scope', `budget ${budget.id} has period total: a forecast needs a period end`);
    return presentForecast(scope, p, budget);
  }
  const filter: CostFilter =
    scope === 'all' ? {} : 'tenant' in scope ? { tenant: scope.tenant } : { project: scope.project };
  const bounds = periodBounds('month', 'UTC', at);
  if (bounds.start === null || bounds.end === null) throw new PertokenError('internal', 'a month has bounds');
  return presentForecast(scope, await projectSpend(store, filter, bounds.start, bounds.end, at, null));
}
