/** `pertoken reconcile` as a table (gaps' evidence as notes under their row) or CSV (one line per row). */
import { renderCsv, renderTable, type Cell } from '../../output.js';
import { appliedTotals, type ApplyResult } from './apply.js';
import type { ReconciliationJson, ReconciliationRow } from './engine.js';

const HEADERS = [
  'day',
  'provider',
  'tenant',
  'project',
  'model',
  'bucket',
  'metered_tokens',
  'billed_tokens',
  'metered_usd',
  'billed_usd',
  'delta_usd',
  'delta_pct',
  'code',
] as const;

function cells(r: ReconciliationRow): Cell[] {
  return [
    r.day,
    r.provider,
    r.tenant,
    r.project,
    r.model,
    r.bucket,
    r.metered_tokens,
    r.billed_tokens,
    r.metered_usd,
    r.billed_usd,
    r.delta_usd,
    r.delta_pct,
    r.explanation.code,
  ];
}

export function reconciliationTable(result: ReconciliationJson): string {
  const t = result.totals;
  const table = renderTable(HEADERS, result.rows.map(cells), {
    notes: result.rows.map((r) => (r.explanation.code === 'match' ? undefined : [r.explanation.detail])),
  });
  const codes = Object.entries(t.codes)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  const lines = [
    `reconciliation ${result.from} .. ${result.to} (threshold ${result.threshold_pct} %): ${result.status}`,
    `metered $${t.metered_usd}, billed $${t.billed_usd}, delta $${t.delta_usd}${t.delta_pct === null ? '' : ` (${t.delta_pct} %)`}`,
    `${t.rows} rows, ${t.gaps} gaps, ${t.unexplained} unexplained${codes ? ` — ${codes}` : ''}`,
    ...t.not_imported.map((p) => `not compared (no bill imported): ${p.provider} ${p.days.join(', ')}`),
  ];
  return `${table}\n${lines.join('\n')}\n`;
}

export function reconciliationCsv(result: ReconciliationJson): string {
  return renderCsv(
    [...HEADERS, 'detail'],
    result.rows.map((r) => [...cells(r), r.explanation.detail]),
  );
}

/** `--apply`: one line per adjustment appended, then the count, total and per-code sums. */
export function appliedTable(result: ApplyResult): string {
  const t = appliedTotals(result);
  const table = renderTable(
    ['id', 'tenant', 'project', 'code', 'amount_usd'],
    result.applied.map((a) => [a.id, a.tenant, a.project, a.code, a.amount_usd]),
  );
  const codes = Object.entries(t.codes)
    .map(([code, s]) => `${code} ${s.count} ($${s.usd})`)
    .join(', ');
  return (
    `${result.applied.length > 0 ? `${table}\n` : ''}` +
    `applied ${t.count} adjustment(s), total $${t.total_usd}${codes ? ` — ${codes}` : ''}; ${result.skipped} row(s) left as they are\n`
  );
}
