import { PageHead } from '../components/layout.js';
import { Panel, Stat } from '../components/panel.js';
import { ErrorBox, Loading, NotConfigured } from '../components/states.js';
import { DataTable, type Column } from '../components/table.js';
import { apiUrl, isNotConfigured } from '../lib/api.js';
import { int, label, money, moneyFine, nanoOf } from '../lib/format.js';
import { filtersOf, navigate, withParams } from '../lib/route.js';
import { DAY_MS } from '../lib/time.js';
import type { Reconciliation as ReconciliationJson, ReconciliationRow } from '../lib/types.js';
import { useApi } from '../lib/use-api.js';
import type { ViewProps } from './common.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Metered cost against the providers' bills, per UTC day × provider × tenant × model × bucket. */
export function Reconciliation({ route, now }: ViewProps) {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const fromDay = DAY.test(route.params.get('from') ?? '')
    ? (route.params.get('from') as string)
    : utcDay(today - 7 * DAY_MS);
  const toDay = DAY.test(route.params.get('to') ?? '') ? (route.params.get('to') as string) : utcDay(today - DAY_MS);
  const threshold = route.params.get('threshold') ?? '0.5';
  const tenant = filtersOf(route.params).tenant;
  // The API takes whole UTC days, `to` exclusive: the last day shown is included.
  const toExclusive = utcDay(Date.parse(`${toDay}T00:00:00Z`) + DAY_MS);
  const report = useApi<ReconciliationJson>(
    apiUrl('/api/v1/reconciliation', { from: fromDay, to: toExclusive, threshold_pct: threshold, tenant }),
  );
  const data = report.data;
  const hideMatches = route.params.get('hide') === 'match';
  const rows = (data?.rows ?? []).filter((r) => !hideMatches || r.explanation.code !== 'match');

  const columns: Array<Column<ReconciliationRow>> = [
    { key: 'day', label: 'Day (UTC)', value: (r) => r.day },
    { key: 'provider', label: 'Provider', value: (r) => r.provider },
    { key: 'tenant', label: 'Tenant', value: (r) => label(r.tenant) },
    { key: 'project', label: 'Project', value: (r) => label(r.project) },
    { key: 'model', label: 'Model', value: (r) => label(r.model) },
    { key: 'bucket', label: 'Bucket', value: (r) => label(r.bucket) },
    {
      key: 'metered',
      label: 'Metered',
      value: (r) => r.metered_usd,
      render: (r) => moneyFine(r.metered_usd),
      numeric: true,
    },
    {
      key: 'billed',
      label: 'Billed',
      value: (r) => r.billed_usd,
      render: (r) => moneyFine(r.billed_usd),
      numeric: true,
    },
    {
      key: 'delta',
      label: 'Delta',
      value: (r) => r.delta_usd,
      render: (r) => <span class={r.explanation.code === 'match' ? '' : 'warn-text'}>{moneyFine(r.delta_usd)}</span>,
      numeric: true,
    },
    {
      key: 'pct',
      label: 'Delta %',
      value: (r) => r.delta_pct,
      render: (r) => (r.delta_pct === null ? '—' : `${Number(r.delta_pct).toFixed(2)}%`),
      numeric: true,
    },
    {
      key: 'explanation',
      label: 'Explanation',
      value: (r) => r.explanation.code,
      render: (r) => (
        <span>
          <span
            class={`badge ${r.explanation.code === 'match' ? 'good' : r.explanation.code === 'unexplained' ? 'bad' : 'warn'}`}
          >
            {r.explanation.code}
          </span>{' '}
          <span class="muted small">{r.explanation.detail}</span>
        </span>
      ),
    },
  ];
  const notImported = data?.totals.not_imported ?? [];

  return (
    <div data-testid="view-reconciliation">
      <PageHead
        title="Reconciliation"
        sub="Is the bill right? Metered cost against the providers' cost reports, per UTC day."
      >
        <label class="field">
          <span>From (UTC day)</span>
          <input
            type="date"
            value={fromDay}
            onChange={(e) => e.currentTarget.value && navigate(withParams(route, { from: e.currentTarget.value }))}
          />
        </label>
        <label class="field">
          <span>To (UTC day)</span>
          <input
            type="date"
            value={toDay}
            onChange={(e) => e.currentTarget.value && navigate(withParams(route, { to: e.currentTarget.value }))}
          />
        </label>
        <label class="field">
          <span>Threshold %</span>
          <input
            type="number"
            min="0"
            step="0.1"
            value={threshold}
            onChange={(e) =>
              navigate(withParams(route, { threshold: e.currentTarget.value === '0.5' ? null : e.currentTarget.value }))
            }
          />
        </label>
      </PageHead>
      {report.loading ? <Loading what="the reconciliation" /> : null}
      {report.error && isNotConfigured(report.error) ? (
        <NotConfigured title="Reconciliation is not enabled on this server" />
      ) : report.error ? (
        <ErrorBox error={report.error} what="the reconciliation" />
      ) : null}
      {data ? (
        <>
          <div class="stats">
            <Stat
              label="Status"
              testid="reconciliation-status"
              value={data.status}
              tone={data.status === 'ok' ? 'good' : 'warn'}
            />
            <Stat label="Metered" value={money(data.totals.metered_usd)} />
            <Stat label="Billed" value={money(data.totals.billed_usd)} />
            <Stat
              label="Delta"
              value={money(data.totals.delta_usd)}
              tone={nanoOf(data.totals.delta_usd) === 0n ? 'good' : 'warn'}
            />
            {data.totals.unexplained !== undefined ? (
              <Stat
                label="Unexplained gaps"
                value={int(data.totals.unexplained)}
                tone={data.totals.unexplained > 0 ? 'bad' : 'good'}
              />
            ) : null}
          </div>
          {notImported.length > 0 ? (
            <Panel title="Days without a billing import" wide>
              <p class="muted">
                Metered spend on these days has no provider report to compare with. Import one with{' '}
                <code>pertoken import openai-costs|anthropic-cost|focus FILE</code> or{' '}
                <code>POST /api/v1/admin/billing/imports</code>.
              </p>
              <ul class="not-imported" data-testid="not-imported">
                {notImported.map((n) => (
                  <li key={n.provider}>
                    <strong>{n.provider}</strong>: {n.days.length} day{n.days.length === 1 ? '' : 's'} ({n.days[0]}
                    {n.days.length > 1 ? ` … ${n.days[n.days.length - 1]}` : ''})
                  </li>
                ))}
              </ul>
            </Panel>
          ) : null}
          <Panel title="Rows" wide>
            <label class="field inline check">
              <input
                type="checkbox"
                checked={hideMatches}
                onChange={(e) => navigate(withParams(route, { hide: e.currentTarget.checked ? 'match' : null }))}
              />
              <span>
                Hide rows that match ({int((data.rows ?? []).filter((r) => r.explanation.code === 'match').length)})
              </span>
            </label>
            {data.rows.length === 0 ? (
              <p class="state empty" data-testid="empty">
                No billed or metered rows to compare in this window
                {notImported.length > 0 ? ': no billing data is imported for it yet' : ''}.
              </p>
            ) : (
              <DataTable
                caption="Reconciliation rows"
                columns={columns}
                rows={rows}
                filename={`pertoken-reconciliation-${fromDay}-${toDay}`}
                rowKey={(r, i) => `${r.day}-${r.provider}-${r.tenant}-${r.model}-${r.bucket}-${i}`}
                rowTestId="reconciliation-row"
              />
            )}
          </Panel>
        </>
      ) : null}
    </div>
  );
}
