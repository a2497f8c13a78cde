import type { ComponentChildren } from 'preact';
import { downloadCsv, toCsv } from '../lib/csv.js';

export interface Column<R> {
  key: string;
  label: string;
  /** The value the CSV carries (and the cell shows, unless `render` is given). */
  value: (row: R) => string | number | boolean | null | undefined;
  render?: (row: R) => ComponentChildren;
  numeric?: boolean;
  /** Long text (a summary) wraps instead of widening the table. */
  wrap?: boolean;
}

/**
 * A data table with a CSV download of exactly the rows and columns shown. Wide tables scroll
 * inside a focusable region, so they stay readable (and keyboard-scrollable) at 390 px.
 */
export function DataTable<R>({
  caption,
  columns,
  rows,
  filename,
  rowKey,
  rowTestId,
  footer,
  testid,
}: {
  caption: string;
  columns: Array<Column<R>>;
  rows: R[];
  filename: string;
  rowKey: (row: R, index: number) => string;
  rowTestId?: string;
  footer?: ComponentChildren;
  testid?: string;
}) {
  const download = (): void => {
    const csv = toCsv(
      columns.map((c) => c.label),
      rows.map((r) => columns.map((c) => c.value(r))),
    );
    downloadCsv(`${filename}.csv`, csv);
  };
  return (
    <div class="table-block" data-testid={testid}>
      <div class="table-tools">
        <span class="muted">
          {rows.length.toLocaleString('en-US')} row{rows.length === 1 ? '' : 's'}
        </span>
        <button type="button" class="button small" onClick={download} data-testid="csv-download">
          Download CSV
        </button>
      </div>
      <div class="table-scroll" tabIndex={0} role="region" aria-label={caption}>
        <table>
          <caption class="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th scope="col" key={c.key} class={c.numeric ? 'num' : undefined}>
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={rowKey(r, i)} data-testid={rowTestId}>
                {columns.map((c) => (
                  <td key={c.key} class={c.numeric ? 'num' : c.wrap ? 'wrap' : undefined}>
                    {c.render ? c.render(r) : display(c.value(r))}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
          {footer ? <tfoot>{footer}</tfoot> : null}
        </table>
      </div>
    </div>
  );
}

function display(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined || v === '') return '—';
  return typeof v === 'number' ? v.toLocaleString('en-US') : String(v);
}
