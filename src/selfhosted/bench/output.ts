/** `pertoken bench` output: JSON as in DESIGN §3, CSV and a table with p50/p90/p99 columns. */
import { renderCsv, renderJson, renderTable, type Cell, type OutputFormat } from '../../output.js';
import type { BenchPoint, BenchReport } from './runner.js';
import type { Percentiles } from './stats.js';

const LATENCIES = ['ttft_ms', 'itl_ms', 'tpot_ms', 'e2e_ms'] as const;
const TAIL = [
  'output_tokens_per_s',
  'goodput_rps',
  'usd_per_mtok_output',
  'requests_per_s',
  'input_tokens_per_s',
  'failed',
] as const;

function levelKey(report: BenchReport): 'concurrency' | 'rate' {
  return report.points.some((p) => p.rate !== undefined) ? 'rate' : 'concurrency';
}

export function benchColumns(report: BenchReport): string[] {
  const key = levelKey(report);
  const latency = LATENCIES.flatMap((l) => {
    const base = l.slice(0, -3);
    return [`${base}_p50_ms`, `${base}_p90_ms`, `${base}_p99_ms`];
  });
  return [key, 'requests', ...latency, ...TAIL];
}

function rowOf(report: BenchReport, p: BenchPoint): Cell[] {
  const key = levelKey(report);
  const lat = (q: Percentiles): Cell[] => [q.p50, q.p90, q.p99];
  return [
    (key === 'rate' ? p.rate : p.concurrency) ?? null,
    p.requests,
    ...LATENCIES.flatMap((l) => lat(p[l])),
    ...TAIL.map((t) => p[t]),
  ];
}

export function renderBench(report: BenchReport, format: OutputFormat): string {
  if (format === 'json') return renderJson(report);
  const columns = benchColumns(report);
  const rows = report.points.map((p) => rowOf(report, p));
  return format === 'csv' ? renderCsv(columns, rows) : renderTable(columns, rows);
}
