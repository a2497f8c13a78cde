import { useMemo } from 'preact/hooks';
import { FilterChips, RangePicker, rangeOf } from '../components/controls.js';
import { PageHead } from '../components/layout.js';
import { Meter, Panel, Stat } from '../components/panel.js';
import { ErrorBox, Loading, NotConfigured } from '../components/states.js';
import { TimeChart, type TimeSeries } from '../components/time-chart.js';
import { TopChart, topShares } from '../components/top-chart.js';
import { apiUrl, isNotConfigured } from '../lib/api.js';
import { compact, int, money, nanoOf, pct, perMillionNano, tokenTotal, usdNumber } from '../lib/format.js';
import { windowQuery } from '../lib/query.js';
import { filtersOf, navigate, withParams } from '../lib/route.js';
import { fold, grainOf } from '../lib/series.js';
import { formatTime, resolveWindow } from '../lib/time.js';
import type { Budget, Costs, Forecast } from '../lib/types.js';
import { useApi } from '../lib/use-api.js';
import { Breakdown } from './breakdown.js';
import type { ViewProps } from './common.js';

const TOP = [
  { key: 'tenant', title: 'Top tenants' },
  { key: 'project', title: 'Top projects' },
  { key: 'feature', title: 'Top features' },
  { key: 'model', title: 'Top models' },
] as const;

const usdPerM = (v: number): string => `$${v >= 100 ? v.toFixed(0) : v.toFixed(2)}`;

/** Spend for the period, against budget and forecast, its unit cost over time and who spent it. */
export function Executive({ route, now, theme }: ViewProps) {
  const range = rangeOf(route, 'mtd');
  const window = resolveWindow(range, now);
  const filters = filtersOf(route.params);
  const grain = grainOf(window, now, range.tz);
  const costs = useApi<Costs>(apiUrl('/api/v1/costs', windowQuery(window, route)));
  const series = useApi<Costs>(
    apiUrl('/api/v1/costs', windowQuery(window, route, { group_by: `${grain.groupBy},model` })),
  );
  const tops = {
    tenant: useApi<Costs>(apiUrl('/api/v1/costs', windowQuery(window, route, { group_by: 'tenant' }))),
    project: useApi<Costs>(apiUrl('/api/v1/costs', windowQuery(window, route, { group_by: 'project' }))),
    feature: useApi<Costs>(apiUrl('/api/v1/costs', windowQuery(window, route, { group_by: 'feature' }))),
    model: useApi<Costs>(apiUrl('/api/v1/costs', windowQuery(window, route, { group_by: 'model' }))),
  };
  const budgets = useApi<{ budgets: Budget[] }>(apiUrl('/api/v1/budgets', { tenant: filters.tenant }));
  const forecast = useApi<Forecast>(
    apiUrl('/api/v1/forecast', { scope: filters.tenant ? `tenant:${filters.tenant}` : undefined }),
  );

  const perModel = useMemo(() => {
    if (!series.data) return null;
    const folded = fold(series.data.rows, grain, range.tz, 'model');
    const ranked = [...folded.totals.entries()].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
    const lines: TimeSeries[] = [];
    for (const [model] of ranked) {
      const cells = folded.cells.get(model);
      if (!cells) continue;
      // A model without a price has no unit cost; $0 per 1M would be a lie.
      const values = folded.xs.map((x) => {
        const c = cells.get(x);
        if (!c || c.unpriced >= c.requests) return null;
        return perMillionNano(c.costNano, c.tokens);
      });
      if (values.every((v) => v === null)) continue;
      lines.push({ label: model, values });
      if (lines.length === 6) break;
    }
    return { xs: folded.xs, lines };
  }, [series.data, grain.unit, grain.groupBy, range.tz]);

  const totals = costs.data?.totals;
  const tokens = totals ? tokenTotal(totals.tokens) : 0;
  // The API's unit cost: exact, from the net cost (null without tokens).
  const perMillionUsd = totals?.cost_per_1m_tokens_usd ?? null;
  const unitCost = perMillionUsd === null ? null : usdNumber(perMillionUsd);

  return (
    <div data-testid="view-executive" data-from={costs.data?.from} data-to={costs.data?.to}>
      <PageHead
        title="Executive"
        sub={`${window.label} · ${range.tz}${window.from !== null ? ` · from ${formatTime(window.from, range.tz)}` : ''}`}
      >
        <RangePicker route={route} fallback="mtd" now={now} />
      </PageHead>
      <FilterChips route={route} />
      {costs.error ? (
        <ErrorBox error={costs.error} what="spend" />
      ) : (
        <>
          <div class="stats">
            <Stat
              label="Spend"
              testid="total-spend"
              value={totals ? money(totals.cost_usd) : costs.loading ? '…' : '—'}
              sub={
                totals && nanoOf(totals.cost_usd) !== 0n && totals.list_cost_usd !== totals.cost_usd
                  ? `list ${money(String(totals.list_cost_usd))}`
                  : window.label
              }
            />
            <Stat label="Requests" testid="total-requests" value={totals ? int(totals.requests) : '…'} />
            <Stat label="Tokens" value={totals ? compact(tokens) : '…'} sub={totals ? int(tokens) : undefined} />
            <Stat label="Cost per 1M tokens" value={unitCost === null ? '—' : usdPerM(unitCost)} />
            <Stat
              label="Unpriced"
              testid="unpriced-share"
              value={totals ? pct(totals.unpriced_requests, totals.requests) : '…'}
              sub={totals ? `${int(totals.unpriced_requests)} requests without a price` : undefined}
              tone={totals && totals.unpriced_requests > 0 ? 'warn' : undefined}
            />
            <Stat
              label="Estimated usage"
              testid="estimated-share"
              value={totals ? pct(totals.estimated_requests, totals.requests) : '…'}
              sub={totals ? `${int(totals.estimated_requests)} requests counted by tokenizer` : undefined}
            />
            {totals && typeof totals.saved_usd === 'string' ? (
              <Stat label="Saved by cache and batch" value={money(totals.saved_usd)} tone="good" />
            ) : null}
          </div>

          {totals && totals.requests === 0 ? (
            <div class="state empty" data-testid="empty">
              <strong>No usage in this range</strong>
              <p>
                Send calls through the gateway (<code>/v1/chat/completions</code>, <code>/v1/messages</code>) or post
                usage to <code>/v1/usage/events</code>, or pick a wider range.
              </p>
            </div>
          ) : null}
          <div class="grid two">
            <Panel title="Budgets">
              {budgets.loading ? <Loading what="budgets" /> : null}
              {budgets.error && isNotConfigured(budgets.error) ? (
                <NotConfigured title="Budgets are not configured">
                  This server runs without governance; budgets come with keys (see Budgets & keys).
                </NotConfigured>
              ) : budgets.error ? (
                <ErrorBox error={budgets.error} what="budgets" />
              ) : null}
              {budgets.data && budgets.data.budgets.length === 0 ? (
                <NotConfigured title="No budgets yet">
                  Set one with <code>pertoken budgets set</code> or <code>POST /api/v1/admin/budgets</code>.
                </NotConfigured>
              ) : null}
              {budgets.data ? (
                <ul class="budget-list">
                  {/* Spend against USD limits; token allowances are on Budgets & keys. */}
                  {budgets.data.budgets
                    .filter((b) => b.limit_usd !== null)
                    .slice(0, 6)
                    .map((b) => (
                      <li key={b.id} data-testid="budget-item">
                        <div class="budget-line">
                          <strong>{b.id}</strong>
                          <span class="muted">
                            {b.period} ·{' '}
                            {Object.entries(b.scope)
                              .map(([k, v]) => `${k} ${v}`)
                              .join(', ')}
                          </span>
                          <span class="num">
                            {money(b.spent_usd)} of {money(b.limit_usd)}
                          </span>
                        </div>
                        <Meter
                          value={usdNumber(b.spent_usd)}
                          max={usdNumber(b.limit_usd)}
                          label={`${b.id}: spent ${money(b.spent_usd)} of ${money(b.limit_usd)}`}
                        />
                      </li>
                    ))}
                </ul>
              ) : null}
              {budgets.data && budgets.data.budgets.length > 0 ? (
                <p class="muted small">
                  Budgets count unpriced usage at a fallback price, so spent can exceed the metered cost.
                </p>
              ) : null}
            </Panel>
            <Panel title="Forecast, this month">
              {forecast.loading ? <Loading what="the forecast" /> : null}
              {forecast.error && isNotConfigured(forecast.error) ? (
                <NotConfigured title="Forecasts are not enabled on this server" />
              ) : forecast.error ? (
                <ErrorBox error={forecast.error} what="the forecast" />
              ) : null}
              {forecast.data ? <ForecastCard forecast={forecast.data} /> : null}
            </Panel>
          </div>

          <Panel title={`Cost per 1M tokens by model, per ${grain.unit}`} wide>
            {series.loading ? <Loading what="the series" /> : null}
            {series.error ? <ErrorBox error={series.error} what="the series" /> : null}
            {perModel && perModel.lines.length === 0 ? <p class="muted">No priced usage in this range.</p> : null}
            {perModel && perModel.lines.length > 0 ? (
              <TimeChart
                xs={perModel.xs}
                series={perModel.lines}
                label={`Cost per 1M tokens by model, ${perModel.xs.length} ${grain.unit}s, ${perModel.lines.length} models`}
                tz={range.tz}
                format={usdPerM}
                unit={grain.unit}
                testid="unit-cost-chart"
                theme={theme}
              />
            ) : null}
          </Panel>

          <div class="grid four">
            {TOP.map(({ key, title }) => {
              const state = tops[key];
              return (
                <Panel key={key} title={title}>
                  {state.loading ? <Loading /> : null}
                  {state.error ? <ErrorBox error={state.error} /> : null}
                  {state.data && state.data.rows.length === 0 ? <p class="muted">No spend in this range.</p> : null}
                  {state.data && state.data.rows.length > 0 ? (
                    <TopChart
                      shares={topShares(state.data.rows, key)}
                      title={title}
                      theme={theme}
                      testid={`top-${key}`}
                      onSelect={(value) => navigate(withParams(route, { [key]: value }))}
                    />
                  ) : null}
                </Panel>
              );
            })}
          </div>

          <Breakdown route={route} now={now} window={window} tz={range.tz} />
        </>
      )}
    </div>
  );
}

function ForecastCard({ forecast }: { forecast: Forecast }) {
  const limit = forecast.limit_usd ? nanoOf(forecast.limit_usd) : null;
  const over = limit !== null && nanoOf(forecast.projected_usd) > limit;
  return (
    <div class="forecast" data-testid="forecast">
      <div class="forecast-main">
        <span class="big">{money(forecast.projected_usd)}</span>
        <span class="muted">projected by {formatTime(Date.parse(forecast.period_end) - 1, 'UTC').slice(0, 10)}</span>
      </div>
      <p>
        {Math.round(forecast.interval * 100)}% interval {money(forecast.low_usd)} – {money(forecast.high_usd)} · spent
        so far {money(forecast.spent_usd)}
      </p>
      {limit !== null ? (
        <p class={over ? 'bad-text' : 'muted'}>
          Limit {money(forecast.limit_usd)}
          {forecast.exhaustion_at ? ` · exhausted around ${formatTime(forecast.exhaustion_at, 'UTC')} UTC` : ''}
        </p>
      ) : null}
      <p class="muted small">
        Method: {forecast.method} · scope {forecast.scope}
      </p>
    </div>
  );
}
