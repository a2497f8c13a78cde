/**
 * The four Admin API reports of the demo upstream (billing-formats §3.1, §3.2, §4.1, §4.2), built
 * from the billing ledger one day bucket at a time. Amounts are the price book's list prices of
 * each day's totals, exact: OpenAI dollars as JSON number digits, Anthropic cents as decimal
 * strings (traps T4/T5). A line the price book cannot price is left out of the cost report
 * rather than billed at $0, so a reconciliation shows it as usage without a bill.
 */
import { formatDecimalScaled } from '../money.js';
import type { PriceBook } from '../pricing/index.js';
import type { Bucket } from '../usage/index.js';
import { DAY_MS, type BilledDay, type BillingLedger } from './billing-ledger.js';

/** A JSON number written with exactly these digits (JSON.stringify would go through a double). */
export class RawNumber {
  constructor(readonly text: string) {}
}

/** The project of OpenAI traffic sent without an `openai-project` header. */
export const DEMO_PROJECT_ID = 'proj_demo0000000000000000';

export interface ReportQuery {
  /** The day bucket reported. */
  day: number;
  groupBy: ReadonlySet<string>;
}

export interface ReportSource {
  ledger: BillingLedger;
  prices(): PriceBook;
}

type Json = Record<string, unknown>;

/** The token classes a day bills, with the providers' names for them. */
const CLASSES: ReadonlyArray<{
  bucket: Bucket;
  tokens: (d: BilledDay) => number;
  openai: string | null;
  anthropic: { tokenType: string; label: string };
}> = [
  {
    bucket: 'input',
    tokens: (d) => d.uncached,
    openai: 'input',
    anthropic: { tokenType: 'uncached_input_tokens', label: 'Input Tokens' },
  },
  {
    bucket: 'cache_read',
    tokens: (d) => d.cacheRead,
    openai: 'cached input',
    anthropic: { tokenType: 'cache_read_input_tokens', label: 'Input Tokens, Cache Hit' },
  },
  {
    bucket: 'cache_write_5m',
    tokens: (d) => d.cacheWrite5m,
    openai: null,
    anthropic: { tokenType: 'cache_creation.ephemeral_5m_input_tokens', label: 'Input Tokens, 5m Cache Write' },
  },
  {
    bucket: 'cache_write_1h',
    tokens: (d) => d.cacheWrite1h,
    openai: null,
    anthropic: { tokenType: 'cache_creation.ephemeral_1h_input_tokens', label: 'Input Tokens, 1h Cache Write' },
  },
  {
    bucket: 'output',
    tokens: (d) => d.output,
    openai: 'output',
    anthropic: { tokenType: 'output_tokens', label: 'Output Tokens' },
  },
];

/** A group's sums; `first` gives the grouped dimensions' values. */
interface Totals {
  first: BilledDay;
  uncached: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  output: number;
  requests: number;
}

/** Sums rows into groups keyed by the grouped dimensions, in ledger order. */
function totals(rows: readonly BilledDay[], key: (r: BilledDay) => unknown[]): Totals[] {
  const out = new Map<string, Totals>();
  for (const r of rows) {
    const k = JSON.stringify(key(r));
    const t = out.get(k) ?? {
      first: r,
      uncached: 0,
      cacheRead: 0,
      cacheWrite5m: 0,
      cacheWrite1h: 0,
      output: 0,
      requests: 0,
    };
    t.uncached += r.uncached;
    t.cacheRead += r.cacheRead;
    t.cacheWrite5m += r.cacheWrite5m;
    t.cacheWrite1h += r.cacheWrite1h;
    t.output += r.output;
    t.requests += r.requests;
    out.set(k, t);
  }
  return [...out.values()];
}

const when = <T>(grouped: boolean, value: T): T | null => (grouped ? value : null);

export function openaiUsage(src: ReportSource, q: ReportQuery): Json[] {
  const g = (d: string): boolean => q.groupBy.has(d);
  const rows = src.ledger.days('openai', q.day, q.day + DAY_MS);
  return totals(rows, (r) => [g('project_id') ? r.account : null, g('model') ? r.model : null]).map((t) => ({
    object: 'organization.usage.completions.result',
    input_tokens: t.uncached + t.cacheRead,
    output_tokens: t.output,
    input_cached_tokens: t.cacheRead,
    input_uncached_tokens: t.uncached,
    input_cache_write_tokens: 0,
    input_audio_tokens: 0,
    output_audio_tokens: 0,
    num_model_requests: t.requests,
    project_id: when(g('project_id'), t.first.account),
    user_id: null,
    api_key_id: null,
    model: when(g('model'), t.first.model),
    batch: when(g('batch'), false),
    service_tier: when(g('service_tier'), 'default'),
  }));
}

/** Each day × model × token class the price book prices, with its exact cost. */
function pricedLines(src: ReportSource, rows: readonly BilledDay[]) {
  const book = src.prices();
  return rows.flatMap((r) =>
    CLASSES.flatMap((c) => {
      const quantity = c.tokens(r);
      if (quantity === 0) return [];
      const priced = book.price({
        provider: r.wire,
        model: r.model,
        at: new Date(r.day),
        buckets: { [c.bucket]: quantity },
      });
      return priced.cost_nano === null ? [] : [{ row: r, cls: c, quantity, nano: priced.cost_nano }];
    }),
  );
}

export function openaiCosts(src: ReportSource, q: ReportQuery): Json[] {
  const g = (d: string): boolean => q.groupBy.has(d);
  const lines = pricedLines(src, src.ledger.days('openai', q.day, q.day + DAY_MS));
  const out = new Map<string, { project: string | null; label: string | null; quantity: number; nano: bigint }>();
  for (const l of lines) {
    const project = g('project_id') ? l.row.account : null;
    const label = g('line_item') ? `${l.row.model}, ${l.cls.openai ?? l.cls.bucket}` : null;
    const k = JSON.stringify([project, label]);
    const acc = out.get(k) ?? { project, label, quantity: 0, nano: 0n };
    out.set(k, { ...acc, quantity: acc.quantity + l.quantity, nano: acc.nano + l.nano });
  }
  return [...out.values()].map((c) => ({
    object: 'organization.costs.result',
    amount: { value: new RawNumber(formatDecimalScaled(c.nano, 9)), currency: 'usd' },
    line_item: c.label,
    project_id: c.project,
    api_key_id: null,
    quantity: c.label === null ? null : c.quantity,
    quantity_unit: c.label === null ? null : 'tokens',
  }));
}

export function anthropicUsage(src: ReportSource, q: ReportQuery): Json[] {
  const g = (d: string): boolean => q.groupBy.has(d);
  const rows = src.ledger.days('anthropic', q.day, q.day + DAY_MS);
  return totals(rows, (r) => [g('workspace_id') ? r.account : null, g('model') ? r.model : null]).map((t) => ({
    uncached_input_tokens: t.uncached,
    cache_creation: { ephemeral_1h_input_tokens: t.cacheWrite1h, ephemeral_5m_input_tokens: t.cacheWrite5m },
    cache_read_input_tokens: t.cacheRead,
    output_tokens: t.output,
    server_tool_use: { web_search_requests: 0 },
    api_key_id: null,
    workspace_id: when(g('workspace_id'), t.first.account),
    model: when(g('model'), t.first.model),
    service_tier: when(g('service_tier'), 'standard'),
    context_window: when(g('context_window'), '0-200k'),
    inference_geo: when(g('inference_geo'), 'not_available'),
  }));
}

export function anthropicCost(src: ReportSource, q: ReportQuery): Json[] {
  const g = (d: string): boolean => q.groupBy.has(d);
  const lines = pricedLines(src, src.ledger.days('anthropic', q.day, q.day + DAY_MS));
  const out = new Map<string, { workspace: string | null; line: (typeof lines)[number] | null; nano: bigint }>();
  for (const l of lines) {
    const workspace = g('workspace_id') ? l.row.account : null;
    const line = g('description') ? l : null;
    const k = JSON.stringify([workspace, line?.row.model ?? null, line?.cls.bucket ?? null]);
    const acc = out.get(k) ?? { workspace, line, nano: 0n };
    out.set(k, { ...acc, nano: acc.nano + l.nano });
  }
  return [...out.values()].map(({ workspace, line, nano }) => ({
    currency: 'USD',
    // Cents with the nano-USD's 7 further digits: "123.45" is $1.2345 (trap T4).
    amount: formatDecimalScaled(nano, 7),
    workspace_id: workspace,
    description: line === null ? null : `${line.row.model} Usage - ${line.cls.anthropic.label}`,
    cost_type: line === null ? null : 'tokens',
    context_window: line === null ? null : '0-200k',
    model: line === null ? null : line.row.model,
    service_tier: line === null ? null : 'standard',
    token_type: line === null ? null : line.cls.anthropic.tokenType,
    inference_geo: null,
  }));
}
