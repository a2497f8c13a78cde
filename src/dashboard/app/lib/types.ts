/** The JSON documents of the query API (DESIGN §3) as the dashboard reads them. Money is a decimal string. */

export type Buckets = Partial<Record<string, number>>;

export interface CostRow {
  [key: string]: unknown;
  requests: number;
  tokens: Buckets;
  cost_usd: string;
  unpriced_requests: number;
  estimated_requests: number;
  refused_requests?: number;
  /** Net cost per 1M tokens, per request, per output token (null without that unit). */
  cost_per_1m_tokens_usd?: string | null;
  cost_per_request_usd?: string | null;
  cost_per_output_token_usd?: string | null;
  saved_usd?: string;
}

export interface Costs {
  from: string;
  to: string;
  group_by: string[];
  rows: CostRow[];
  totals: CostRow;
}

/** One line of an event's cost (GET /api/v1/events/:id `cost_lines`). */
export interface CostLine {
  bucket: string;
  quantity: number;
  unit_price_usd: string;
  per: 'mtok' | 'unit';
  discount_pct: string | null;
  cost_usd: string;
}

export interface EventJson {
  id: string;
  time: string;
  origin: string;
  source: string;
  tenant: string;
  project: string | null;
  user: string | null;
  feature: string | null;
  key_id: string | null;
  trace_id: string | null;
  tags: Record<string, string>;
  provider: string;
  requested_model: string;
  model: string;
  route: string;
  status: string;
  http_status: number | null;
  streamed: boolean;
  latency_ms: number | null;
  ttft_ms: number | null;
  buckets: Buckets;
  usage_source: string;
  price_ref: string | null;
  raw_usage: unknown;
  usage_issues: string[];
  cost_usd: string | null;
  /** Per-bucket lines, when the server exposes them. */
  /** Null when the lines cannot be vouched for (a reported cost, a price changed since). */
  cost_lines?: CostLine[] | null;
}

export interface EventPage {
  events: EventJson[];
  next_cursor: string | null;
}

export interface Budget {
  id: string;
  scope: Record<string, string>;
  period: string;
  tz?: string;
  action?: string;
  period_start: string | null;
  period_end: string | null;
  /** Null for a budget that only gives a token allowance. */
  limit_usd: string | null;
  spent_usd: string;
  reserved_usd: string;
  remaining_usd: string | null;
  projected_usd: string | null;
  /** Present when the budget gives an allowance in tokens. */
  limit_tokens?: number;
  spent_tokens?: number;
  reserved_tokens?: number;
  remaining_tokens?: number;
  projected_tokens?: number | null;
}

export interface Forecast {
  scope: string;
  period_start: string;
  period_end: string;
  spent_usd: string;
  projected_usd: string;
  low_usd: string;
  high_usd: string;
  interval: number;
  method: string;
  limit_usd?: string;
  exhaustion_at?: string | null;
}

export interface Alert {
  id: string;
  kind: string;
  severity: string;
  state: string;
  scope: Record<string, string>;
  started_at: string;
  ended_at: string | null;
  summary: string;
  value: number | string | null;
  baseline: number | string | null;
}

export interface KeyInfo {
  id: string;
  tenant: string;
  project: string | null;
  name: string | null;
  scopes: string[];
  models: string[];
  status: string;
  created_at: string;
  expires_at: string | null;
}

export interface ChargebackTenant {
  tenant: string;
  basis?: string;
  vendor_usd: string;
  selfhosted_usd: string;
  idle_usd: string;
  shared_usd: string;
  adjustments_usd: string;
  cost_usd: string;
  charge_usd: string;
  margin_usd: string;
  tokens: number;
  cost_per_mtok_usd: string | null;
  lines: Array<{
    kind?: string;
    project: string | null;
    provider: string;
    model: string;
    bucket: string;
    tokens: number;
    cost_usd: string;
    charge_usd: string;
  }>;
}

export interface Chargeback {
  period: string;
  from: string;
  to: string;
  tenants: ChargebackTenant[];
  /** null for a tenant reader: the organisation's unallocated costs are not its to see. */
  unallocated: { idle_usd: string; shared_usd: string } | null;
  totals: Record<string, string | number | null>;
}

export interface Pool {
  name: string;
  gpu?: string;
  gpu_hours: string;
  cost_usd: string;
  busy_usd: string;
  idle_usd: string;
  utilization: number;
  tokens: number;
  cost_per_mtok_usd: string | null;
  over_capacity: boolean;
}

export interface ReconciliationRow {
  day: string;
  provider: string;
  tenant: string | null;
  project: string | null;
  model: string | null;
  bucket: string | null;
  metered_tokens: number;
  billed_tokens: number | null;
  metered_usd: string;
  billed_usd: string | null;
  delta_usd: string;
  delta_pct: string | number | null;
  explanation: { code: string; detail: string };
}

export interface Reconciliation {
  from: string;
  to: string;
  status: string;
  threshold_pct?: string;
  rows: ReconciliationRow[];
  totals: {
    metered_usd: string;
    billed_usd: string;
    delta_usd: string;
    gaps?: number;
    unexplained?: number;
    not_imported?: Array<{ provider: string; days: string[] }>;
  };
}
