/**
 * The Prometheus rule file of `pertoken prometheus-rules`: recording rules for spend per tenant
 * and per budget, and alerting rules that are the built-in `burn_rate` detector
 * (alerts/burn-rate.ts) written in PromQL, so a team that alerts from Prometheus gets the same
 * pages as pertoken's own pipeline. Written against Prometheus 2.42 (Debian's promtool): no group
 * `labels`, no `query_offset`, classic metric names only.
 *
 * How the detector's rules map onto the metrics:
 * - Spend per window comes from `pertoken_cost_usd_total` summed per tenant, so the burn-rate
 *   alerts cover budgets scoped to one whole tenant (their gauges carry `tenant`; such tenants are
 *   always kept as label values, see labels.ts). Budgets scoped to a project, key, user or feature
 *   have no matching counter and are left to the built-in detector.
 * - The even pace is the budget's limit ÷ the real length of its current period
 *   (`pertoken_budget_period_hours`), as in the detector: for a monthly UTC budget that is
 *   limit / (24 · days_in_month).
 * - Windows are clipped at the period start like the detector's: a window's spend is at most what
 *   the budget's period has spent so far (`pertoken_budget_spend_mtd_usd`), i.e.
 *   min(window, period) = window − max(window − period, 0).
 * - Both windows of a tier must exceed its factor, the long window must have spent the absolute
 *   floor, and a tier applies only when factor × long window fits in the period (a day budget
 *   gets the 1h tier only).
 * - Series from several replicas: counters are summed, the ledger gauges (equal on every replica)
 *   are taken once with `max`.
 */
import { stringify } from 'yaml';
import { BURN_TIERS } from '../alerts/burn-rate.js';

export interface RulesOptions {
  /** The long window must have spent at least this many USD (`alerts.anomaly.min_impact_usd`). */
  floorUsd: number;
  /** Where runbooks are published (default the repository path `docs/runbooks`). */
  runbookBase?: string;
}

interface RecordingRule {
  record: string;
  expr: string;
}
interface AlertingRule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  rules: Array<RecordingRule | AlertingRule>;
}

const MINUTE_MS = 60_000;

/** A Prometheus duration for a window of whole minutes: 5m, 2h, 1d. */
export function promDuration(ms: number): string {
  const minutes = ms / MINUTE_MS;
  if (!Number.isInteger(minutes) || minutes <= 0) throw new RangeError(`not a whole number of minutes: ${ms} ms`);
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

/** Every window a tier uses, shortest first. */
export function burnWindows(): number[] {
  return [...new Set(BURN_TIERS.flatMap((t) => [t.shortMs, t.longMs]))].sort((a, b) => a - b);
}

const BY = 'budget, tenant';
export const RECORDED = {
  tenantIncrease: (w: string) => `tenant:pertoken_cost_usd:increase${w}`,
  budgetSpend: 'budget:pertoken_budget_spend_usd',
  budgetLimit: 'budget:pertoken_budget_limit_usd',
  budgetPeriodHours: 'budget:pertoken_budget_period_hours',
  budgetPace: 'budget:pertoken_budget_pace_usd_per_hour',
  budgetRatio: 'budget:pertoken_budget_spent:ratio',
  budgetWindowSpend: (w: string) => `budget:pertoken_cost_usd:increase${w}`,
  burnRate: (w: string) => `budget:pertoken_burn_rate:${w}`,
} as const;

export function ruleGroups(options: RulesOptions): RuleGroup[] {
  const runbooks = (options.runbookBase ?? 'docs/runbooks').replace(/\/+$/, '');
  const windows = burnWindows().map((ms) => ({ ms, name: promDuration(ms) }));

  const spend: RecordingRule[] = [
    ...windows.map((w) => ({
      record: RECORDED.tenantIncrease(w.name),
      expr: `sum by (tenant) (increase(pertoken_cost_usd_total[${w.name}]))`,
    })),
    { record: RECORDED.budgetSpend, expr: `max by (${BY}) (pertoken_budget_spend_mtd_usd)` },
    { record: RECORDED.budgetLimit, expr: `max by (${BY}) (pertoken_budget_limit_usd)` },
    { record: RECORDED.budgetPeriodHours, expr: `max by (${BY}) (pertoken_budget_period_hours)` },
    { record: RECORDED.budgetRatio, expr: `${RECORDED.budgetSpend} / (${RECORDED.budgetLimit} > 0)` },
    // Zero limits have no pace (the detector skips them too).
    { record: RECORDED.budgetPace, expr: `(${RECORDED.budgetLimit} > 0) / ${RECORDED.budgetPeriodHours}` },
  ];

  const burn: RecordingRule[] = windows.flatMap((w) => {
    const tenant = RECORDED.tenantIncrease(w.name);
    const minutes = w.ms / MINUTE_MS;
    const hours = minutes % 60 === 0 ? String(minutes / 60) : `${minutes} / 60`;
    return [
      {
        // The tenant's spend over the window, per budget of that tenant, clipped at the period start.
        record: RECORDED.budgetWindowSpend(w.name),
        expr:
          `(${tenant} + on (tenant) group_right () (0 * ${RECORDED.budgetSpend}))\n` +
          `- clamp_min(${tenant} - on (tenant) group_right () ${RECORDED.budgetSpend}, 0)`,
      },
      {
        record: RECORDED.burnRate(w.name),
        expr: `${RECORDED.budgetWindowSpend(w.name)} / (${RECORDED.budgetPace} * ${hours})`,
      },
    ];
  });

  const alerts: AlertingRule[] = BURN_TIERS.map((tier) => {
    const long = promDuration(tier.longMs);
    const short = promDuration(tier.shortMs);
    const span = round((tier.factor * tier.longMs) / (60 * MINUTE_MS));
    return {
      alert: 'PertokenBudgetBurnRate',
      expr:
        `${RECORDED.burnRate(long)} > ${tier.factor}\n` +
        `and on (${BY}) ${RECORDED.burnRate(short)} > ${tier.factor}\n` +
        `and on (${BY}) ${RECORDED.budgetWindowSpend(long)} >= ${round(options.floorUsd)}\n` +
        `and on (${BY}) ${RECORDED.budgetPeriodHours} >= ${span}`,
      labels: { severity: tier.severity, kind: 'burn_rate', tier: tier.name },
      annotations: {
        summary:
          `budget {{ $labels.budget }} (tenant {{ $labels.tenant }}): at {{ $value | printf "%.1f" }}x even pace ` +
          `over the last ${long} (${short} too; ${tier.severity} above ${tier.factor}x)`,
        runbook_url: `${runbooks}/burn_rate.md`,
      },
    };
  });

  const budgets: AlertingRule[] = [
    {
      alert: 'PertokenBudgetExhausted',
      expr: `${RECORDED.budgetRatio} >= 1`,
      labels: { severity: 'page', kind: 'budget_threshold', threshold: '1' },
      annotations: {
        summary: 'budget {{ $labels.budget }} has spent {{ $value | humanizePercentage }} of its limit this period',
        runbook_url: `${runbooks}/budget_threshold.md`,
      },
    },
  ];

  // One group: its rules run in order at one timestamp, each seeing the ones before it. Across
  // groups an alert would read the recordings of the previous evaluation, one interval late.
  return [{ name: 'pertoken-budgets', rules: [...spend, ...burn, ...alerts, ...budgets] }];
}

/** The rule file as YAML text. */
export function prometheusRules(options: RulesOptions): string {
  const header =
    '# Prometheus rules generated by `pertoken prometheus-rules` (Prometheus >= 2.42).\n' +
    '# Budget burn-rate alerts equivalent to the built-in burn_rate detector; see docs/runbooks/burn_rate.md.\n';
  return header + stringify({ groups: ruleGroups(options) }, { lineWidth: 0 });
}

/** Up to 6 decimals, no float noise in the file (0.083333 not 0.08333333333333333). */
function round(n: number): string {
  return String(Math.round(n * 1e6) / 1e6);
}
