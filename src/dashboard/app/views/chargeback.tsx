import { useMemo } from 'preact/hooks';
import { EChart, type EOption } from '../components/echart.js';
import { PageHead } from '../components/layout.js';
import { Panel, Stat } from '../components/panel.js';
import { ErrorBox, Loading, NotConfigured } from '../components/states.js';
import { DataTable, type Column } from '../components/table.js';
import { apiUrl, isNotConfigured } from '../lib/api.js';
import { compact, label, money, moneyFine, usdNumber } from '../lib/format.js';
import { filtersOf, navigate, withParams } from '../lib/route.js';
import { palette } from '../lib/theme.js';
import type { Chargeback as ChargebackJson, ChargebackTenant } from '../lib/types.js';
import { useApi } from '../lib/use-api.js';
import type { ViewProps } from './common.js';

type Line = ChargebackTenant['lines'][number];

const PARTS = [
  { key: 'vendor_usd', label: 'Vendor APIs' },
  { key: 'selfhosted_usd', label: 'Self-hosted' },
  { key: 'idle_usd', label: 'Idle GPU' },
  { key: 'shared_usd', label: 'Shared costs' },
  { key: 'adjustments_usd', label: 'Adjustments' },
] as const;

/** Full cost and charge per tenant for a month: vendor, self-hosted, idle and shared, with the plan's charge and margin. */
export function Chargeback({ route, now, theme }: ViewProps) {
  const period = /^\d{4}-\d{2}$/.test(route.params.get('period') ?? '')
    ? (route.params.get('period') as string)
    : new Date(now).toISOString().slice(0, 7);
  const selected = filtersOf(route.params).tenant ?? null;
  const statement = useApi<ChargebackJson>(apiUrl('/api/v1/chargeback', { period }));
  const data = statement.data;

  const option = useMemo((): EOption | null => {
    if (!data || data.tenants.length === 0) return null;
    const colors = palette();
    return {
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, textStyle: { color: colors.text } },
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        backgroundColor: colors.surface,
        borderColor: colors.grid,
        textStyle: { color: colors.text },
      },
      xAxis: {
        type: 'category',
        data: data.tenants.map((t) => t.tenant),
        axisLabel: { color: colors.text },
        axisLine: { lineStyle: { color: colors.grid } },
      },
      yAxis: {
        type: 'value',
        axisLabel: { color: colors.muted, formatter: (v: number) => `$${compact(v)}` },
        splitLine: { lineStyle: { color: colors.grid } },
      },
      series: PARTS.map((part, i) => ({
        type: 'bar' as const,
        name: part.label,
        stack: 'cost',
        barMaxWidth: 56,
        itemStyle: { color: colors.series[i] ?? colors.accent },
        data: data.tenants.map((t) => usdNumber(t[part.key])),
      })),
    };
  }, [data, theme]);

  const columns: Array<Column<ChargebackTenant>> = [
    {
      key: 'tenant',
      label: 'Tenant',
      value: (t) => t.tenant,
      render: (t) => (
        <a
          href={withParams(route, { tenant: t.tenant })}
          aria-current={selected === t.tenant ? 'true' : undefined}
          data-testid="chargeback-tenant"
        >
          {t.tenant}
        </a>
      ),
    },
    ...PARTS.map((p) => ({
      key: p.key,
      label: p.label,
      value: (t: ChargebackTenant) => t[p.key],
      render: (t: ChargebackTenant) => money(t[p.key]),
      numeric: true,
    })),
    {
      key: 'cost',
      label: 'Full cost',
      value: (t) => t.cost_usd,
      render: (t) => <strong>{money(t.cost_usd)}</strong>,
      numeric: true,
    },
    { key: 'charge', label: 'Charge', value: (t) => t.charge_usd, render: (t) => money(t.charge_usd), numeric: true },
    { key: 'margin', label: 'Margin', value: (t) => t.margin_usd, render: (t) => money(t.margin_usd), numeric: true },
    { key: 'tokens', label: 'Tokens', value: (t) => t.tokens, render: (t) => compact(t.tokens), numeric: true },
    {
      key: 'unit',
      label: 'Per 1M tokens',
      value: (t) => t.cost_per_mtok_usd,
      render: (t) => money(t.cost_per_mtok_usd),
      numeric: true,
    },
    { key: 'basis', label: 'Basis', value: (t) => t.basis ?? '' },
  ];
  const lineColumns: Array<Column<Line>> = [
    { key: 'kind', label: 'Kind', value: (l) => l.kind ?? '' },
    { key: 'project', label: 'Project', value: (l) => label(l.project) },
    { key: 'provider', label: 'Provider', value: (l) => l.provider },
    { key: 'model', label: 'Model', value: (l) => l.model },
    { key: 'bucket', label: 'Bucket', value: (l) => l.bucket },
    { key: 'tokens', label: 'Tokens', value: (l) => l.tokens, numeric: true },
    { key: 'cost', label: 'Cost', value: (l) => l.cost_usd, render: (l) => moneyFine(l.cost_usd), numeric: true },
    {
      key: 'charge',
      label: 'Charge',
      value: (l) => l.charge_usd,
      render: (l) => moneyFine(l.charge_usd),
      numeric: true,
    },
  ];
  const tenant = data?.tenants.find((t) => t.tenant === selected) ?? null;

  return (
    <div data-testid="view-chargeback">
      <PageHead
        title="Chargeback"
        sub={
          data ? `${data.period} · ${data.from.slice(0, 10)} to ${data.to.slice(0, 16).replace('T', ' ')} UTC` : period
        }
      >
        <label class="field">
          <span>Month</span>
          <input
            type="month"
            value={period}
            onChange={(e) =>
              e.currentTarget.value && navigate(withParams(route, { period: e.currentTarget.value, tenant: null }))
            }
            data-testid="period-input"
          />
        </label>
      </PageHead>
      {statement.loading ? <Loading what="the statement" /> : null}
      {statement.error && isNotConfigured(statement.error) ? (
        <NotConfigured title="Chargeback is not enabled on this server" />
      ) : statement.error ? (
        <ErrorBox error={statement.error} what="the statement" />
      ) : null}
      {data ? (
        <>
          <div class="stats">
            <Stat label="Full cost" testid="chargeback-total" value={money(String(data.totals.cost_usd ?? '0'))} />
            <Stat label="Charged" value={money(String(data.totals.charge_usd ?? '0'))} />
            <Stat label="Margin" value={money(String(data.totals.margin_usd ?? '0'))} />
            {data.unallocated ? (
              <>
                <Stat
                  label="Unallocated idle"
                  value={money(data.unallocated.idle_usd)}
                  sub="GPU hours no tenant used"
                />
                <Stat label="Unallocated shared" value={money(data.unallocated.shared_usd)} />
              </>
            ) : null}
          </div>
          {data.tenants.length === 0 ? (
            <NotConfigured title="No spend in this month">
              Pick another month, or send traffic through the gateway.
            </NotConfigured>
          ) : (
            <>
              <Panel title="Full cost by tenant" wide>
                {option ? (
                  <EChart
                    option={option}
                    label={`Full cost by tenant, stacked: ${data.tenants.map((t) => `${t.tenant} ${money(t.cost_usd)}`).join('; ')}`}
                    height={300}
                    testid="chargeback-chart"
                    points={data.tenants.length}
                    onSelect={(name) => navigate(withParams(route, { tenant: name }))}
                  />
                ) : null}
              </Panel>
              <Panel title="Statement" wide>
                <DataTable
                  caption="Chargeback statement by tenant"
                  columns={columns}
                  rows={data.tenants}
                  filename={`pertoken-chargeback-${data.period}`}
                  rowKey={(t) => t.tenant}
                  rowTestId="chargeback-row"
                />
              </Panel>
              {tenant ? (
                <Panel title={`Lines of ${tenant.tenant}`} wide>
                  <DataTable
                    caption={`Chargeback lines of ${tenant.tenant}`}
                    columns={lineColumns}
                    rows={tenant.lines}
                    filename={`pertoken-chargeback-${data.period}-${tenant.tenant}`}
                    rowKey={(l, i) => `${i}`}
                    rowTestId="chargeback-line"
                  />
                </Panel>
              ) : (
                <p class="muted small">Pick a tenant to see its lines.</p>
              )}
            </>
          )}
        </>
      ) : null}
    </div>
  );
}
