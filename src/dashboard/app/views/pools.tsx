import { useMemo } from 'preact/hooks';
import { RangePicker, rangeOf } from '../components/controls.js';
import { EChart, type EOption } from '../components/echart.js';
import { PageHead } from '../components/layout.js';
import { Panel } from '../components/panel.js';
import { ErrorBox, Loading, NotConfigured } from '../components/states.js';
import { DataTable, type Column } from '../components/table.js';
import { apiUrl, isNotConfigured } from '../lib/api.js';
import { compact, money, usdNumber } from '../lib/format.js';
import { palette } from '../lib/theme.js';
import { dayString, isoOrNull, resolveWindow } from '../lib/time.js';
import type { Pool } from '../lib/types.js';
import { useApi } from '../lib/use-api.js';
import type { ViewProps } from './common.js';

/** Self-hosted GPU pools: every provisioned hour is paid, busy or idle. */
export function Pools({ route, now, theme }: ViewProps) {
  const range = rangeOf(route, 'mtd');
  const window = resolveWindow(range, now);
  const report = useApi<{ pools: Pool[] }>(
    apiUrl('/api/v1/pools', { from: isoOrNull(window.from), to: isoOrNull(window.to) }),
  );
  const pools = report.data?.pools ?? [];

  const option = useMemo((): EOption | null => {
    if (pools.length === 0) return null;
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
      xAxis: { type: 'category', data: pools.map((p) => p.name), axisLabel: { color: colors.text } },
      yAxis: {
        type: 'value',
        axisLabel: { color: colors.muted, formatter: (v: number) => `$${compact(v)}` },
        splitLine: { lineStyle: { color: colors.grid } },
      },
      series: [
        {
          type: 'bar',
          name: 'Busy',
          stack: 'cost',
          barMaxWidth: 64,
          itemStyle: { color: colors.series[0] ?? colors.accent },
          data: pools.map((p) => usdNumber(p.busy_usd)),
        },
        {
          type: 'bar',
          name: 'Idle',
          stack: 'cost',
          barMaxWidth: 64,
          itemStyle: { color: colors.muted },
          data: pools.map((p) => usdNumber(p.idle_usd)),
        },
      ],
    };
  }, [report.data, theme]);

  const columns: Array<Column<Pool>> = [
    { key: 'name', label: 'Pool', value: (p) => p.name },
    { key: 'gpu', label: 'GPU', value: (p) => p.gpu ?? '' },
    {
      key: 'hours',
      label: 'GPU hours',
      value: (p) => p.gpu_hours,
      render: (p) => Number(p.gpu_hours).toLocaleString('en-US', { maximumFractionDigits: 1 }),
      numeric: true,
    },
    { key: 'cost', label: 'Cost', value: (p) => p.cost_usd, render: (p) => money(p.cost_usd), numeric: true },
    { key: 'busy', label: 'Busy', value: (p) => p.busy_usd, render: (p) => money(p.busy_usd), numeric: true },
    { key: 'idle', label: 'Idle', value: (p) => p.idle_usd, render: (p) => money(p.idle_usd), numeric: true },
    {
      key: 'util',
      label: 'Utilization',
      value: (p) => p.utilization,
      render: (p) => `${(p.utilization * 100).toFixed(1)}%`,
      numeric: true,
    },
    { key: 'tokens', label: 'Tokens', value: (p) => p.tokens, render: (p) => compact(p.tokens), numeric: true },
    {
      key: 'unit',
      label: 'Per 1M tokens',
      value: (p) => p.cost_per_mtok_usd,
      render: (p) => money(p.cost_per_mtok_usd),
      numeric: true,
    },
    {
      key: 'over',
      label: 'Over capacity',
      value: (p) => p.over_capacity,
      render: (p) => <span class={`badge ${p.over_capacity ? 'bad' : 'plain'}`}>{p.over_capacity ? 'yes' : 'no'}</span>,
    },
  ];

  return (
    <div data-testid="view-pools">
      <PageHead title="GPU pools" sub={`${window.label} · ${range.tz}`}>
        <RangePicker route={route} fallback="mtd" now={now} />
      </PageHead>
      {report.loading ? <Loading what="pools" /> : null}
      {report.error && isNotConfigured(report.error) ? (
        <NotConfigured title="Pools are not enabled on this server" />
      ) : report.error ? (
        <ErrorBox error={report.error} what="pools" />
      ) : null}
      {report.data && pools.length === 0 ? (
        <NotConfigured title="No GPU pools configured">
          Declare self-hosted capacity under <code>gpu_pools:</code> in pertoken.yaml (or{' '}
          <code>pertoken bench --save-pool</code>) to cost self-hosted models by the GPU hour, idle included.
        </NotConfigured>
      ) : null}
      {pools.length > 0 ? (
        <>
          <Panel title="Cost per pool, busy and idle" wide>
            {option ? (
              <EChart
                option={option}
                label={`Cost per pool: ${pools.map((p) => `${p.name} ${money(p.cost_usd)}, ${(p.utilization * 100).toFixed(1)}% utilized`).join('; ')}`}
                height={260}
                testid="pools-chart"
                points={pools.length}
              />
            ) : null}
          </Panel>
          <Panel title="Pools" wide>
            <DataTable
              caption="GPU pools"
              columns={columns}
              rows={pools}
              filename={`pertoken-pools-${dayString(now, range.tz)}`}
              rowKey={(p) => p.name}
              rowTestId="pool-row"
            />
          </Panel>
        </>
      ) : null}
    </div>
  );
}
