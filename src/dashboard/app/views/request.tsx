import type { ComponentChildren } from 'preact';
import { PageHead } from '../components/layout.js';
import { Panel } from '../components/panel.js';
import { ErrorBox, Loading } from '../components/states.js';
import { DataTable, type Column } from '../components/table.js';
import { apiUrl } from '../lib/api.js';
import { int, label, moneyFine, ms, tokenTotal } from '../lib/format.js';
import { href } from '../lib/route.js';
import { formatTime } from '../lib/time.js';
import type { CostLine, EventJson } from '../lib/types.js';
import { useApi } from '../lib/use-api.js';
import type { ViewProps } from './common.js';

/** Canonical bucket order (DESIGN §4); anything else after it. */
const BUCKET_ORDER = [
  'input',
  'cache_read',
  'cache_write_5m',
  'cache_write_1h',
  'input_audio',
  'input_image',
  'output',
  'reasoning',
  'output_audio',
  'output_image',
  'requests',
  'web_search',
  'tool_calls',
];

/**
 * One request, `#/request/<event id>`: what it cost and why — its canonical buckets, the price it
 * was costed at (price_ref), the cost lines, timing, attribution and the provider's raw usage.
 */
export function RequestView({ route }: ViewProps) {
  const id = route.id ?? '';
  const event = useApi<EventJson>(id ? apiUrl(`/api/v1/events/${encodeURIComponent(id)}`) : null);
  const tz = route.params.get('tz') || 'UTC';
  const back = href('debug', route.params);
  const e = event.data;
  return (
    <div data-testid="view-request">
      <p>
        <a href={back} class="back-link">
          ← Back to events
        </a>
      </p>
      <PageHead
        title={e ? `${e.model} · ${e.tenant}` : 'Request'}
        sub={
          <>
            Event <code data-testid="event-id">{id}</code>
            {e ? ` · ${formatTime(e.time, tz, true)} ${tz}` : ''}
          </>
        }
      />
      {event.loading ? <Loading what="the request" /> : null}
      {event.error ? <ErrorBox error={event.error} what={`event ${id}`} /> : null}
      {e ? <Details event={e} tz={tz} /> : null}
    </div>
  );
}

function Details({ event: e, tz }: { event: EventJson; tz: string }) {
  const buckets = Object.entries(e.buckets)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .sort(([a], [b]) => rank(a) - rank(b));
  const lines: CostLine[] = e.cost_lines ?? [];
  const lineColumns: Array<Column<CostLine>> = [
    { key: 'bucket', label: 'Bucket', value: (l) => l.bucket },
    { key: 'quantity', label: 'Tokens', value: (l) => l.quantity, numeric: true },
    {
      key: 'price',
      label: 'Unit price (USD)',
      value: (l) => l.unit_price_usd,
      render: (l) =>
        `${l.unit_price_usd} per ${l.per === 'mtok' ? '1M' : 'unit'}${l.discount_pct ? ` −${l.discount_pct}%` : ''}`,
      numeric: true,
    },
    { key: 'cost', label: 'Cost (USD)', value: (l) => l.cost_usd, render: (l) => moneyFine(l.cost_usd), numeric: true },
  ];
  const bucketColumns: Array<Column<[string, number]>> = [
    { key: 'bucket', label: 'Bucket', value: ([b]) => b },
    { key: 'tokens', label: 'Tokens', value: ([, n]) => n, numeric: true },
  ];
  return (
    <>
      <div class="stats">
        <div class="stat">
          <div class="stat-label">Cost</div>
          <div class="stat-value" data-testid="request-cost">
            {e.cost_usd === null ? 'unpriced' : moneyFine(e.cost_usd)}
          </div>
          <div class="stat-sub">{e.cost_usd === null ? 'no price for this model' : `${e.cost_usd} USD exactly`}</div>
        </div>
        <div class="stat">
          <div class="stat-label">Tokens</div>
          <div class="stat-value">{int(tokenTotal(e.buckets))}</div>
          <div class="stat-sub">usage {e.usage_source}</div>
        </div>
        <div class="stat">
          <div class="stat-label">Latency</div>
          <div class="stat-value">{ms(e.latency_ms)}</div>
          <div class="stat-sub">TTFT {ms(e.ttft_ms)}</div>
        </div>
        <div class="stat">
          <div class="stat-label">Status</div>
          <div class="stat-value">
            <span class={`badge ${e.status === 'ok' ? 'good' : 'bad'}`}>{e.status}</span>
          </div>
          <div class="stat-sub">HTTP {e.http_status ?? '—'}</div>
        </div>
      </div>
      <div class="grid two">
        <Panel title="Cost lines">
          <p class="muted small">
            Priced at <code data-testid="price-ref">{e.price_ref ?? 'no price (unpriced)'}</code>
          </p>
          {lines.length > 0 ? (
            <DataTable
              caption="Cost lines"
              columns={lineColumns}
              rows={lines}
              filename={`pertoken-request-${e.id}-cost-lines`}
              rowKey={(l, i) => `${l.bucket}-${i}`}
              rowTestId="cost-line"
              footer={
                <tr>
                  <th scope="row">Total</th>
                  <td class="num">{int(tokenTotal(e.buckets))}</td>
                  <td />
                  <td class="num" data-testid="cost-total">
                    {e.cost_usd === null ? 'unpriced' : moneyFine(e.cost_usd)}
                  </td>
                </tr>
              }
            />
          ) : (
            <DataTable
              caption="Cost lines"
              columns={[
                ...bucketColumns,
                {
                  key: 'cost',
                  label: 'Cost (USD)',
                  value: () => null,
                  render: () => <span class="muted">—</span>,
                  numeric: true,
                },
              ]}
              rows={buckets}
              filename={`pertoken-request-${e.id}-cost-lines`}
              rowKey={([b]) => b}
              rowTestId="cost-line"
              footer={
                <tr>
                  <th scope="row">Total</th>
                  <td class="num">{int(tokenTotal(e.buckets))}</td>
                  <td class="num" data-testid="cost-total">
                    {e.cost_usd === null ? 'unpriced' : moneyFine(e.cost_usd)}
                  </td>
                </tr>
              }
            />
          )}
          {lines.length === 0 ? (
            <p class="muted small">
              No per-bucket lines: the cost was reported by the sender, or the price book changed since it was priced.
            </p>
          ) : null}
          {e.usage_issues.length > 0 ? (
            <ul class="issues" aria-label="Usage issues">
              {e.usage_issues.map((i) => (
                <li key={i}>{i}</li>
              ))}
            </ul>
          ) : null}
        </Panel>
        <Panel title="Request">
          <dl class="facts">
            <Fact name="Time">
              {formatTime(e.time, tz, true)} {tz}
            </Fact>
            <Fact name="Tenant">{e.tenant}</Fact>
            <Fact name="Project">{label(e.project)}</Fact>
            <Fact name="Feature">{label(e.feature)}</Fact>
            <Fact name="User">{label(e.user)}</Fact>
            <Fact name="Key">{label(e.key_id)}</Fact>
            <Fact name="Provider">{e.provider}</Fact>
            <Fact name="Model">
              {e.model}
              {e.requested_model !== e.model ? ` (asked for ${e.requested_model})` : ''}
            </Fact>
            <Fact name="Route">{e.route}</Fact>
            <Fact name="Streamed">{e.streamed ? 'yes' : 'no'}</Fact>
            <Fact name="Origin">
              {e.origin} · {e.source}
            </Fact>
            <Fact name="Trace">{label(e.trace_id)}</Fact>
            <Fact name="Tags">
              {Object.keys(e.tags).length === 0
                ? '(none)'
                : Object.entries(e.tags)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(', ')}
            </Fact>
          </dl>
        </Panel>
      </div>
      <div class="grid two">
        <Panel title="Canonical buckets">
          <DataTable
            caption="Canonical buckets"
            columns={bucketColumns}
            rows={buckets}
            filename={`pertoken-request-${e.id}-buckets`}
            rowKey={([b]) => b}
            rowTestId="bucket-row"
          />
        </Panel>
        <Panel title="Raw usage from the provider">
          <pre class="raw" tabIndex={0} aria-label="Raw usage JSON" data-testid="raw-usage">
            {e.raw_usage === null || e.raw_usage === undefined
              ? '(none reported)'
              : JSON.stringify(e.raw_usage, null, 2)}
          </pre>
        </Panel>
      </div>
    </>
  );
}

function Fact({ name, children }: { name: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </>
  );
}

function rank(bucket: string): number {
  const i = BUCKET_ORDER.indexOf(bucket);
  return i === -1 ? BUCKET_ORDER.length : i;
}
