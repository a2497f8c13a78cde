import { useEffect, useRef } from 'preact/hooks';
import type { BarSeriesOption } from 'echarts/charts';
import type {
  AriaComponentOption,
  GridComponentOption,
  LegendComponentOption,
  TooltipComponentOption,
} from 'echarts/components';
import type { ComposeOption, ECElementEvent, EChartsType } from 'echarts/core';

/** Only the ECharts parts the dashboard draws with (echarts-core.ts registers the same). */
export type EOption = ComposeOption<
  BarSeriesOption | GridComponentOption | TooltipComponentOption | LegendComponentOption | AriaComponentOption
>;

/**
 * An ECharts canvas. `onSelect` receives the clicked item's name (a bar's category): charts are
 * a shortcut to the drilldown links in the table beside them, which keyboards and readers use.
 */
export function EChart({
  option,
  label,
  height = 260,
  onSelect,
  testid,
  points,
}: {
  option: EOption;
  label: string;
  height?: number;
  onSelect?: (name: string) => void;
  testid?: string;
  points?: number;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);
  const select = useRef(onSelect);
  select.current = onSelect;
  const latest = useRef({ option, label });
  latest.current = { option, label };

  useEffect(() => {
    const node = el.current;
    if (node === null) return;
    let disposed = false;
    let observer: ResizeObserver | null = null;
    void import('./echarts-core.js').then(({ init }) => {
      if (disposed) return;
      const instance = init(node, null, { renderer: 'canvas' });
      chart.current = instance;
      instance.on('click', (params: ECElementEvent) => {
        if (typeof params.name === 'string' && params.name !== '') select.current?.(params.name);
      });
      observer = new ResizeObserver(() => instance.resize());
      observer.observe(node);
      apply(instance, latest.current.option, latest.current.label);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    if (chart.current) apply(chart.current, option, label);
  }, [option, label]);

  return (
    <div
      class={`chart${onSelect ? ' clickable' : ''}`}
      ref={el}
      role="img"
      aria-label={label}
      data-testid={testid}
      data-points={points}
      style={{ height: `${height}px` }}
    />
  );
}

function apply(chart: EChartsType, option: EOption, label: string): void {
  // Tooltips are drawn on the canvas (richText): ECharts' HTML tooltips carry style attributes,
  // which the dashboard's Content-Security-Policy refuses.
  const tooltip =
    option.tooltip && !Array.isArray(option.tooltip)
      ? { ...option.tooltip, renderMode: 'richText' as const }
      : undefined;
  chart.setOption(
    { aria: { enabled: true, label: { description: label } }, ...option, ...(tooltip ? { tooltip } : {}) },
    true,
  );
}
