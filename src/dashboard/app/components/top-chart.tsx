import { useMemo } from 'preact/hooks';
import { label as show, money, nanoOf } from '../lib/format.js';
import { palette } from '../lib/theme.js';
import type { CostRow } from '../lib/types.js';
import { EChart, type EOption } from './echart.js';

export interface Share {
  name: string;
  /** null for "other" and "(none)": nothing to drill into. */
  value: string | null;
  costNano: bigint;
  share: number;
}

/** Rows ranked by cost, the tail folded into "other" so the top-N and the rest add up to the total. */
export function topShares(rows: CostRow[], key: string, n = 8): Share[] {
  const ranked = rows
    .map((r) => ({ value: (r[key] ?? null) as string | null, costNano: nanoOf(r.cost_usd) }))
    .sort((a, b) => (b.costNano > a.costNano ? 1 : b.costNano < a.costNano ? -1 : 0));
  const total = ranked.reduce((s, r) => s + r.costNano, 0n);
  const head = ranked.length > n ? ranked.slice(0, n - 1) : ranked;
  const tail = ranked.length > n ? ranked.slice(n - 1) : [];
  const shares: Share[] = head.map((r) => ({
    name: show(r.value),
    value: r.value,
    costNano: r.costNano,
    share: total > 0n ? Number((r.costNano * 10_000n) / total) / 10_000 : 0,
  }));
  if (tail.length > 0) {
    const rest = tail.reduce((s, r) => s + r.costNano, 0n);
    shares.push({
      name: `other (${tail.length})`,
      value: null,
      costNano: rest,
      share: total > 0n ? Number((rest * 10_000n) / total) / 10_000 : 0,
    });
  }
  return shares;
}

/** Horizontal bars of the top-N with their share of the total; a click drills into the bar's value. */
export function TopChart({
  shares,
  title,
  theme,
  onSelect,
  testid,
}: {
  shares: Share[];
  title: string;
  theme: string;
  onSelect?: (value: string) => void;
  testid?: string;
}) {
  const option = useMemo((): EOption => {
    const colors = palette();
    const ordered = [...shares].reverse();
    return {
      grid: { left: 8, right: 64, top: 8, bottom: 8, containLabel: true },
      tooltip: {
        trigger: 'item',
        backgroundColor: colors.surface,
        borderColor: colors.grid,
        textStyle: { color: colors.text },
        formatter: (p: unknown) => {
          const item = ordered[(p as { dataIndex: number }).dataIndex];
          return item ? `${item.name}\n${money(item.costNano)} · ${(item.share * 100).toFixed(1)}%` : '';
        },
      },
      xAxis: { type: 'value', show: false },
      yAxis: {
        type: 'category',
        data: ordered.map((s) => s.name),
        axisLabel: { color: colors.text, width: 130, overflow: 'truncate' },
        axisLine: { lineStyle: { color: colors.grid } },
        axisTick: { show: false },
      },
      series: [
        {
          type: 'bar',
          data: ordered.map((s, i) => ({
            value: Number(s.costNano) / 1e9,
            itemStyle: {
              color:
                s.value === null
                  ? colors.muted
                  : (colors.series[(ordered.length - 1 - i) % colors.series.length] ?? colors.accent),
              borderRadius: [0, 4, 4, 0],
            },
          })),
          barMaxWidth: 22,
          label: {
            show: true,
            position: 'right',
            color: colors.muted,
            formatter: (p: unknown) => {
              const item = ordered[(p as { dataIndex: number }).dataIndex];
              return item ? `${(item.share * 100).toFixed(1)}%` : '';
            },
          },
        },
      ],
    };
    // The palette is read from CSS, so a theme change (a dependency) redraws.
  }, [shares, theme]);
  const pick = onSelect
    ? (name: string): void => {
        const hit = shares.find((s) => s.name === name);
        if (hit && hit.value !== null) onSelect(hit.value);
      }
    : undefined;
  const height = Math.max(120, shares.length * 30 + 24);
  return (
    <EChart
      option={option}
      label={`${title}: ${shares.map((s) => `${s.name} ${money(s.costNano)} (${(s.share * 100).toFixed(1)}%)`).join('; ')}`}
      height={height}
      testid={testid}
      points={shares.length}
      {...(pick ? { onSelect: pick } : {})}
    />
  );
}
