/**
 * @module
 * What the CLI prints: plain-text tables, RFC 4180 CSV and indented JSON, and the `--format` flag
 * that picks one. A leaf (it imports only errors.ts), like glob.ts and ids.ts, so that cli/,
 * selfhosted/ and pricing/ render alike without importing one another.
 */
import { invalidInput } from './errors.js';

export type OutputFormat = 'table' | 'json' | 'csv';

/** A table or CSV cell. null means "no value": '-' in a table, an empty field in CSV. */
export type Cell = string | number | boolean | null;

const FORMATS: readonly OutputFormat[] = ['table', 'json', 'csv'];

/** "table, json or csv" */
function choices(allowed: readonly string[]): string {
  return allowed.length < 2 ? allowed.join('') : `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1) ?? ''}`;
}

/**
 * The value of a format flag: one of `allowed` (case and surrounding blanks ignored), the first of
 * them when the flag is absent. Anything else is one error line naming the flag, e.g.
 * `error: --format: must be table or json, got "xml"`.
 */
export function parseFormat<F extends string = OutputFormat>(
  text: string | undefined,
  param = '--format',
  allowed: readonly F[] = FORMATS as readonly string[] as readonly F[],
): F {
  const wanted = (text ?? allowed[0] ?? '').trim().toLowerCase();
  const format = allowed.find((f) => f === wanted);
  if (format === undefined) throw invalidInput(param, `must be ${choices(allowed)}, got "${text ?? ''}"`);
  return format;
}

/** `JSON.stringify` indented by two, one trailing newline: every command's `--format json`. */
export function renderJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

const NUMBER = /^[-+]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i;

const isEmpty = (cell: Cell): boolean => cell === null || cell === '';
const isNumeric = (cell: Cell): boolean => typeof cell === 'number' || (typeof cell === 'string' && NUMBER.test(cell));

export interface TableOptions {
  /** Lines printed under row i, each as `    - line` (a price's tiers and overrides). */
  notes?: ReadonlyArray<readonly string[] | undefined>;
  /** The dashed rule under the header; default true. */
  rule?: boolean;
}

/**
 * A plain-text table, safe to pipe (no colours): columns two spaces apart, no trailing blanks, a
 * dashed rule under the header. null renders '-'.
 *
 * Alignment, the one rule for every command: a column (header included) is right-aligned when it
 * has at least one non-empty cell and every non-empty cell is a number or a numeric string ("12",
 * "-0.5", "1,024", "3.500000008"); otherwise it is left-aligned. null and '' count as empty, so a
 * missing value does not turn a numeric column left, and a column of only '-' stays left.
 */
export function renderTable(
  headers: readonly string[],
  rows: ReadonlyArray<readonly Cell[]>,
  options: TableOptions = {},
): string {
  const text = rows.map((row) => headers.map((_, i) => cellText(row[i] ?? null)));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const right = headers.map((_, i) => {
    const filled = rows.map((r) => r[i] ?? null).filter((c) => !isEmpty(c));
    return filled.length > 0 && filled.every(isNumeric);
  });
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [line(headers)];
  if (options.rule !== false) out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  text.forEach((cells, i) => {
    out.push(line(cells));
    for (const note of options.notes?.[i] ?? []) out.push(`    - ${note}`);
  });
  return out.join('\n') + '\n';
}

function cellText(cell: Cell): string {
  return cell === null ? '-' : String(cell);
}

/** One RFC 4180 field: quoted when it holds a comma, quote, CR or LF, quotes doubled; null is empty. */
export function csvField(cell: Cell): string {
  if (cell === null) return '';
  const s = String(cell);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** RFC 4180 CSV with a header line; records end in LF (not CRLF) as every reader accepts. */
export function renderCsv(headers: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  return [headers, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}
