/**
 * @module
 * A chargeback statement as one self-contained HTML file that prints to a clean PDF: inline CSS,
 * no script, no external font or image (a Content-Security-Policy says so to the browser too),
 * A4 pages, a summary page, then one page per tenant so that a tenant's page can be sent to it
 * alone. Table headers repeat on a continued page and no row is split. Every name is escaped:
 * tenant, project and model names come from callers.
 *
 * Amounts: dollars to the cent where people compare (summary, key figures), each with its exact
 * 9-decimal value in a `title`; the exact values are printed too (inputs, key figures, lines),
 * because a tooltip does not survive printing.
 */
import { formatUsd, parseUsd } from '../money.js';
import type { ChargebackJson, StatementLineJson, TenantStatementJson } from './statement.js';
import { count, dollars, identityOf, type Identity } from './statement-render.js';

export interface HtmlOptions {
  /** When the statement was generated (shown in its header); default: now. */
  generatedAt?: Date;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** "2026-10" -> "October 2026"; a statement without a period shows its window. */
function periodTitle(statement: ChargebackJson): string {
  const m = /^(\d{4})-(\d{2})$/.exec(statement.period ?? '');
  return m ? `${MONTHS[Number(m[2]) - 1] ?? m[2]} ${m[1]}` : `${utc(statement.from)} – ${utc(statement.to)}`;
}

/** An ISO instant as "2026-10-01 00:00 UTC". */
function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** A money cell: dollars to the cent, the exact amount in its title. */
function usdCell(usd: string | null, tag: 'td' | 'th' = 'td'): string {
  if (usd === null) return `<${tag} class="num">–</${tag}>`;
  const negative = usd.startsWith('-') ? ' neg' : '';
  return `<${tag} class="num${negative}" title="${usd} USD">${dollars(usd)}</${tag}>`;
}

/** A money cell with the exact 9-decimal amount. */
function exactCell(usd: string | null): string {
  if (usd === null) return '<td class="num exact">–</td>';
  return `<td class="num exact${usd.startsWith('-') ? ' neg' : ''}">${usd}</td>`;
}

const sum = (...usd: string[]): string => formatUsd(usd.reduce((s, u) => s + parseUsd(u), 0n));

const CSS = `
@page { size: A4; margin: 15mm 14mm 16mm; }
* { box-sizing: border-box; }
html { font: 9pt/1.4 "Helvetica Neue", Helvetica, Arial, "Liberation Sans", sans-serif; color: #1d2430;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; }
@media screen { body { max-width: 200mm; margin: 0 auto; padding: 10mm 8mm; }
  section.tenant { border-top: 1px dashed #b8bfca; margin-top: 12mm; padding-top: 8mm; } }
h1, h2, h3 { margin: 0; font-weight: 600; break-after: avoid; }
h1 { font-size: 18pt; margin-bottom: 1mm; }
h2 { font-size: 13pt; margin: 6mm 0 2mm; }
section.tenant h2 { font-size: 16pt; margin-top: 0; overflow-wrap: anywhere; }
h3 { font-size: 10pt; margin: 5mm 0 1.5mm; }
.brand { font-size: 8pt; letter-spacing: .08em; text-transform: uppercase; color: #5b6575; margin-bottom: 2mm; }
.sub { color: #5b6575; margin: 0 0 3mm; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: .6mm 5mm; margin: 3mm 0; }
dl.meta dt { color: #5b6575; }
dl.meta dd { margin: 0; }
.identity { border: 1px solid #c9d3e0; background: #f3f6fa; border-radius: 1.5mm; padding: 2.5mm 3.5mm;
  margin: 4mm 0; font-variant-numeric: tabular-nums; break-inside: avoid; }
.identity strong { font-weight: 600; }
.identity .ok { color: #1d6b3a; }
.identity .bad { color: #a3261c; font-weight: 600; }
section.tenant { break-before: page; }
section.tenant.first { break-before: auto; }
table { width: 100%; border-collapse: collapse; margin: 0 0 3mm; }
thead { display: table-header-group; }
tr, th, td { break-inside: avoid; page-break-inside: avoid; }
th, td { padding: 1.2mm 1.6mm; text-align: left; vertical-align: top; border-bottom: .25mm solid #dde2e9; }
thead tr.caption th { background: none; color: #1d2430; font-size: 10pt; border-bottom: none; padding: 4mm 0 1.5mm; }
thead th { font-weight: 600; font-size: 8pt; color: #3a4556; background: #eef1f5; border-bottom: .4mm solid #3a4556; }
td.text { overflow-wrap: anywhere; }
td.nowrap { white-space: nowrap; }
td.tenant { min-width: 24mm; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.neg { color: #a3261c; }
.exact { font-size: 8pt; color: #3a4556; }
tbody.totals td, tbody.totals th { font-weight: 600; border-bottom: none; }
tbody.totals tr:first-child td, tbody.totals tr:first-child th { border-top: .4mm solid #3a4556; }
tbody.totals th { text-align: left; white-space: nowrap; }
tbody.part th, tbody.part td { font-weight: normal; color: #3a4556; border-bottom: none; }
tbody.part th { padding-left: 5mm; }
table.summary { font-size: 8pt; }
table.figures { width: auto; min-width: 110mm; }
table.figures tr.cost td, table.figures tr.cost th, table.figures tr.charge td, table.figures tr.charge th {
  font-weight: 600; border-top: .4mm solid #3a4556; }
table.lines { font-size: 7.5pt; }
table.lines th, table.lines td { padding: 1.1mm 1.1mm; }
table.lines .exact { font-size: 7.5pt; }
table.lines td.text { min-width: 15mm; }
table.lines td.model { min-width: 24mm; }
.note { color: #5b6575; font-size: 8pt; margin: 1mm 0 3mm; }
`;

/** The statement as one self-contained HTML document. */
export function statementHtml(statement: ChargebackJson, options: HtmlOptions = {}): string {
  const generatedAt = options.generatedAt ?? new Date();
  const identity = identityOf(statement);
  const title = `Chargeback statement ${statement.period ?? utc(statement.from)}`;
  const sections = statement.tenants.map((t, i) => tenantSection(statement, t, identity === null && i === 0));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="generator" content="pertoken">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
${header(statement, identity, generatedAt)}
${identity === null ? '' : summarySection(statement, identity)}
${sections.join('\n')}
</body>
</html>
`;
}

function header(statement: ChargebackJson, identity: Identity | null, generatedAt: Date): string {
  const scope =
    identity === null
      ? `<dt>Tenant</dt><dd>${escapeHtml(statement.tenants.map((t) => t.tenant).join(', ') || '—')}</dd>`
      : `<dt>Tenants</dt><dd>${statement.tenants.length}</dd>`;
  return `<header>
<div class="brand">pertoken · chargeback statement</div>
<h1>${escapeHtml(periodTitle(statement))}</h1>
<dl class="meta">
<dt>Period</dt><dd>${utc(statement.from)} to ${utc(statement.to)} (end exclusive)</dd>
<dt>Generated</dt><dd>${utc(generatedAt.toISOString())}</dd>
<dt>Currency</dt><dd>${escapeHtml(statement.currency)}</dd>
${scope}
</dl>
${identity === null ? '' : identityBox(identity)}
</header>`;
}

function identityBox(i: Identity): string {
  const amount = (usd: string): string => `<strong title="${usd} USD">${dollars(usd)}</strong>`;
  const verdict = i.holds
    ? '<span class="ok">✓ holds to the nano-dollar</span>'
    : '<span class="bad">✗ does not hold: the statement is inconsistent</span>';
  return `<p class="identity">Σ tenants ${amount(i.tenants_usd)} + unallocated ${amount(i.unallocated_usd)}
= vendor ${amount(i.vendor_usd)} + GPU pools ${amount(i.pools_usd)} + shared ${amount(i.shared_usd)}
= ${amount(i.total_usd)} &nbsp;${verdict}</p>`;
}

const SUMMARY_COLUMNS = [
  'Tenant',
  'Vendor',
  'Self-hosted',
  'Idle',
  'Shared',
  'Adjustments',
  'Cost',
  'Charge',
  'Margin',
  'Tokens',
  '$ / 1M',
];

function summarySection(statement: ChargebackJson, identity: Identity): string {
  const head = SUMMARY_COLUMNS.map((c, i) => `<th${i === 0 ? '' : ' class="num"'}>${c}</th>`).join('');
  const rows = statement.tenants.map((t) => summaryRow(`<td class="text tenant">${escapeHtml(t.tenant)}</td>`, t));
  const { totals, unallocated } = statement;
  const unallocatedIdle = unallocated?.idle_usd ?? '0';
  const unallocatedShared = unallocated?.shared_usd ?? '0';
  const totalRows = [
    summaryRow('<th>Total, tenants</th>', totals),
    `<tr><th>Unallocated</th>${usdCell(null)}${usdCell(null)}${usdCell(unallocatedIdle)}${usdCell(unallocatedShared)}` +
      `${usdCell(null)}${usdCell(identity.unallocated_usd)}${usdCell(null)}${usdCell(null)}<td></td><td></td></tr>`,
    `<tr><th>Full cost</th>${usdCell(totals.vendor_usd)}${usdCell(totals.selfhosted_usd)}` +
      `${usdCell(sum(totals.idle_usd, unallocatedIdle))}${usdCell(sum(totals.shared_usd, unallocatedShared))}` +
      `${usdCell(totals.adjustments_usd)}${usdCell(identity.total_usd)}${usdCell(null)}${usdCell(null)}<td></td><td></td></tr>`,
  ];
  return `<section class="summary">
<h2>Summary</h2>
<table class="summary">
<thead><tr>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
<tbody class="totals">
${totalRows.join('\n')}
</tbody>
</table>
<p class="note">Cost is full cost: vendor spend, self-hosted GPU time actually used, the idle GPU time a tenant carries,
its share of shared costs, and adjustments. Charge is what its plan bills (at cost without a plan); margin = charge − cost.
Amounts are rounded to the cent here; hover for the exact amount, or see each tenant's page.</p>
<h2>Inputs</h2>
<table class="figures">
<thead><tr><th>Cost source</th><th class="num">USD</th><th class="num">Exact USD</th></tr></thead>
<tbody>
${figureRow('Vendor spend (net of adjustments)', identity.vendor_usd)}
${figureRow('GPU pools (busy and idle)', identity.pools_usd)}
${figureRow('Shared costs', identity.shared_usd)}
</tbody>
<tbody class="totals">
${figureRow('Total', identity.total_usd)}
</tbody>
<tbody class="part">
${figureRow('carried by tenants', identity.tenants_usd)}
${figureRow('unallocated: idle and shared cost no tenant carries', identity.unallocated_usd)}
</tbody>
</table>
</section>`;
}

function summaryRow(label: string, t: TenantStatementJson | ChargebackJson['totals']): string {
  return (
    `<tr>${label}${usdCell(t.vendor_usd)}${usdCell(t.selfhosted_usd)}${usdCell(t.idle_usd)}${usdCell(t.shared_usd)}` +
    `${usdCell(t.adjustments_usd)}${usdCell(t.cost_usd)}${usdCell(t.charge_usd)}${usdCell(t.margin_usd)}` +
    `<td class="num">${count(t.tokens)}</td>${usdCell(t.cost_per_mtok_usd)}</tr>`
  );
}

function figureRow(label: string, usd: string, className = ''): string {
  return `<tr${className ? ` class="${className}"` : ''}><th>${label}</th>${usdCell(usd)}${exactCell(usd)}</tr>`;
}

function tenantSection(statement: ChargebackJson, t: TenantStatementJson, first: boolean): string {
  const basis = t.basis === 'plan' ? 'Plan' : 'Showback (charged at cost)';
  const perMtok = t.cost_per_mtok_usd === null ? '' : ` · ${dollars(t.cost_per_mtok_usd)} per 1M tokens`;
  return `<section class="tenant${first ? ' first' : ''}">
${first ? '' : '<div class="brand">pertoken · chargeback statement</div>\n'}<h2>${escapeHtml(t.tenant)}</h2>
<p class="sub">${escapeHtml(periodTitle(statement))} · ${basis} · ${count(t.tokens)} tokens${perMtok}</p>
<table class="figures">
<thead><tr><th>Item</th><th class="num">USD</th><th class="num">Exact USD</th></tr></thead>
<tbody>
${figureRow('Vendor', t.vendor_usd)}
${figureRow('Self-hosted (GPU time used)', t.selfhosted_usd)}
${figureRow('GPU idle', t.idle_usd)}
${figureRow('Shared costs', t.shared_usd)}
${figureRow('Adjustments', t.adjustments_usd)}
${figureRow('Cost', t.cost_usd, 'cost')}
${figureRow('Charge', t.charge_usd, 'charge')}
${figureRow('Margin', t.margin_usd)}
</tbody>
</table>
${linesTable(t, periodTitle(statement))}
</section>`;
}

const KIND_LABEL: Record<StatementLineJson['kind'], string> = {
  vendor: 'Vendor',
  selfhosted: 'Self-hosted',
  adjustment: 'Adjustment',
  idle: 'GPU idle',
  shared: 'Shared',
  minimum: 'Plan minimum',
};

/** Placeholder names of non-usage lines (`__shared__`, `__idle__`, `__plan__`) show as a dash. */
function name(value: string | null): string {
  return value === null || /^__\w+__$/.test(value) ? '–' : escapeHtml(value);
}

/** A tenant's lines; the table's first header row names the tenant, so a continued page says whose it is. */
function linesTable(t: TenantStatementJson, period: string): string {
  if (t.lines.length === 0) return '<p class="note">No lines.</p>';
  const included = t.lines.some((l) => parseUsd(l.included_usd) !== 0n);
  const list = t.lines.some((l) => l.list_cost_usd !== undefined);
  const head =
    '<th>Kind</th><th>Project</th><th>Provider / pool</th><th>Model / item</th><th>Bucket</th>' +
    '<th class="num">Tokens</th><th class="num">Cost USD</th><th class="num">Charge USD</th>' +
    (included ? '<th class="num">Included USD</th>' : '') +
    (list ? '<th class="num">List USD</th>' : '');
  const rows = t.lines.map((l) => {
    const model = l.kind === 'minimum' ? 'minimum charge' : name(l.model);
    return (
      `<tr><td class="nowrap">${KIND_LABEL[l.kind] ?? escapeHtml(l.kind)}</td><td class="text">${name(l.project)}</td>` +
      `<td class="text">${name(l.provider)}</td><td class="text model">${model}</td><td class="nowrap">${name(l.bucket)}</td>` +
      `<td class="num">${l.tokens === 0 ? '' : count(l.tokens)}</td>${exactCell(l.cost_usd)}${exactCell(l.charge_usd)}` +
      (included ? exactCell(l.included_usd) : '') +
      (list ? exactCell(l.list_cost_usd ?? null) : '') +
      '</tr>'
    );
  });
  const extra = (included ? '<td></td>' : '') + (list ? '<td></td>' : '');
  const columns = 8 + (included ? 1 : 0) + (list ? 1 : 0);
  return `<table class="lines">
<thead>
<tr class="caption"><th colspan="${columns}">Lines · ${escapeHtml(t.tenant)} · ${escapeHtml(period)}</th></tr>
<tr>${head}</tr>
</thead>
<tbody>
${rows.join('\n')}
</tbody>
<tbody class="totals">
<tr><th colspan="5">Total</th><td class="num">${count(t.tokens)}</td>${exactCell(t.cost_usd)}${exactCell(t.charge_usd)}${extra}</tr>
</tbody>
</table>
${list ? '<p class="note">Self-hosted lines cost the GPU time they used; List USD is what their events’ own per-token prices said.</p>' : ''}`;
}
