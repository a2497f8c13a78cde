/**
 * One billing import: parse every source of one format, map accounts, store in one transaction.
 *
 * Mode: a file with any malformed row is refused whole (nothing from it is stored) and every bad
 * row is listed as {file, at, reason}; the other files of the run are still imported. A bill that
 * is half-imported is worse than one that is not imported: reconciliation would show a gap that
 * is really a parse error. Rows of every accepted file go to the ledger as one batch, so pages of
 * one response split across files store exactly what one file with all pages stores.
 */
import { invalidInput } from '../../errors.js';
import { formatUsd } from '../../money.js';
import { newEventId, type BillingRow, type Store } from '../../ledger/index.js';
import type { BillingAccountConfig } from '../../config/index.js';
import { AccountMap } from './accounts.js';
import { parseAnthropicCost } from './anthropic-cost.js';
import { parseAnthropicUsage } from './anthropic-usage.js';
import { parseFocus } from './focus-import.js';
import { parseOpenaiCosts } from './openai-costs.js';
import { parseOpenaiUsage } from './openai-usage.js';
import { BILLING_FORMATS, type BillingFormat, type BillingLine, type ParsedFile, type Rejection } from './rows.js';
import type { BillingSource } from './sources.js';

/** The reply of `pertoken import` and POST /api/v1/admin/billing/imports (DESIGN §3). */
export interface BillingImportSummary {
  format: BillingFormat;
  import_id: string;
  /** Rows parsed from the accepted files. */
  rows: number;
  imported: number;
  replaced: number;
  duplicates: number;
  /** Rows of accounts billing_accounts does not map (stored with tenant null). */
  unmapped: number;
  rejected: Rejection[];
}

export interface BillingImportOptions {
  store: Pick<Store, 'importBillingRows'>;
  accounts: readonly BillingAccountConfig[];
  format: BillingFormat;
  sources: readonly BillingSource[];
  now?: Date;
  /** After each file is parsed: files done, files in all, bytes done, bytes in all (null: unknown). */
  onProgress?: (done: number, files: number, bytes: number, totalBytes: number | null) => void;
}

const JSON_PARSERS: Record<Exclude<BillingFormat, 'focus'>, (text: string, file: string) => ParsedFile> = {
  'openai-costs': parseOpenaiCosts,
  'openai-usage': parseOpenaiUsage,
  'anthropic-cost': parseAnthropicCost,
  'anthropic-usage': parseAnthropicUsage,
};

/** A format name from a flag or query parameter, or an error naming `param` and the choices. */
export function parseBillingFormat(value: string | null | undefined, param: string): BillingFormat {
  const format = BILLING_FORMATS.find((f) => f === value);
  if (format === undefined)
    throw invalidInput(param, `must be one of ${BILLING_FORMATS.join(', ')}, got ${JSON.stringify(value ?? null)}`);
  return format;
}

export async function parseSource(format: BillingFormat, source: BillingSource): Promise<ParsedFile> {
  if (format === 'focus') return storable(format, await parseFocus(source.chunks(), source.name), source.name);
  let text = '';
  for await (const chunk of source.chunks()) text += chunk;
  return storable(format, JSON_PARSERS[format](text, source.name), source.name);
}

/**
 * The largest amount (±1e9 USD, in nano-USD) and quantity one bill line may carry. Real lines stay
 * far below; a bigger figure is a corrupt export, and the ledger's 64-bit columns could not store
 * it: `"value": 1e300` used to parse, then crash the import with a RangeError from the driver.
 */
export const MAX_LINE_NANO = 10n ** 18n;
export const MAX_LINE_QUANTITY = 10n ** 18n;

/** Where each format names a line's account, for the rejection of an empty one. */
const ACCOUNT_FIELD: Record<BillingFormat, string> = {
  'openai-costs': 'project_id',
  'openai-usage': 'project_id',
  'anthropic-cost': 'workspace_id',
  'anthropic-usage': 'workspace_id',
  focus: 'SubAccountId',
};

/**
 * Lines the ledger would refuse become rejections of their row, so one bad row refuses its file
 * (naming the row) instead of failing the whole run's insert: an amount or quantity out of range,
 * or an empty account id (`"workspace_id": ""` used to fail the import as `rows[0].account_id`).
 */
function storable(format: BillingFormat, parsed: ParsedFile, file: string): ParsedFile {
  const lines: BillingLine[] = [];
  const rejected = [...parsed.rejected];
  for (const line of parsed.lines) {
    const problem = unstorable(format, line);
    if (problem === null) lines.push(line);
    else rejected.push({ file, ...problem });
  }
  return { lines, rejected };
}

function unstorable(format: BillingFormat, line: BillingLine): Omit<Rejection, 'file'> | null {
  if (line.account_id === '') {
    const field = ACCOUNT_FIELD[format];
    return { at: format === 'focus' ? line.position : `${line.position}.${field}`, reason: `${field} is empty` };
  }
  const amount = line.amount_nano;
  if (amount !== null && (amount > MAX_LINE_NANO || amount < -MAX_LINE_NANO)) {
    const reason = `amount ${formatUsd(amount)} USD is out of range (at most ±${formatUsd(MAX_LINE_NANO)} a line)`;
    return { at: line.position, reason };
  }
  if (line.quantity !== null && line.quantity > MAX_LINE_QUANTITY) {
    return {
      at: line.position,
      reason: `quantity ${line.quantity} is out of range (at most ${MAX_LINE_QUANTITY} a line)`,
    };
  }
  return null;
}

export async function importBilling(options: BillingImportOptions): Promise<BillingImportSummary> {
  const { format, sources } = options;
  const accounts = new AccountMap(options.accounts);
  const rows: BillingRow[] = [];
  const rejected: Rejection[] = [];
  const totalBytes = sources.every((s) => s.bytes !== null) ? sources.reduce((n, s) => n + (s.bytes ?? 0), 0) : null;
  let bytes = 0;
  for (const [i, source] of sources.entries()) {
    const parsed = await parseSource(format, source);
    bytes += source.bytes ?? 0;
    options.onProgress?.(i + 1, sources.length, bytes, totalBytes);
    if (parsed.rejected.length > 0) {
      rejected.push(...parsed.rejected);
      continue;
    }
    for (const line of parsed.lines) {
      const { parent_account_id: _parent, ...stored } = line;
      rows.push({ ...stored, ...accounts.ownerOf(line), source: format, file: source.name });
    }
  }
  numberRepeats(rows);
  const importId = `imp_${newEventId(options.now)}`;
  const result =
    rows.length === 0
      ? { imported: 0, replaced: 0, duplicates: 0 }
      : await options.store.importBillingRows({ importId, rows, ...(options.now ? { now: options.now } : {}) });
  return {
    format,
    import_id: importId,
    rows: rows.length,
    ...result,
    unmapped: rows.filter((r) => r.tenant === null).length,
    rejected,
  };
}

/**
 * Two lines with the same key in one bucket of one file (a FOCUS file may repeat a charge) get
 * "#2", "#3"… in file order, so each is stored, and a re-import numbers them the same way. The
 * same key in two files is the same line given twice (a page passed twice): the ledger keeps one.
 */
function numberRepeats(rows: BillingRow[]): void {
  const seen = new Map<string, number>();
  for (const row of rows) {
    const key = JSON.stringify([row.file, row.provider, row.account_id, row.start_ms, row.end_ms, row.row_key]);
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n > 1) row.row_key = `${row.row_key}#${n}`;
  }
}
