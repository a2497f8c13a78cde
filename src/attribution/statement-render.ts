/**
 * @module
 * A chargeback statement (statement.ts's ChargebackJson) as people read it: a plain-text table and
 * RFC 4180 CSV (through src/output.ts, like every command), plus what the HTML statement
 * (statement-html.ts) shares with them — dollars to the cent, and the identity line. The JSON is
 * never re-computed here: totals and the identity are sums of its own 9-decimal strings, in bigint.
 */
import { divRoundHalfEven, formatUsd, NANO_PER_CENT, parseUsd } from '../money.js';
import { renderCsv, renderTable, type Cell } from '../output.js';
import type { ChargebackJson, MoneyFields, StatementLineJson, TenantStatementJson } from './statement.js';

/** "1234.567890123" -> "$1,234.57": rounded half-even to the cent, once, for display only. */
export function dollars(usd: string): string {
  const cents = divRoundHalfEven(parseUsd(usd), NANO_PER_CENT);
  const negative = cents < 0n;
  const abs = (negative ? -cents : cents).toString().padStart(3, '0');
  const whole = abs.slice(0, -2).replace(/\B(?=(\d{3})+$)/g, ',');
  return `${negative ? '-' : ''}$${whole}.${abs.slice(-2)}`;
}

/** Whole tokens with thousands separators: 1234567 -> "1,234,567". */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}

/**
 * Both sides of the identity a statement proves, as 9-decimal strings:
 * Σ tenants' cost_usd + unallocated (idle + shared) = vendor + pools + shared = total.
 * null for a statement narrowed to one tenant: it shows neither the unallocated nor the inputs.
 */
export interface Identity {
  tenants_usd: string;
  unallocated_usd: string;
  vendor_usd: string;
  pools_usd: string;
  shared_usd: string;
  total_usd: string;
  /** The left side equals the total, to the nano-USD. */
  holds: boolean;
}

export function identityOf(statement: ChargebackJson): Identity | null {
  const { unallocated, inputs } = statement;
  if (unallocated === null || inputs === null) return null;
  const tenants = statement.tenants.reduce((sum, t) => sum + parseUsd(t.cost_usd), 0n);
  const left = parseUsd(unallocated.idle_usd) + parseUsd(unallocated.shared_usd);
  return {
    tenants_usd: formatUsd(tenants),
    unallocated_usd: formatUsd(left),
    vendor_usd: inputs.vendor_usd,
    pools_usd: inputs.pools_usd,
    shared_usd: inputs.shared_usd,
    total_usd: inputs.total_usd,
    holds: tenants + left === parseUsd(inputs.total_usd),
  };
}

/** The identity as one line of text, with the exact amounts. */
export function identityText(identity: Identity): string {
  const i = identity;
  return (
    `tenants ${i.tenants_usd} + unallocated ${i.unallocated_usd} = vendor ${i.vendor_usd} + pools ` +
    `${i.pools_usd} + shared ${i.shared_usd} = ${i.total_usd}${i.holds ? '' : '  (DOES NOT HOLD)'}`
  );
}

/** The statement's period as a title: "2026-10", or its window when it has none. */
export function periodLabel(statement: ChargebackJson): string {
  return statement.period ?? `${statement.from} .. ${statement.to}`;
}

const SUMMARY_HEADERS = [
  'tenant',
  'vendor',
  'selfhosted',
  'idle',
  'shared',
  'adjustments',
  'cost',
  'charge',
  'margin',
  'tokens',
  'usd_per_1m',
];

function summaryCells(label: string, m: MoneyFields): Cell[] {
  return [
    label,
    m.vendor_usd,
    m.selfhosted_usd,
    m.idle_usd,
    m.shared_usd,
    m.adjustments_usd,
    m.cost_usd,
    m.charge_usd,
    m.margin_usd,
    m.tokens,
    m.cost_per_mtok_usd,
  ];
}

const LINE_HEADERS = ['kind', 'project', 'provider', 'model', 'bucket', 'tokens', 'cost', 'charge', 'included', 'list'];

function lineCells(line: StatementLineJson): Cell[] {
  return [
    line.kind,
    line.project,
    line.provider,
    line.model,
    line.bucket,
    line.tokens,
    line.cost_usd,
    line.charge_usd,
    line.included_usd,
    line.list_cost_usd ?? null,
  ];
}

export interface TableOptions {
  /** Each tenant's lines under the summary; default: the summary only. */
  lines?: boolean;
}

/**
 * One summary table (a row per tenant, the tenants' TOTAL, then what no tenant carries), the
 * identity under it, and with `lines` a table of each tenant's lines. Exact 9-decimal amounts,
 * as `pertoken report` prints them: the table is for reading, not for rounding.
 */
export function statementTable(statement: ChargebackJson, options: TableOptions = {}): string {
  const rows: Cell[][] = statement.tenants.map((t) => summaryCells(t.tenant, t));
  rows.push(summaryCells('TOTAL', statement.totals));
  const { unallocated } = statement;
  if (unallocated !== null) {
    const cost = formatUsd(parseUsd(unallocated.idle_usd) + parseUsd(unallocated.shared_usd));
    rows.push(['(unallocated)', null, null, unallocated.idle_usd, unallocated.shared_usd, null, cost]);
  }
  let out = `pertoken chargeback ${periodLabel(statement)}: ${statement.from} .. ${statement.to} (USD)\n`;
  out += renderTable(SUMMARY_HEADERS, rows);
  const identity = identityOf(statement);
  out +=
    identity === null
      ? `narrowed to ${statement.tenants.map((t) => t.tenant).join(', ') || 'no tenant'}: unallocated cost and inputs not shown\n`
      : `identity: ${identityText(identity)}\n`;
  if (options.lines) {
    for (const tenant of statement.tenants)
      out += `\n${tenantHeading(tenant)}\n${renderTable(LINE_HEADERS, tenant.lines.map(lineCells))}`;
  }
  return out;
}

function tenantHeading(tenant: TenantStatementJson): string {
  const basis = tenant.basis === 'plan' ? 'plan' : 'showback (charged at cost)';
  return `${tenant.tenant}: ${basis}, cost ${tenant.cost_usd}, charge ${tenant.charge_usd}, margin ${tenant.margin_usd}`;
}

const CSV_HEADERS = [
  'period',
  'tenant',
  'basis',
  'kind',
  'project',
  'provider',
  'model',
  'bucket',
  'tokens',
  'cost_usd',
  'charge_usd',
  'included_usd',
  'list_cost_usd',
];

/**
 * One row per statement line, with its tenant; then, in a full statement, one row per non-zero
 * unallocated amount (tenant empty, provider `__unallocated__`), so that the cost_usd column sums
 * to the statement's inputs exactly, as the identity says.
 */
export function statementCsv(statement: ChargebackJson): string {
  const period = statement.period;
  const rows: Cell[][] = statement.tenants.flatMap((t) =>
    t.lines.map((l) => [period, t.tenant, t.basis, ...lineCells(l)]),
  );
  const { unallocated } = statement;
  if (unallocated !== null) {
    for (const [kind, usd] of [
      ['idle', unallocated.idle_usd],
      ['shared', unallocated.shared_usd],
    ] as const) {
      if (parseUsd(usd) === 0n) continue;
      rows.push([
        period,
        null,
        null,
        kind,
        null,
        '__unallocated__',
        kind,
        null,
        0,
        usd,
        '0.000000000',
        '0.000000000',
        null,
      ]);
    }
  }
  return renderCsv(CSV_HEADERS, rows);
}
