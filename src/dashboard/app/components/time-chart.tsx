import { useEffect, useRef } from 'preact/hooks';
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { palette } from '../lib/theme.js';
import { DAY_MS as DAY, formatTime, wallClock } from '../lib/time.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function dayLabel(ms: number, tz: string): string {
  const w = wallClock(ms, tz);
  return `${MONTHS[w.month - 1] ?? ''} ${w.day}`;
}

export interface TimeSeries {
  label: string;
  values: Array<number | null>;
}

/**
 * A dense time series (uPlot: thousands of points stay fast). Times are ms; the axis shows them in
 * `tz`. `markers` draws a vertical line at each instant (alerts on the on-call series).
 */
export function TimeChart({
  xs,
  series,
  label,
  tz,
  kind = 'line',
  format,
  markers = [],
  height = 240,
  testid,
  theme,
  unit = 'hour',
  extent,
}: {
  unit?: 'day' | 'hour';
  /** The x extent to show (ms), e.g. the whole range even where it has no data. */
  extent?: [number, number];
  xs: number[];
  series: TimeSeries[];
  label: string;
  tz: string;
  kind?: 'line' | 'bars';
  format: (v: number) => string;
  markers?: number[];
  height?: number;
  testid?: string;
  /** Redraws with the theme's colours when it changes. */
  theme: string;
}) {
  const el = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const node = el.current;
    if (node === null) return;
    const colors = palette();
    const axis = {
      stroke: colors.muted,
      grid: { stroke: colors.grid, width: 1 },
      ticks: { stroke: colors.grid, width: 1 },
    };
    const opts: Options = {
      width: Math.max(280, node.clientWidth),
      height,
      ms: 1,
      tzDate: (ts: number) => uPlot.tzDate(new Date(ts), tz),
      scales: {
        x: { time: true, ...(extent ? { range: (): [number, number] => extent } : {}) },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        unit === 'day'
          ? {
              ...axis,
              // Whole days only: hour ticks between daily points would suggest data that is not there.
              incrs: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY],
              values: (_u: uPlot, splits: number[]) => splits.map((v) => dayLabel(v, tz)),
            }
          : axis,
        { ...axis, size: 72, values: (_u: uPlot, splits: number[]) => splits.map((v) => format(v)) },
      ],
      series: [
        {
          label: unit === 'day' ? 'Day' : 'Hour',
          value: (_u: uPlot, v: number | null) =>
            v === null ? '—' : formatTime(v, tz).slice(0, unit === 'day' ? 10 : 16),
        },
        ...series.map((s, i) => {
          const color = colors.series[i % colors.series.length] ?? colors.accent;
          return {
            label: s.label,
            stroke: color,
            width: kind === 'bars' ? 1 : 2,
            ...(kind === 'bars' ? { fill: `${color}cc`, paths: uPlot.paths.bars?.({ size: [0.7, 48] }) } : {}),
            points: { show: kind === 'line' && xs.length < 40 },
            spanGaps: false,
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)),
          };
        }),
      ],
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        draw: [
          (u: uPlot) => {
            if (markers.length === 0) return;
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = colors.danger;
            ctx.fillStyle = colors.danger;
            ctx.lineWidth = 2 * devicePixelRatio;
            ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
            const top = u.bbox.top;
            const bottom = u.bbox.top + u.bbox.height;
            for (const at of markers) {
              const x = Math.round(u.valToPos(at, 'x', true));
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, bottom);
              ctx.stroke();
              ctx.beginPath();
              ctx.moveTo(x - 6 * devicePixelRatio, top);
              ctx.lineTo(x + 6 * devicePixelRatio, top);
              ctx.lineTo(x, top + 9 * devicePixelRatio);
              ctx.fill();
            }
            ctx.restore();
          },
        ],
      },
    };
    const data: AlignedData = [xs, ...series.map((s) => s.values)];
    const plot = new uPlot(opts, data, node);
    const observer = new ResizeObserver(() => {
      const width = Math.max(280, node.clientWidth);
      if (Math.abs(width - plot.width) > 2) plot.setSize({ width, height });
    });
    observer.observe(node);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [xs, series, tz, kind, markers, height, theme, format, unit, extent?.[0], extent?.[1]]);

  return (
    <div
      class="time-chart"
      ref={el}
      role="figure"
      aria-label={label}
      data-testid={testid}
      data-points={xs.length}
      data-series={series.length}
    />
  );
}
