import { PageHead } from '../components/layout.js';
import { Meter, Panel } from '../components/panel.js';
import { ErrorBox, Loading, NotConfigured } from '../components/states.js';
import { DataTable, type Column } from '../components/table.js';
import { apiUrl, isNotConfigured } from '../lib/api.js';
import { compact, money, usdNumber } from '../lib/format.js';
import { filtersOf, href } from '../lib/route.js';
import { dayString, formatTime } from '../lib/time.js';
import type { Budget, KeyInfo } from '../lib/types.js';
import { useApi } from '../lib/use-api.js';
import type { ViewProps } from './common.js';

/** Budgets (any reader, narrowed to a key's tenant) and keys (the admin API: admin token only). Read-only. */
export function Budgets({ route, now, role }: ViewProps) {
  const tz = route.params.get('tz') || 'UTC';
  const tenant = filtersOf(route.params).tenant;
  const budgets = useApi<{ budgets: Budget[] }>(apiUrl('/api/v1/budgets', { tenant }));
  const keys = useApi<{ keys: KeyInfo[] }>(role === 'admin' ? apiUrl('/api/v1/admin/keys', { tenant }) : null);

  const budgetColumns: Array<Column<Budget>> = [
    {
      key: 'id',
      label: 'Budget',
      value: (b) => b.id,
      render: (b) => (b.scope.tenant ? <a href={href('executive', { tenant: b.scope.tenant })}>{b.id}</a> : b.id),
    },
    {
      key: 'scope',
      label: 'Scope',
      value: (b) =>
        Object.entries(b.scope)
          .map(([k, v]) => `${k}:${v}`)
          .join(' '),
    },
    { key: 'period', label: 'Period', value: (b) => `${b.period}${b.tz && b.tz !== 'UTC' ? ` (${b.tz})` : ''}` },
    { key: 'action', label: 'Action', value: (b) => b.action ?? '' },
    {
      key: 'window',
      label: `Window (${tz})`,
      value: (b) => `${b.period_start ?? ''}/${b.period_end ?? ''}`,
      render: (b) =>
        b.period_start ? `${short(b.period_start, tz)} → ${b.period_end ? short(b.period_end, tz) : '…'}` : 'all time',
    },
    { key: 'limit', label: 'Limit', value: (b) => b.limit_usd, render: (b) => money(b.limit_usd), numeric: true },
    { key: 'spent', label: 'Spent', value: (b) => b.spent_usd, render: (b) => money(b.spent_usd), numeric: true },
    {
      key: 'reserved',
      label: 'Reserved',
      value: (b) => b.reserved_usd,
      render: (b) => money(b.reserved_usd),
      numeric: true,
    },
    {
      key: 'remaining',
      label: 'Remaining',
      value: (b) => b.remaining_usd,
      render: (b) => money(b.remaining_usd),
      numeric: true,
    },
    {
      key: 'projected',
      label: 'Projected',
      value: (b) => b.projected_usd,
      render: (b) => money(b.projected_usd),
      numeric: true,
    },
    ...(budgets.data?.budgets.some((b) => b.limit_tokens !== undefined)
      ? [
          {
            key: 'tokens',
            label: 'Tokens (spent / allowance)',
            value: (b: Budget) => (b.limit_tokens === undefined ? '' : `${b.spent_tokens ?? 0}/${b.limit_tokens}`),
            render: (b: Budget) =>
              b.limit_tokens === undefined ? '—' : `${compact(b.spent_tokens ?? 0)} / ${compact(b.limit_tokens)}`,
            numeric: true,
          },
        ]
      : []),
    {
      key: 'used',
      label: 'Used',
      value: (b) => (usedShare(b) * 100).toFixed(1),
      render: (b) => (
        <div class="meter-cell">
          <Meter value={usedShare(b, true)} max={1} label={`${b.id} used`} />
          <span>{(usedShare(b) * 100).toFixed(0)}%</span>
        </div>
      ),
    },
  ];
  const keyColumns: Array<Column<KeyInfo>> = [
    { key: 'id', label: 'Key id', value: (k) => k.id },
    { key: 'name', label: 'Name', value: (k) => k.name },
    { key: 'tenant', label: 'Tenant', value: (k) => k.tenant },
    { key: 'project', label: 'Project', value: (k) => k.project },
    { key: 'scopes', label: 'Scopes', value: (k) => k.scopes.join(' ') },
    { key: 'models', label: 'Models', value: (k) => (k.models.length ? k.models.join(' ') : 'all') },
    {
      key: 'status',
      label: 'Status',
      value: (k) => k.status,
      render: (k) => <span class={`badge ${k.status === 'active' ? 'good' : 'plain'}`}>{k.status}</span>,
    },
    {
      key: 'created',
      label: `Created (${tz})`,
      value: (k) => k.created_at,
      render: (k) => formatTime(k.created_at, tz),
    },
    {
      key: 'expires',
      label: 'Expires',
      value: (k) => k.expires_at,
      render: (k) => (k.expires_at ? formatTime(k.expires_at, tz) : 'never'),
    },
  ];

  return (
    <div data-testid="view-budgets">
      <PageHead
        title="Budgets & keys"
        sub="Spent, reserved for requests in flight, remaining and projected to the period's end. Unpriced usage counts at a fallback price."
      />
      <Panel title="Budgets" wide>
        {budgets.loading ? <Loading what="budgets" /> : null}
        {budgets.error && isNotConfigured(budgets.error) ? (
          <NotConfigured title="Budgets are not configured">This server runs without governance.</NotConfigured>
        ) : budgets.error ? (
          <ErrorBox error={budgets.error} what="budgets" />
        ) : null}
        {budgets.data && budgets.data.budgets.length === 0 ? (
          <NotConfigured title="No budgets yet">
            Create one with <code>pertoken budgets set</code>, <code>POST /api/v1/admin/budgets</code> or{' '}
            <code>budgets:</code> in pertoken.yaml.
          </NotConfigured>
        ) : null}
        {budgets.data && budgets.data.budgets.length > 0 ? (
          <DataTable
            caption="Budgets"
            columns={budgetColumns}
            rows={budgets.data.budgets}
            filename={`pertoken-budgets-${dayString(now, tz)}`}
            rowKey={(b) => b.id}
            rowTestId="budget-row"
            testid="budgets-table"
          />
        ) : null}
      </Panel>
      <Panel title="Keys" wide>
        {role !== 'admin' ? (
          <NotConfigured title="Keys are listed for the admin token only">
            A read key sees its tenant's budgets and spend; keys are managed with the admin token (
            <code>pertoken keys</code>).
          </NotConfigured>
        ) : null}
        {keys.loading ? <Loading what="keys" /> : null}
        {keys.error && isNotConfigured(keys.error) ? (
          <NotConfigured title="Keys are not configured" />
        ) : keys.error ? (
          <ErrorBox error={keys.error} what="keys" />
        ) : null}
        {keys.data && keys.data.keys.length === 0 ? (
          <NotConfigured title="No virtual keys yet">
            Create one with <code>pertoken keys create</code>.
          </NotConfigured>
        ) : null}
        {keys.data && keys.data.keys.length > 0 ? (
          <DataTable
            caption="Virtual keys"
            columns={keyColumns}
            rows={keys.data.keys}
            filename={`pertoken-keys-${dayString(now, tz)}`}
            rowKey={(k) => k.id}
            rowTestId="key-row"
          />
        ) : null}
      </Panel>
    </div>
  );
}

/** A period bound: the day alone at midnight, else day and time. */
function short(iso: string, tz: string): string {
  const text = formatTime(iso, tz);
  return text.endsWith(' 00:00') ? text.slice(0, 10) : text;
}

/**
 * The share of the allowance used (spent, plus reserved when `held`): of the USD limit, or of the
 * token allowance for a budget that has only that.
 */
function usedShare(b: Budget, held = false): number {
  if (b.limit_usd === null)
    return ((b.spent_tokens ?? 0) + (held ? (b.reserved_tokens ?? 0) : 0)) / Math.max(1, b.limit_tokens ?? 0);
  const used = usdNumber(b.spent_usd) + (held ? usdNumber(b.reserved_usd) : 0);
  return used / Math.max(1e-9, usdNumber(b.limit_usd));
}
