import { FilterChips, RangePicker, rangeOf, filterLabel } from '../components/controls.js';
import { PageHead } from '../components/layout.js';
import { Panel } from '../components/panel.js';
import { ErrorBox, Loading } from '../components/states.js';
import { DataTable, type Column } from '../components/table.js';
import { apiUrl } from '../lib/api.js';
import { int, moneyFine, ms } from '../lib/format.js';
import { windowQuery } from '../lib/query.js';
import { FILTER_KEYS, filtersOf, href, navigate, withParams, type Route } from '../lib/route.js';
import { dayString, formatTime, resolveWindow } from '../lib/time.js';
import type { EventJson, EventPage } from '../lib/types.js';
import { useApi } from '../lib/use-api.js';
import type { ViewProps } from './common.js';

const PAGE_SIZES = [25, 50, 100, 250];
/** The first page has no cursor; in the trail of earlier pages it is written as "-". */
const FIRST = '-';

/**
 * The event explorer: newest first, no time filter unless asked, a filter per dimension, keyset
 * paging. The cursor of the page shown and the cursors of the pages before it are in the URL
 * (`cursor`, `trail`), so Previous, reload and a shared link all land on the same page.
 */
export function Debug({ route, now }: ViewProps) {
  const range = rangeOf(route, 'all');
  const window = resolveWindow(range, now);
  const limit = PAGE_SIZES.includes(Number(route.params.get('limit'))) ? Number(route.params.get('limit')) : 50;
  const cursor = route.params.get('cursor');
  const trail = (route.params.get('trail') ?? '').split(',').filter((c) => c !== '');
  const page = useApi<EventPage>(apiUrl('/api/v1/events', windowQuery(window, route, { limit, cursor })));
  const tz = range.tz;

  const next = page.data?.next_cursor
    ? withParams(route, { cursor: page.data.next_cursor, trail: [...trail, cursor ?? FIRST].join(',') })
    : null;
  const previous =
    cursor !== null
      ? withParams(route, {
          cursor: trail.length > 0 && trail[trail.length - 1] !== FIRST ? (trail[trail.length - 1] as string) : null,
          trail: trail.slice(0, -1).join(',') || null,
        })
      : null;
  // The request page keeps this page's URL so "Back to events" returns here.
  const requestHref = (e: EventJson): string => href('request', route.params, e.id);

  const columns: Array<Column<EventJson>> = [
    {
      key: 'time',
      label: `Time (${tz})`,
      value: (e) => e.time,
      render: (e) => (
        <a href={requestHref(e)} data-testid="event-link">
          {formatTime(e.time, tz, true)}
        </a>
      ),
    },
    { key: 'tenant', label: 'Tenant', value: (e) => e.tenant },
    { key: 'project', label: 'Project', value: (e) => e.project },
    { key: 'feature', label: 'Feature', value: (e) => e.feature },
    { key: 'model', label: 'Model', value: (e) => e.model },
    { key: 'provider', label: 'Provider', value: (e) => e.provider },
    {
      key: 'status',
      label: 'Status',
      value: (e) => e.status,
      render: (e) => <span class={`badge ${e.status === 'ok' ? 'good' : 'bad'}`}>{e.status}</span>,
    },
    {
      key: 'usage',
      label: 'Usage',
      value: (e) => e.usage_source,
      render: (e) => <span class={`badge ${e.usage_source === 'estimated' ? 'warn' : 'plain'}`}>{e.usage_source}</span>,
    },
    { key: 'input', label: 'Input', value: (e) => e.buckets.input ?? 0, numeric: true },
    { key: 'output', label: 'Output', value: (e) => e.buckets.output ?? 0, numeric: true },
    {
      key: 'cost',
      label: 'Cost (USD)',
      value: (e) => e.cost_usd,
      render: (e) => (e.cost_usd === null ? <span class="badge warn">unpriced</span> : moneyFine(e.cost_usd)),
      numeric: true,
    },
    { key: 'latency', label: 'Latency', value: (e) => e.latency_ms, render: (e) => ms(e.latency_ms), numeric: true },
    { key: 'ttft', label: 'TTFT', value: (e) => e.ttft_ms, render: (e) => ms(e.ttft_ms), numeric: true },
  ];

  return (
    <div data-testid="view-debug">
      <PageHead title="Debug" sub={`Events, newest first · ${window.label} · ${tz}`}>
        <RangePicker route={route} fallback="all" allowAll now={now} />
      </PageHead>
      <FilterForm route={route} />
      <FilterChips route={route} />
      <Panel title="Events" wide>
        {page.loading ? <Loading what="events" /> : null}
        {page.error ? <ErrorBox error={page.error} what="events" /> : null}
        {page.data && page.data.events.length === 0 ? (
          <p class="state empty" data-testid="empty">
            No events
            {Object.keys(filtersOf(route.params)).length > 0 || window.from !== null
              ? ' match these filters and this range'
              : ' in the ledger yet'}
            .
          </p>
        ) : null}
        {page.data && page.data.events.length > 0 ? (
          <DataTable
            caption="Events, newest first"
            columns={columns}
            rows={page.data.events}
            filename={`pertoken-events-${dayString(now, tz)}-page-${trail.length + (cursor ? 2 : 1)}`}
            rowKey={(e) => e.id}
            rowTestId="event-row"
            testid="events-table"
          />
        ) : null}
        <div class="pager" role="group" aria-label="Pages">
          {previous !== null ? (
            <a class="button" href={previous} data-testid="page-prev">
              ← Newer
            </a>
          ) : (
            <span class="button disabled" aria-disabled="true">
              ← Newer
            </span>
          )}
          <span class="muted">
            Page {int(cursor === null ? 1 : trail.length + 1)} · {limit} per page
          </span>
          {next !== null ? (
            <a class="button" href={next} data-testid="page-next">
              Older →
            </a>
          ) : (
            <span class="button disabled" aria-disabled="true">
              Older →
            </span>
          )}
          <label class="field inline">
            <span>Per page</span>
            <select
              value={String(limit)}
              onChange={(e) =>
                navigate(
                  withParams(route, {
                    limit: e.currentTarget.value === '50' ? null : e.currentTarget.value,
                    cursor: null,
                    trail: null,
                  }),
                )
              }
            >
              {PAGE_SIZES.map((n) => (
                <option key={n} value={String(n)}>
                  {n}
                </option>
              ))}
            </select>
          </label>
        </div>
      </Panel>
    </div>
  );
}

/** A field per dimension the API filters on; Enter applies them all and returns to the first page. */
function FilterForm({ route }: { route: Route }) {
  const submit = (e: Event): void => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const changes: Record<string, string | null> = { cursor: null, trail: null };
    for (const k of FILTER_KEYS) changes[k] = String(data.get(k) ?? '').trim() || null;
    navigate(withParams(route, changes));
  };
  // Open on wide screens and whenever a filter is set; folded on a phone until asked for.
  const open = FILTER_KEYS.some((k) => route.params.get(k)) || window.matchMedia('(min-width: 821px)').matches;
  return (
    <details class="filter-box" open={open} key={route.hash}>
      <summary>Filters</summary>
      <form class="filters" onSubmit={submit} aria-label="Event filters">
        {FILTER_KEYS.map((k) => (
          <label class="field" key={k}>
            <span>{filterLabel(k)}</span>
            <input
              name={k}
              type="text"
              defaultValue={route.params.get(k) ?? ''}
              autocomplete="off"
              spellcheck={false}
              data-testid={`filter-${k}`}
            />
          </label>
        ))}
        <div class="filter-actions">
          <button type="submit" class="button primary">
            Apply
          </button>
        </div>
      </form>
    </details>
  );
}
