import { Panel } from '../components/panel.js';
import { ErrorBox, Loading } from '../components/states.js';
import { DataTable, type Column } from '../components/table.js';
import { apiUrl } from '../lib/api.js';
import { compact, label, money, moneyFine, nanoOf, perMillion, tokenTotal, usdText } from '../lib/format.js';
import { windowQuery } from '../lib/query.js';
import { filtersOf, href, withParams, type Route } from '../lib/route.js';
import { fold, grainOf } from '../lib/series.js';
import { dayString, type Window } from '../lib/time.js';
import type { CostRow, Costs } from '../lib/types.js';
import { useApi } from '../lib/use-api.js';

/** The drilldown path: tenant → project → model → day → events (Debug) → one request. */
const LEVELS = ['tenant', 'project', 'model', 'day'] as const;
type Level = (typeof LEVELS)[number];
const TITLE: Record<Level, string> = { tenant: 'Tenant', project: 'Project', model: 'Model', day: 'Day' };

interface Line {
  value: string | null;
  requests: number;
  tokens: number;
  costUsd: string;
  share: number;
  unpriced: number;
}

export function Breakdown({ route, now, window, tz }: { route: Route; now: number; window: Window; tz: string }) {
  const filters = filtersOf(route.params);
  const level = LEVELS.find((l) => l === 'day' || !filters[l]) ?? 'day';
  // Days in the viewer's zone: hours folded into days unless the zone is UTC.
  const grain =
    level === 'day' ? { unit: 'day' as const, groupBy: tz === 'UTC' ? ('day' as const) : ('hour' as const) } : null;
  const costs = useApi<Costs>(
    apiUrl('/api/v1/costs', windowQuery(window, route, { group_by: grain ? grain.groupBy : level })),
  );
  const lines = costs.data ? toLines(costs.data.rows, level, grain, tz) : [];
  const total = lines.reduce((s, l) => s + nanoOf(l.costUsd), 0n);

  const link = (line: Line): string | null => {
    if (line.value === null) return null;
    if (level !== 'day') return withParams(route, { [level]: line.value });
    // A day opens the events of that day, newest first, with the same filters.
    const params: Record<string, string | null> = {
      ...filters,
      tz: tz === 'UTC' ? null : tz,
      range: 'custom',
      from: line.value,
      to: line.value,
    };
    return href('debug', params);
  };
  const columns: Array<Column<Line>> = [
    {
      key: 'value',
      label: TITLE[level],
      value: (l) => l.value ?? '',
      render: (l) => {
        const to = link(l);
        return to ? (
          <a href={to} data-testid="drill-link">
            {label(l.value)}
          </a>
        ) : (
          <span class="muted">{label(l.value)}</span>
        );
      },
    },
    { key: 'cost', label: 'Cost (USD)', value: (l) => l.costUsd, render: (l) => moneyFine(l.costUsd), numeric: true },
    {
      key: 'share',
      label: 'Share',
      value: (l) => (l.share * 100).toFixed(2),
      render: (l) => `${(l.share * 100).toFixed(1)}%`,
      numeric: true,
    },
    { key: 'requests', label: 'Requests', value: (l) => l.requests, numeric: true },
    { key: 'tokens', label: 'Tokens', value: (l) => l.tokens, render: (l) => compact(l.tokens), numeric: true },
    {
      key: 'unit',
      label: 'Per 1M tokens',
      value: (l) => perMillion(l.costUsd, l.tokens)?.toFixed(4) ?? '',
      render: (l) => {
        const v = l.unpriced >= l.requests ? null : perMillion(l.costUsd, l.tokens);
        return v === null ? '—' : `$${v.toFixed(2)}`;
      },
      numeric: true,
    },
    { key: 'unpriced', label: 'Unpriced', value: (l) => l.unpriced, numeric: true },
  ];

  const crumbs = (['tenant', 'project', 'model'] as const).filter((l) => filters[l]);
  return (
    <Panel title="Drilldown" wide id="drilldown">
      <nav aria-label="Drilldown path" class="crumbs">
        <ol>
          <li>
            {crumbs.length > 0 ? (
              <a href={withParams(route, { tenant: null, project: null, model: null })}>All</a>
            ) : (
              <span aria-current="location">All</span>
            )}
          </li>
          {crumbs.map((c, i) => {
            const last = i === crumbs.length - 1;
            const clear = Object.fromEntries(crumbs.slice(i + 1).map((k) => [k, null]));
            return (
              <li key={c}>
                {last ? (
                  <span aria-current="location">
                    {TITLE[c]} {filters[c]}
                  </span>
                ) : (
                  <a href={withParams(route, clear)}>
                    {TITLE[c]} {filters[c]}
                  </a>
                )}
              </li>
            );
          })}
          <li>
            <span class="muted">by {TITLE[level].toLowerCase()}</span>
          </li>
        </ol>
      </nav>
      {costs.loading ? <Loading what="the breakdown" /> : null}
      {costs.error ? <ErrorBox error={costs.error} what="the breakdown" /> : null}
      {costs.data && lines.length === 0 ? <p class="muted">Nothing spent in this range.</p> : null}
      {costs.data && lines.length > 0 ? (
        <DataTable
          caption={`Spend by ${TITLE[level].toLowerCase()}`}
          columns={columns}
          rows={lines}
          filename={`pertoken-by-${level}-${dayString(now, tz)}`}
          rowKey={(l) => l.value ?? '(none)'}
          rowTestId="breakdown-row"
          testid="breakdown"
          footer={
            <tr>
              <th scope="row">Total</th>
              <td class="num">{money(total)}</td>
              <td class="num">100%</td>
              <td class="num">{lines.reduce((s, l) => s + l.requests, 0).toLocaleString('en-US')}</td>
              <td class="num">{compact(lines.reduce((s, l) => s + l.tokens, 0))}</td>
              <td />
              <td class="num">{lines.reduce((s, l) => s + l.unpriced, 0).toLocaleString('en-US')}</td>
            </tr>
          }
        />
      ) : null}
      {level === 'day' ? (
        <p class="muted small">Pick a day to list its events; an event opens its request page.</p>
      ) : null}
    </Panel>
  );
}

function toLines(rows: CostRow[], level: Level, grain: ReturnType<typeof grainOf> | null, tz: string): Line[] {
  let lines: Line[];
  if (grain !== null) {
    const folded = fold(rows, grain, tz, null);
    const cells = folded.cells.get('all') ?? new Map();
    lines = folded.xs
      .map((x) => {
        const c = cells.get(x);
        return {
          value: dayString(x, tz),
          requests: c?.requests ?? 0,
          tokens: c?.tokens ?? 0,
          costUsd: usdText(c?.costNano ?? 0n),
          share: 0,
          unpriced: c?.unpriced ?? 0,
        };
      })
      .reverse();
  } else {
    lines = rows
      .map((r) => ({
        value: (r[level] ?? null) as string | null,
        requests: r.requests,
        tokens: tokenTotal(r.tokens),
        costUsd: r.cost_usd,
        share: 0,
        unpriced: r.unpriced_requests,
      }))
      .sort((a, b) => {
        const d = nanoOf(b.costUsd) - nanoOf(a.costUsd);
        return d > 0n ? 1 : d < 0n ? -1 : 0;
      });
  }
  const total = lines.reduce((s, l) => s + nanoOf(l.costUsd), 0n);
  for (const l of lines) l.share = total > 0n ? Number((nanoOf(l.costUsd) * 1_000_000n) / total) / 1_000_000 : 0;
  return lines;
}
