import { useMemo } from 'preact/hooks';
import { FilterChips, RangePicker, rangeOf } from '../components/controls.js';
import { PageHead } from '../components/layout.js';
import { Panel, Stat } from '../components/panel.js';
import { ErrorBox, Loading, NotConfigured } from '../components/states.js';
import { DataTable, type Column } from '../components/table.js';
import { TimeChart } from '../components/time-chart.js';
import { apiUrl, isNotConfigured } from '../lib/api.js';
import { int, money, moneyFine, ms, nanoOf, pct, percentile, usdNumber } from '../lib/format.js';
import { windowQuery } from '../lib/query.js';
import { filtersOf } from '../lib/route.js';
import { allBuckets, fold, type Grain } from '../lib/series.js';
import { DAY_MS, dayString, isoOrNull, resolveWindow } from '../lib/time.js';
import type { Alert, Budget, Costs, EventPage } from '../lib/types.js';
import { useApi } from '../lib/use-api.js';
import { AlertTable } from './alerts.js';
import type { ViewProps } from './common.js';

const SAMPLE = 1000;

interface Burn {
  budget: Budget;
  used: number;
  elapsed: number;
  rate: number | null;
}

interface ModelStats {
  model: string;
  requests: number;
  errors: number;
  ttft: Array<number | null>;
  cost: Array<number | null>;
}

/** Is spend running away right now, and is the data behind it sound? */
export function OnCall({ route, now, theme }: ViewProps) {
  const range = rangeOf(route, '24h');
  const window = resolveWindow(range, now);
  const tz = range.tz;
  const from = window.from ?? now - DAY_MS;
  const to = window.to ?? now;
  const grain: Grain =
    to - from <= 14 * DAY_MS
      ? { unit: 'hour', groupBy: 'hour' }
      : { unit: 'day', groupBy: tz === 'UTC' ? 'day' : 'hour' };
  const filters = filtersOf(route.params);
  const rate = useApi<Costs>(apiUrl('/api/v1/costs', windowQuery(window, route, { group_by: grain.groupBy })));
  const alerts = useApi<{ alerts: Alert[] }>(
    apiUrl('/api/v1/alerts', {
      state: 'all',
      from: isoOrNull(window.from),
      to: isoOrNull(window.to),
      tenant: filters.tenant,
    }),
  );
  const firing = useApi<{ alerts: Alert[] }>(apiUrl('/api/v1/alerts', { state: 'firing', tenant: filters.tenant }));
  const budgets = useApi<{ budgets: Budget[] }>(apiUrl('/api/v1/budgets', { tenant: filters.tenant }));
  const sample = useApi<EventPage>(apiUrl('/api/v1/events', windowQuery(window, route, { limit: SAMPLE })));

  const spend = useMemo(() => {
    if (!rate.data) return null;
    const folded = fold(rate.data.rows, grain, tz, null);
    const cells = folded.cells.get('all') ?? new Map();
    const xs = allBuckets(from, to, grain.unit, tz);
    return {
      xs,
      series: [{ label: `USD per ${grain.unit}`, values: xs.map((x) => Number(cells.get(x)?.costNano ?? 0n) / 1e9) }],
    };
  }, [rate.data, from, to, grain.unit, grain.groupBy, tz]);
  const markers = useMemo(
    () => (alerts.data ? alerts.data.alerts.map((a) => Date.parse(a.started_at)) : []),
    [alerts.data],
  );

  const resolved = (alerts.data?.alerts ?? []).filter((a) => a.state !== 'firing');
  // Burn rate is of a USD limit; a budget with only a token allowance has none.
  const burns: Burn[] = (budgets.data?.budgets ?? [])
    .filter((b) => b.limit_usd !== null)
    .map((b) => {
      const start = b.period_start ? Date.parse(b.period_start) : NaN;
      const end = b.period_end ? Date.parse(b.period_end) : NaN;
      const used = usdNumber(b.spent_usd) / Math.max(1e-9, usdNumber(b.limit_usd));
      const elapsed =
        Number.isFinite(start) && Number.isFinite(end) ? Math.min(1, Math.max(0, (now - start) / (end - start))) : NaN;
      return { budget: b, used, elapsed, rate: Number.isFinite(elapsed) && elapsed > 0 ? used / elapsed : null };
    });

  const events = sample.data?.events ?? [];
  const stats = useMemo(() => sampleStats(events), [sample.data]);
  const totals = rate.data?.totals;

  const burnColumns: Array<Column<Burn>> = [
    { key: 'id', label: 'Budget', value: (b) => b.budget.id },
    {
      key: 'scope',
      label: 'Scope',
      value: (b) =>
        Object.entries(b.budget.scope)
          .map(([k, v]) => `${k}:${v}`)
          .join(' '),
    },
    { key: 'period', label: 'Period', value: (b) => b.budget.period },
    {
      key: 'spent',
      label: 'Spent',
      value: (b) => b.budget.spent_usd,
      render: (b) => money(b.budget.spent_usd),
      numeric: true,
    },
    {
      key: 'limit',
      label: 'Limit',
      value: (b) => b.budget.limit_usd,
      render: (b) => money(b.budget.limit_usd),
      numeric: true,
    },
    {
      key: 'used',
      label: 'Used',
      value: (b) => (b.used * 100).toFixed(1),
      render: (b) => `${(b.used * 100).toFixed(1)}%`,
      numeric: true,
    },
    {
      key: 'elapsed',
      label: 'Period elapsed',
      value: (b) => (Number.isFinite(b.elapsed) ? (b.elapsed * 100).toFixed(1) : ''),
      render: (b) => (Number.isFinite(b.elapsed) ? `${(b.elapsed * 100).toFixed(1)}%` : '—'),
      numeric: true,
    },
    {
      key: 'burn',
      label: 'Burn rate',
      value: (b) => b.rate?.toFixed(2) ?? '',
      render: (b) =>
        b.rate === null ? (
          '—'
        ) : (
          <span class={`badge ${b.rate >= 2 ? 'bad' : b.rate >= 1 ? 'warn' : 'good'}`}>{b.rate.toFixed(2)}×</span>
        ),
      numeric: true,
    },
    {
      key: 'projected',
      label: 'Projected',
      value: (b) => b.budget.projected_usd,
      render: (b) => money(b.budget.projected_usd),
      numeric: true,
    },
  ];
  const modelColumns: Array<Column<ModelStats>> = [
    { key: 'model', label: 'Model', value: (m) => m.model },
    { key: 'requests', label: 'Requests', value: (m) => m.requests, numeric: true },
    { key: 'errors', label: 'Error rate', value: (m) => pct(m.errors, m.requests), numeric: true },
    { key: 'ttft50', label: 'TTFT p50', value: (m) => p(m.ttft, 50), render: (m) => ms(p(m.ttft, 50)), numeric: true },
    { key: 'ttft90', label: 'TTFT p90', value: (m) => p(m.ttft, 90), render: (m) => ms(p(m.ttft, 90)), numeric: true },
    {
      key: 'cost50',
      label: 'Cost/request p50',
      value: (m) => p(m.cost, 50),
      render: (m) => usd(p(m.cost, 50)),
      numeric: true,
    },
    {
      key: 'cost90',
      label: 'Cost/request p90',
      value: (m) => p(m.cost, 90),
      render: (m) => usd(p(m.cost, 90)),
      numeric: true,
    },
  ];

  return (
    <div data-testid="view-oncall" data-from={rate.data?.from} data-to={rate.data?.to}>
      <PageHead title="On-call" sub={`${window.label} · ${tz}`}>
        <RangePicker route={route} fallback="24h" now={now} />
      </PageHead>
      <FilterChips route={route} />
      {rate.error ? (
        <ErrorBox error={rate.error} what="spend" />
      ) : (
        <>
          <div class="stats">
            <Stat
              label="Firing alerts"
              testid="firing-count"
              value={firing.data ? int(firing.data.alerts.length) : firing.error ? '—' : '…'}
              tone={firing.data && firing.data.alerts.length > 0 ? 'bad' : 'good'}
            />
            <Stat label="Spend in range" testid="oncall-spend" value={totals ? money(totals.cost_usd) : '…'} />
            <Stat
              label="Error rate"
              testid="error-rate"
              value={sample.data ? pct(stats.errors, events.length) : '…'}
              sub={`newest ${int(events.length)} events`}
              tone={events.length > 0 && stats.errors / events.length > 0.05 ? 'bad' : undefined}
            />
            <Stat
              label="Estimated usage"
              value={totals ? pct(totals.estimated_requests, totals.requests) : '…'}
              sub={totals ? `${int(totals.estimated_requests)} of ${int(totals.requests)} requests` : undefined}
            />
            <Stat
              label="Unpriced"
              value={totals ? pct(totals.unpriced_requests, totals.requests) : '…'}
              sub={totals ? `${int(totals.unpriced_requests)} requests` : undefined}
              tone={totals && totals.unpriced_requests > 0 ? 'warn' : undefined}
            />
            <Stat
              label="TTFT p50"
              testid="ttft-p50"
              value={ms(percentile(stats.ttft, 50))}
              sub={`p90 ${ms(percentile(stats.ttft, 90))} · p99 ${ms(percentile(stats.ttft, 99))}`}
            />
            <Stat
              label="Cost per request p50"
              value={usd(percentile(stats.cost, 50))}
              sub={`p90 ${usd(percentile(stats.cost, 90))} · p99 ${usd(percentile(stats.cost, 99))}`}
            />
          </div>

          <Panel title={`Spend per ${grain.unit}`} wide>
            {rate.loading ? <Loading what="the spend rate" /> : null}
            {rate.error ? <ErrorBox error={rate.error} what="the spend rate" /> : null}
            {spend ? (
              <>
                <TimeChart
                  xs={spend.xs}
                  series={spend.series}
                  kind="bars"
                  label={`Spend per ${grain.unit}, ${spend.xs.length} ${grain.unit}s, ${markers.length} alert markers`}
                  tz={tz}
                  format={(v) => (v >= 1 ? `$${v.toFixed(2)}` : `$${v.toFixed(3)}`)}
                  markers={markers}
                  unit={grain.unit}
                  extent={[from, to]}
                  testid="spend-rate-chart"
                  theme={theme}
                />
                <p class="muted small legend-note">
                  <span class="marker-swatch" aria-hidden="true" /> Dashed red lines: alerts that started in this range
                  ({markers.length}).
                </p>
              </>
            ) : null}
          </Panel>

          <Panel title="Burn rate per budget" wide>
            {budgets.loading ? <Loading what="budgets" /> : null}
            {budgets.error && isNotConfigured(budgets.error) ? (
              <NotConfigured title="Budgets are not configured" />
            ) : null}
            {budgets.error && !isNotConfigured(budgets.error) ? (
              <ErrorBox error={budgets.error} what="budgets" />
            ) : null}
            {budgets.data && burns.length === 0 ? <NotConfigured title="No budgets yet" /> : null}
            {burns.length > 0 ? (
              <DataTable
                caption="Burn rate per budget"
                columns={burnColumns}
                rows={burns}
                filename={`pertoken-burn-${dayString(now, tz)}`}
                rowKey={(b) => b.budget.id}
                rowTestId="burn-row"
              />
            ) : null}
            <p class="muted small">
              Burn rate = share of the limit spent ÷ share of the period elapsed; above 1× the budget runs out early.
            </p>
          </Panel>
          <Panel title="Active alerts" wide>
            {firing.loading ? <Loading what="alerts" /> : null}
            {firing.error && isNotConfigured(firing.error) ? (
              <NotConfigured title="Alerts are not enabled on this server" />
            ) : null}
            {firing.error && !isNotConfigured(firing.error) ? <ErrorBox error={firing.error} what="alerts" /> : null}
            {firing.data && firing.data.alerts.length === 0 ? <p class="state empty">Nothing is firing.</p> : null}
            {firing.data && firing.data.alerts.length > 0 ? (
              <AlertTable alerts={firing.data.alerts} tz={tz} now={now} compact />
            ) : null}
          </Panel>
          <Panel title="Resolved in range" wide>
            {alerts.error && !isNotConfigured(alerts.error) ? <ErrorBox error={alerts.error} what="alerts" /> : null}
            {alerts.error && isNotConfigured(alerts.error) ? (
              <NotConfigured title="Alerts are not enabled on this server" />
            ) : null}
            {alerts.data && resolved.length === 0 ? (
              <p class="state empty">
                No alert resolved in this range{markers.length > 0 ? '; the firing ones are listed above' : ''}.
              </p>
            ) : null}
            {resolved.length > 0 ? <AlertTable alerts={resolved} tz={tz} now={now} /> : null}
          </Panel>

          <Panel title="Latency and cost per request, by model" wide>
            {sample.loading ? <Loading what="events" /> : null}
            {sample.error ? <ErrorBox error={sample.error} what="events" /> : null}
            {sample.data ? (
              <>
                <p class="muted small">
                  Over the newest {int(events.length)} events in range{sample.data.next_cursor ? ` (of more)` : ''};
                  TTFT only where the call streamed.
                </p>
                <DataTable
                  caption="Latency and cost per request by model"
                  columns={modelColumns}
                  rows={stats.models}
                  filename={`pertoken-latency-${dayString(now, tz)}`}
                  rowKey={(m) => m.model}
                />
              </>
            ) : null}
          </Panel>
        </>
      )}
    </div>
  );
}

function sampleStats(events: EventPage['events']): {
  errors: number;
  ttft: number[];
  cost: number[];
  models: ModelStats[];
} {
  const byModel = new Map<string, ModelStats>();
  let errors = 0;
  const ttft: number[] = [];
  const cost: number[] = [];
  for (const e of events) {
    const failed = e.status !== 'ok';
    if (failed) errors++;
    if (e.ttft_ms !== null) ttft.push(e.ttft_ms);
    const c = e.cost_usd === null ? null : Number(nanoOf(e.cost_usd)) / 1e9;
    if (c !== null) cost.push(c);
    const m = byModel.get(e.model) ?? { model: e.model, requests: 0, errors: 0, ttft: [], cost: [] };
    m.requests++;
    if (failed) m.errors++;
    m.ttft.push(e.ttft_ms);
    m.cost.push(c);
    byModel.set(e.model, m);
  }
  return { errors, ttft, cost, models: [...byModel.values()].sort((a, b) => b.requests - a.requests) };
}

function p(values: Array<number | null>, q: number): number | null {
  return percentile(
    values.filter((v): v is number => v !== null),
    q,
  );
}

function usd(v: number | null): string {
  if (v === null) return '—';
  return moneyFine(v.toFixed(9));
}
