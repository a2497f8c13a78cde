/** `pertoken estimate` output: JSON as in DESIGN §3, CSV (one row per point), or a table. */
import { renderCsv, renderJson, renderTable, type Cell, type OutputFormat } from '../output.js';
import type { CalibrationSummary } from './calibration.js';
import type { EstimatePoint, EstimateReport } from './types.js';

export const POINT_FIELDS = [
  'concurrency',
  'ttft_ms',
  'tpot_ms',
  'e2e_ms',
  'output_tokens_per_s',
  'output_tokens_per_s_per_gpu',
  'usd_per_mtok_input',
  'usd_per_mtok_output',
  'mbu',
  'mfu',
  'fits_memory',
  'bound',
] as const;

function fieldsOf(report: EstimateReport): string[] {
  const blended = report.points.some((p) => p.usd_per_mtok_blended !== undefined);
  return blended ? [...POINT_FIELDS, 'usd_per_mtok_blended'] : [...POINT_FIELDS];
}

function cells(point: EstimatePoint, fields: string[]): Cell[] {
  const record = point as unknown as Record<string, Cell | undefined>;
  return fields.map((f) => record[f] ?? null);
}

export function renderEstimate(report: EstimateReport, format: OutputFormat): string {
  if (format === 'json') return renderJson(report);
  const fields = fieldsOf(report);
  const best = report.max_throughput;
  if (format === 'csv') {
    const rows = report.points.map((p) => [...cells(p, fields), best !== null && p.concurrency === best.concurrency]);
    return renderCsv([...fields, 'max_throughput'], rows);
  }
  const head =
    `${report.model} on ${report.gpus} x ${report.gpu} (tp ${report.tp}), ${report.precision} weights, ${report.kv_precision} KV, ` +
    `${report.input_tokens} in / ${report.output_tokens} out; weights ${report.weights_gb} GB, ` +
    `KV ${report.kv_bytes_per_token} B/token, fits ${report.max_concurrency_memory} concurrent requests` +
    (report.max_concurrency_slo === null ? '' : ` (${report.max_concurrency_slo} within the SLO)`) +
    '\n';
  const rows = report.points.map((p) => cells(p, fields));
  const tail =
    best === null
      ? 'no point fits memory (and the SLO)\n'
      : `max throughput: ${best.output_tokens_per_s} output tokens/s at concurrency ${best.concurrency}` +
        (best.usd_per_mtok_output === null ? '' : `, $${best.usd_per_mtok_output} per 1M output tokens`) +
        '\n';
  return head + renderTable(fields, rows) + tail;
}

/** The estimator's error on every published measurement (`pertoken estimate --calibration`). */
export function renderCalibration(summary: CalibrationSummary, format: OutputFormat): string {
  const rows = summary.results.map((r) => ({
    id: r.point.id,
    metric: r.point.metric,
    published: r.point.value,
    predicted: Math.round(r.predicted * 100) / 100,
    error_pct: Math.round(r.error * 1000) / 10,
    source: r.point.sources[0] ?? '',
  }));
  const totals = {
    points: summary.count,
    within: summary.within,
    tolerance_pct: summary.tolerance * 100,
    share_within: Math.round(summary.share * 1000) / 1000,
    median_abs_error_pct: Math.round(summary.medianAbsError * 1000) / 10,
  };
  if (format === 'json') return renderJson({ ...totals, points_detail: rows });
  const headers = ['id', 'metric', 'published', 'predicted', 'error_pct', 'source'];
  const cellsOf = rows.map((r) => headers.map((h) => r[h as keyof typeof r]));
  if (format === 'csv') return renderCsv(headers, cellsOf);
  return (
    renderTable(
      headers.slice(0, 5),
      cellsOf.map((r) => r.slice(0, 5)),
    ) +
    `${totals.within} of ${totals.points} published points within ±${totals.tolerance_pct}% ` +
    `(${(totals.share_within * 100).toFixed(1)}%), median |error| ${totals.median_abs_error_pct}%\n`
  );
}
