import { FilterChips, RangePicker, rangeOf } from '../components/controls.js';
import { PageHead } from '../components/layout.js';
import { Panel, Stat } from '../components/panel.js';
import { ErrorBox, Loading, NotConfigured } from '../components/states.js';
import { DataTable, type Column } from '../components/table.js';
import { apiUrl, isNotConfigured } from '../lib/api.js';
import { int } from '../lib/format.js';
import { filtersOf, href, navigate, withParams } from '../lib/route.js';
import { dayString, formatTime, isoOrNull, resolveWindow } from '../lib/time.js';
import type { Alert } from '../lib/types.js';
import { useApi } from '../lib/use-api.js';
import type { ViewProps } from './common.js';

const STATES = ['all', 'firing', 'resolved'] as const;

function duration(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Alerts as a table; a scoped alert links to its tenant's spend. */
export function AlertTable({
  alerts,
  tz,
  now,
  compact,
}: {
  alerts: Alert[];
  tz: string;
  now: number;
  compact?: boolean;
}) {
  const columns: Array<Column<Alert>> = [
    {
      key: 'severity',
      label: 'Severity',
      value: (a) => a.severity,
      render: (a) => <span class={`badge ${a.severity === 'page' ? 'bad' : 'warn'}`}>{a.severity}</span>,
    },
    { key: 'kind', label: 'Kind', value: (a) => a.kind },
    {
      key: 'summary',
      label: 'Summary',
      wrap: true,
      value: (a) => a.summary,
    },
    {
      key: 'scope',
      label: 'Scope',
      value: (a) =>
        Object.entries(a.scope)
          .map(([k, v]) => `${k}:${v}`)
          .join(' '),
      render: (a) => (
        <span class="scope">
          {Object.entries(a.scope).map(([k, v]) =>
            k === 'tenant' ? (
              <a key={k} href={href('executive', { tenant: v, range: '7d', tz: tz === 'UTC' ? null : tz })}>
                tenant:{v}
              </a>
            ) : (
              <span key={k}>
                {k}:{v}
              </span>
            ),
          )}
        </span>
      ),
    },
    {
      key: 'state',
      label: 'State',
      value: (a) => a.state,
      render: (a) => <span class={`badge ${a.state === 'firing' ? 'bad' : 'plain'}`}>{a.state}</span>,
    },
    {
      key: 'started',
      label: `Started (${tz})`,
      value: (a) => a.started_at,
      render: (a) => formatTime(a.started_at, tz),
    },
    {
      key: 'duration',
      label: 'Duration',
      value: (a) => (a.ended_at ? Date.parse(a.ended_at) : now) - Date.parse(a.started_at),
      render: (a) => duration((a.ended_at ? Date.parse(a.ended_at) : now) - Date.parse(a.started_at)),
      numeric: true,
    },
    ...(compact
      ? []
      : [
          { key: 'value', label: 'Value', value: (a: Alert) => a.value },
          { key: 'baseline', label: 'Baseline', value: (a: Alert) => a.baseline },
        ]),
  ];
  return (
    <DataTable
      caption="Alerts"
      columns={columns}
      rows={alerts}
      filename={`pertoken-alerts-${dayString(now, tz)}`}
      rowKey={(a) => a.id}
      rowTestId="alert-row"
    />
  );
}

export function Alerts({ route, now }: ViewProps) {
  const range = rangeOf(route, '7d');
  const window = resolveWindow(range, now);
  const state = (STATES as readonly string[]).includes(route.params.get('state') ?? '')
    ? (route.params.get('state') as string)
    : 'all';
  const tenant = filtersOf(route.params).tenant;
  const list = useApi<{ alerts: Alert[] }>(
    apiUrl('/api/v1/alerts', { state, from: isoOrNull(window.from), to: isoOrNull(window.to), tenant }),
  );
  const alerts = list.data?.alerts ?? [];
  return (
    <div data-testid="view-alerts">
      <PageHead title="Alerts" sub={`${window.label} · ${range.tz}`}>
        <label class="field">
          <span>State</span>
          <select
            value={state}
            onChange={(e) =>
              navigate(withParams(route, { state: e.currentTarget.value === 'all' ? null : e.currentTarget.value }))
            }
          >
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <RangePicker route={route} fallback="7d" allowAll now={now} />
      </PageHead>
      <FilterChips route={route} />
      {list.data ? (
        <div class="stats">
          <Stat label="Alerts" testid="alert-count" value={int(alerts.length)} />
          <Stat
            label="Firing"
            value={int(alerts.filter((a) => a.state === 'firing').length)}
            tone={alerts.some((a) => a.state === 'firing') ? 'bad' : 'good'}
          />
          <Stat label="Pages" value={int(alerts.filter((a) => a.severity === 'page').length)} />
          <Stat label="Tickets" value={int(alerts.filter((a) => a.severity === 'ticket').length)} />
        </div>
      ) : null}
      <Panel title="Alerts" wide>
        {list.loading ? <Loading what="alerts" /> : null}
        {list.error && isNotConfigured(list.error) ? (
          <NotConfigured title="Alerts are not enabled on this server">
            <code>pertoken serve</code> evaluates detectors when started with an <code>alerts:</code> section or its
            defaults.
          </NotConfigured>
        ) : list.error ? (
          <ErrorBox error={list.error} what="alerts" />
        ) : null}
        {list.data && alerts.length === 0 ? (
          <p class="state empty" data-testid="empty">
            No {state === 'all' ? '' : `${state} `}alerts in this range.
          </p>
        ) : null}
        {alerts.length > 0 ? <AlertTable alerts={alerts} tz={range.tz} now={now} /> : null}
      </Panel>
    </div>
  );
}
