/**
 * The Grafana dashboard of `pertoken grafana-dashboard`: Classic JSON model (it imports into every
 * Grafana since 10.4; schemaVersion 39 migrates upward on load), a datasource variable instead of
 * `__inputs`, and tenant / model / budget variables. Three rows, as the dashboard views of
 * pertoken itself: executive (spend against budgets), on-call (burn rates, alerts, refusals) and
 * debug (latency, data quality, ledger errors, tokens by bucket).
 *
 * Every query reads only what pertoken's /metrics exposes (a test parses every expression and
 * checks each metric name against the registry's output), so the dashboard needs neither the
 * recording rules of `pertoken prometheus-rules` nor Prometheus's own ALERTS series.
 */

export interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  instant?: boolean;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  description?: string;
  fieldConfig?: { defaults: Record<string, unknown>; overrides: unknown[] };
  options?: Record<string, unknown>;
  targets?: Target[];
  collapsed?: boolean;
  panels?: Panel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  version: number;
  editable: boolean;
  tags: string[];
  time: { from: string; to: string };
  refresh: string;
  timezone: string;
  templating: { list: Array<Record<string, unknown>> };
  annotations: { list: unknown[] };
  links: unknown[];
  panels: Panel[];
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const GRID_COLUMNS = 24;

/** Label matchers the variables drive; models and tenants folded by /metrics show up as `other`. */
const T = 'tenant=~"$tenant"';
const M = 'model=~"$model"';
const B = 'budget=~"$budget"';
/** Input-side buckets: a cache hit ratio is cache reads over everything the prompt was billed as. */
const PROMPT_BUCKETS = 'input|cache_read|cache_write_5m|cache_write_1h';

type PanelSpec = Omit<Panel, 'id' | 'gridPos' | 'datasource'> & { w: number; h: number };

function thresholds(...steps: Array<[string, number | null]>): Record<string, unknown> {
  return { mode: 'absolute', steps: steps.map(([color, value]) => ({ color, value })) };
}

function targets(...items: Array<Omit<Target, 'refId'>>): Target[] {
  return items.map((t, i) => ({ refId: String.fromCharCode(65 + i), ...t }));
}

function stat(title: string, unit: string, items: Target[], extra: Partial<PanelSpec> = {}): PanelSpec {
  return {
    type: 'stat',
    title,
    w: 6,
    h: 4,
    fieldConfig: { defaults: { unit, decimals: 2 }, overrides: [] },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value' },
    targets: items.map((t) => ({ ...t, instant: true })),
    ...extra,
  };
}

function series(title: string, unit: string, items: Target[], extra: Partial<PanelSpec> = {}): PanelSpec {
  return {
    type: 'timeseries',
    title,
    w: 12,
    h: 8,
    fieldConfig: { defaults: { unit }, overrides: [] },
    options: { legend: { displayMode: 'table', placement: 'right', calcs: ['lastNotNull'] } },
    targets: items,
    ...extra,
  };
}

/** The even pace per budget of one whole tenant; the spend of a window over it is the burn rate. */
const PACE = `max by (budget, tenant) (pertoken_budget_limit_usd{${B}} / pertoken_budget_period_hours{${B}})`;
const burn = (window: string, hours: number): Target => ({
  refId: 'A',
  expr: `sum by (tenant) (increase(pertoken_cost_usd_total[${window}])) / on (tenant) group_right () (${PACE} * ${hours})`,
  legendFormat: '{{budget}}',
});
const BURN_THRESHOLDS = thresholds(['green', null], ['yellow', 1], ['orange', 6], ['red', 14.4]);

const EXECUTIVE: PanelSpec[] = [
  {
    type: 'gauge',
    title: 'Budget spent this period',
    description: "Spend of each budget's current period (day, week or month in its time zone) over its limit.",
    w: 8,
    h: 8,
    fieldConfig: {
      defaults: {
        unit: 'percentunit',
        min: 0,
        max: 1.2,
        thresholds: thresholds(['green', null], ['orange', 0.8], ['red', 1]),
      },
      overrides: [],
    },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, showThresholdMarkers: true },
    targets: targets({
      expr: `max by (budget) (pertoken_budget_spend_mtd_usd{${B}}) / max by (budget) (pertoken_budget_limit_usd{${B}} > 0)`,
      legendFormat: '{{budget}}',
      instant: true,
    }),
  },
  stat(
    'Month-to-date spend (UTC)',
    'currencyUSD',
    targets({ expr: `sum(max by (tenant) (pertoken_tenant_spend_mtd_usd{${T}}))` }),
    { w: 4 },
  ),
  stat(
    'Cost per 1k requests',
    'currencyUSD',
    targets({
      expr:
        `1000 * sum(increase(pertoken_cost_usd_total{${M}}[$__range]))` +
        ` / sum(increase(pertoken_requests_total{${M}}[$__range]))`,
    }),
    { w: 4, description: 'Over the time range; requests carry no tenant label, so only the model filter applies.' },
  ),
  stat(
    'Cache hit ratio',
    'percentunit',
    targets({
      expr:
        `sum(increase(pertoken_tokens_total{${T},${M},bucket="cache_read"}[$__range]))` +
        ` / sum(increase(pertoken_tokens_total{${T},${M},bucket=~"${PROMPT_BUCKETS}"}[$__range]))`,
    }),
    { w: 8, description: 'Cache-read tokens over all prompt tokens (input, cache reads and cache writes).' },
  ),
  {
    type: 'bargauge',
    title: 'Month-to-date spend by tenant',
    w: 8,
    h: 4,
    fieldConfig: { defaults: { unit: 'currencyUSD', decimals: 2 }, overrides: [] },
    options: { orientation: 'horizontal', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },
    targets: targets({
      expr: `sort_desc(max by (tenant) (pertoken_tenant_spend_mtd_usd{${T}}))`,
      legendFormat: '{{tenant}}',
      instant: true,
    }),
  },
  series(
    'Spend by tenant (USD/h)',
    'currencyUSD',
    targets({
      expr: `sum by (tenant) (rate(pertoken_cost_usd_total{${T},${M}}[$__rate_interval])) * 3600`,
      legendFormat: '{{tenant}}',
    }),
  ),
  series(
    'Spend by model (USD/h)',
    'currencyUSD',
    targets({
      expr: `sum by (model) (rate(pertoken_cost_usd_total{${T},${M}}[$__rate_interval])) * 3600`,
      legendFormat: '{{model}}',
    }),
  ),
];

const ONCALL: PanelSpec[] = [
  ...(
    [
      ['1h', 1],
      ['6h', 6],
      ['1d', 24],
    ] as const
  ).map(([window, hours]) =>
    stat(`Burn rate ${window} (x even pace)`, 'none', [burn(window, hours)], {
      w: 8,
      description:
        'Spend of the window over the budget pace (limit / period hours), per tenant budget. Pages at 14.4 (1h) and 6 (6h); 1 spends exactly the budget.',
      fieldConfig: { defaults: { unit: 'none', decimals: 1, thresholds: BURN_THRESHOLDS }, overrides: [] },
    }),
  ),
  {
    type: 'table',
    title: 'Firing alerts',
    w: 8,
    h: 8,
    fieldConfig: { defaults: {}, overrides: [] },
    options: { showHeader: true },
    targets: targets({
      expr: 'max by (kind, severity) (pertoken_alerts_firing) > 0',
      legendFormat: '{{kind}} ({{severity}})',
      instant: true,
    }),
  },
  series(
    'Refusals per minute',
    'short',
    targets({
      expr: 'sum by (reason, status) (rate(pertoken_requests_refused_total[$__rate_interval])) * 60',
      legendFormat: '{{reason}} ({{status}})',
    }),
    { w: 16 },
  ),
];

const DEBUG: PanelSpec[] = [
  series(
    'Latency p95 by route',
    's',
    targets({
      expr: 'histogram_quantile(0.95, sum by (le, route) (rate(pertoken_request_duration_seconds_bucket[$__rate_interval])))',
      legendFormat: '{{route}}',
    }),
  ),
  series(
    'Time to first token p95 by route',
    's',
    targets({
      expr: 'histogram_quantile(0.95, sum by (le, route) (rate(pertoken_ttft_seconds_bucket[$__rate_interval])))',
      legendFormat: '{{route}}',
    }),
  ),
  series(
    'Unpriced and estimated calls per minute',
    'short',
    targets(
      {
        expr: `sum by (model) (rate(pertoken_unpriced_requests_total{${M}}[$__rate_interval])) * 60`,
        legendFormat: 'unpriced {{model}}',
      },
      {
        expr: `sum by (model) (rate(pertoken_estimated_requests_total{${M}}[$__rate_interval])) * 60`,
        legendFormat: 'estimated {{model}}',
      },
    ),
    { w: 8 },
  ),
  series(
    'Ledger write errors per minute',
    'short',
    targets({ expr: 'sum(rate(pertoken_ledger_write_errors_total[$__rate_interval])) * 60', legendFormat: 'errors' }),
    { w: 8 },
  ),
  series(
    'Calls in flight',
    'short',
    targets({ expr: 'sum by (route) (pertoken_inflight_requests)', legendFormat: '{{route}}' }),
    { w: 8 },
  ),
  series(
    'Tokens per minute by bucket',
    'short',
    targets({
      expr: `sum by (bucket) (rate(pertoken_tokens_total{${T},${M}}[$__rate_interval])) * 60`,
      legendFormat: '{{bucket}}',
    }),
    {
      w: 24,
      options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
      fieldConfig: {
        defaults: { unit: 'short', custom: { drawStyle: 'bars', stacking: { mode: 'normal' } } },
        overrides: [],
      },
    },
  ),
];

const ROWS: ReadonlyArray<{ title: string; panels: readonly PanelSpec[] }> = [
  { title: 'Executive', panels: EXECUTIVE },
  { title: 'On-call', panels: ONCALL },
  { title: 'Debug', panels: DEBUG },
];

/** Lays panels out left to right in 24 columns, a new line when one does not fit, rows stacked. */
function layout(rows: typeof ROWS): Panel[] {
  const panels: Panel[] = [];
  let id = 1;
  let y = 0;
  for (const row of rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      panels: [],
      gridPos: { h: 1, w: 24, x: 0, y },
    });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const { w, h, ...spec } of row.panels) {
      if (x + w > GRID_COLUMNS) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      panels.push({ id: id++, datasource: DATASOURCE, ...spec, gridPos: { h, w, x, y } });
      x += w;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
  }
  return panels;
}

function queryVariable(name: string, label: string, query: string): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query, refId: `${name}-variable` },
    definition: query,
    refresh: 2,
    multi: true,
    includeAll: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
  };
}

export function grafanaDashboard(): Dashboard {
  return {
    uid: 'pertoken-llm-cost',
    title: 'pertoken: LLM cost',
    schemaVersion: 39,
    version: 1,
    editable: true,
    tags: ['pertoken', 'llm', 'cost'],
    time: { from: 'now-7d', to: 'now' },
    refresh: '1m',
    timezone: 'utc',
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
        queryVariable('tenant', 'Tenant', 'label_values(pertoken_cost_usd_total, tenant)'),
        queryVariable('model', 'Model', 'label_values(pertoken_cost_usd_total{tenant=~"$tenant"}, model)'),
        queryVariable('budget', 'Budget', 'label_values(pertoken_budget_limit_usd, budget)'),
      ],
    },
    annotations: { list: [] },
    links: [],
    panels: layout(ROWS),
  };
}

/** The dashboard as the JSON text Grafana imports. */
export function grafanaDashboardJson(): string {
  return `${JSON.stringify(grafanaDashboard(), null, 2)}\n`;
}
