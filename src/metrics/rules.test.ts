import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { BURN_TIERS } from '../alerts/burn-rate.js';
import { burnWindows, promDuration, prometheusRules, ruleGroups } from './rules.js';
import { binarySkipReason, promtool, PROMTOOL, tempFiles } from './testing/prometheus.js';

const promtoolSkip = binarySkipReason(PROMTOOL);
const RULES = prometheusRules({ floorUsd: 1 });

describe('the generated rule file', () => {
  it('records every burn window and one alert per detector tier', () => {
    expect(burnWindows().map(promDuration)).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d']);
    const groups = ruleGroups({ floorUsd: 1 });
    const alerts = groups.flatMap((g) => g.rules).filter((r) => 'alert' in r);
    expect(alerts.map((a) => ('labels' in a ? a.labels : null))).toEqual([
      ...BURN_TIERS.map((t) => ({ severity: t.severity, kind: 'burn_rate', tier: t.name })),
      { severity: 'page', kind: 'budget_threshold', threshold: '1' },
    ]);
    // Parses back to the same document (the YAML text is what promtool reads).
    expect((parse(RULES) as { groups: unknown }).groups).toEqual(JSON.parse(JSON.stringify(groups)));
  });

  it('uses the runbook base it is given', () => {
    const text = prometheusRules({ floorUsd: 2.5, runbookBase: 'https://runbooks.example/pertoken/' });
    expect(text).toContain('runbook_url: https://runbooks.example/pertoken/burn_rate.md');
    expect(text).toContain('>= 2.5');
  });
});

describe.skipIf(promtoolSkip !== null)('promtool (Prometheus 2.42)', () => {
  it('passes `promtool check rules` with lint', () => {
    const { dir, cleanup } = tempFiles({ 'rules.yml': RULES });
    try {
      const run = promtool(['check', 'rules', '--lint=all', '--lint-fatal', join(dir, 'rules.yml')]);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/SUCCESS: 31 rules found/);
    } finally {
      cleanup();
    }
  });

  it('pages the fast burn in both windows, clips at the period start, keeps the floor and the tier fit', () => {
    const cost = (tenant: string, values: string) => ({
      series: `pertoken_cost_usd_total{tenant="${tenant}",provider="openai",model="gpt-4o"}`,
      values,
    });
    const gauges = (budget: string, tenant: string, limit: string, hours: string, spent: string) => [
      { series: `pertoken_budget_limit_usd{budget="${budget}",tenant="${tenant}"}`, values: `${limit}x150` },
      { series: `pertoken_budget_period_hours{budget="${budget}",tenant="${tenant}"}`, values: `${hours}x150` },
      { series: `pertoken_budget_spend_mtd_usd{budget="${budget}",tenant="${tenant}"}`, values: spent },
    ];
    const alert = (budget: string, tenant: string, tier: string, rate: string) => {
      const t = BURN_TIERS.find((x) => x.name === tier)!;
      return {
        exp_labels: {
          alertname: 'PertokenBudgetBurnRate',
          budget,
          tenant,
          severity: t.severity,
          kind: 'burn_rate',
          tier,
        },
        exp_annotations: {
          summary: `budget ${budget} (tenant ${tenant}): at ${rate}x even pace over the last ${tier} (${t.shortName} too; ${t.severity} above ${t.factor}x)`,
          runbook_url: 'docs/runbooks/burn_rate.md',
        },
      };
    };
    const unitTest = {
      rule_files: ['rules.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            // $1 a minute for an hour, then nothing, against $744 a 744-hour month: 60x even pace.
            cost('acme', '0+1x60 60+0x90'),
            ...gauges('acme-month', 'acme', '744', '744', '500+1x60 560+0x90'),
            // The same burn, but the period began 2 minutes ago: the windows are clipped to $2.
            cost('fresh', '0+1x60 60+0x90'),
            ...gauges('fresh-month', 'fresh', '744', '744', '2x150'),
            // 60x pace on an $11.625 budget, but $0.9375 an hour is under the $1 floor (binary-exact steps).
            cost('tiny', '0+0.015625x60 0.9375+0x90'),
            ...gauges('tiny-month', 'tiny', '11.625', '744', '100x150'),
            // A day budget: 6h at 6x would need 36 hours of budget, so only the 1h tier applies.
            cost('daily', '0+1x60 60+0x90'),
            ...gauges('daily-day', 'daily', '24', '24', '100x150'),
            // A project budget (no tenant label): no burn-rate join, but exhausted is exhausted.
            { series: 'pertoken_budget_limit_usd{budget="proj-x"}', values: '8x150' },
            { series: 'pertoken_budget_period_hours{budget="proj-x"}', values: '744x150' },
            { series: 'pertoken_budget_spend_mtd_usd{budget="proj-x"}', values: '7+0.5x150' },
          ],
          promql_expr_test: [
            {
              expr: 'budget:pertoken_burn_rate:1h',
              eval_time: '1h',
              exp_samples: [
                { labels: 'budget:pertoken_burn_rate:1h{budget="acme-month",tenant="acme"}', value: 60 },
                { labels: 'budget:pertoken_burn_rate:1h{budget="daily-day",tenant="daily"}', value: 60 },
                { labels: 'budget:pertoken_burn_rate:1h{budget="fresh-month",tenant="fresh"}', value: 2 },
                { labels: 'budget:pertoken_burn_rate:1h{budget="tiny-month",tenant="tiny"}', value: 60 },
              ],
            },
          ],
          alert_rule_test: [
            {
              // Half an hour in: $30 in the 1h window is 30x (page); the 6h tier is at 5x, under its 6x.
              eval_time: '30m',
              alertname: 'PertokenBudgetBurnRate',
              exp_alerts: [alert('acme-month', 'acme', '1h', '30.0'), alert('daily-day', 'daily', '1h', '30.0')],
            },
            {
              eval_time: '1h',
              alertname: 'PertokenBudgetBurnRate',
              exp_alerts: [
                alert('acme-month', 'acme', '1h', '60.0'),
                alert('acme-month', 'acme', '6h', '10.0'),
                alert('daily-day', 'daily', '1h', '60.0'),
              ],
            },
            // Spending stopped: the 5m window resets the page at once, 30m keeps the 6h tier a while.
            {
              eval_time: '1h10m',
              alertname: 'PertokenBudgetBurnRate',
              exp_alerts: [alert('acme-month', 'acme', '6h', '10.0')],
            },
            { eval_time: '1h40m', alertname: 'PertokenBudgetBurnRate', exp_alerts: [] },
          ],
        },
      ],
    };
    const { dir, cleanup } = tempFiles({ 'rules.yml': RULES, 'test.yml': stringify(unitTest) });
    try {
      const run = promtool(['test', 'rules', 'test.yml'], dir);
      expect(run.stdout + run.stderr).toContain('SUCCESS');
      expect(run.status).toBe(0);
    } finally {
      cleanup();
    }
  });
});
