import type { Bucket, Buckets, UsageSource } from '../usage/index.js';
import type { AdjustmentQuery, StoredAdjustment } from './adjustments.js';
import type { BillingImportBatch, BillingImportResult, BillingRowQuery, StoredBillingRow } from './billing-rows.js';
import type { ClientAddressQuery, NewClientAddress, RequestRepeat, RequestRepeatQuery } from './request-queries.js';

/**
 * `refused`: a call pertoken itself refused (budget 402, scope 403, rate limit 429, fail-closed
 * counters 503) for a caller it could attribute. Nothing went upstream: no tokens, cost a known
 * 0, the refusal's code in usage_issues. Reports count these apart (`refused_requests`), never
 * as requests, spend or errors.
 */
/** `refused`: pertoken said no (402, 403, 429, 503) before the call left; no cost, counted as refused demand. */
export const EVENT_STATUSES = ['ok', 'error', 'interrupted', 'cancelled', 'refused'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];
export type EventOrigin = 'gateway' | 'api' | 'otlp' | 'import' | 'recovery';

/** Who spent it. Empty dimensions are null, never "". */
export interface Attribution {
  tenant: string;
  project: string | null;
  user: string | null;
  feature: string | null;
  key_id: string | null;
  trace_id: string | null;
  tags: Record<string, string>;
}

/** One metered call as stored in the ledger. Events are immutable once written. */
export interface UsageEvent extends Attribution {
  /** Time-sortable id (ULID-like); the idempotency key. */
  id: string;
  /** When the call started (gateway) or happened (ingested event). */
  time: Date;
  origin: EventOrigin;
  /** Free-form source of an ingested event (CloudEvents `source`), or the upstream name. */
  source: string;
  provider: string;
  requested_model: string;
  /** The model that served the request (the upstream's answer); requested_model when unknown. */
  model: string;
  route: string;
  status: EventStatus;
  http_status: number | null;
  streamed: boolean;
  latency_ms: number | null;
  ttft_ms: number | null;
  buckets: Buckets;
  usage_source: UsageSource;
  /** null = unpriced (unknown model); never a silent zero. */
  cost_nano: bigint | null;
  price_ref: string | null;
  raw_usage: unknown;
  usage_issues: string[];
  /**
   * Fingerprint of the request (lowercase hex, never the payload; gateway/fingerprint.ts); absent
   * or null when unknown. Optional so that events built before it existed stay valid.
   */
  request_hash?: string | null;
  /** The client's IP literal, canonical (client-address.ts); absent or null when unknown. */
  client_address?: string | null;
}

/** Written when a gateway request starts, removed by its settlement; leftovers mean a crash. */
export interface Reservation extends Attribution {
  id: string;
  time: Date;
  source: string;
  provider: string;
  requested_model: string;
  route: string;
  streamed: boolean;
  /** Tokenizer estimate of the prompt, used to settle an interrupted request after a crash. */
  estimated_input_tokens: number;
}

export type GroupKey =
  | 'tenant'
  | 'project'
  | 'model'
  | 'requested_model'
  | 'provider'
  | 'feature'
  | 'user'
  | 'key'
  | 'route'
  | 'status'
  | 'trace'
  | 'day'
  | 'hour';

export const GROUP_KEYS: readonly GroupKey[] = [
  'tenant',
  'project',
  'model',
  'requested_model',
  'provider',
  'feature',
  'user',
  'key',
  'route',
  'status',
  'trace',
  'day',
  'hour',
];

export interface CostQuery {
  from: Date;
  to: Date;
  groupBy: GroupKey[];
  filter: Partial<Record<GroupKey, string>>;
}

export interface CostRow {
  keys: Partial<Record<GroupKey, string | null>>;
  requests: number;
  tokens: Buckets;
  /** List cost: the events' own costs (unpriced events add nothing). */
  cost_nano: bigint;
  unpriced_requests: number;
  estimated_requests: number;
  /** Calls pertoken refused (status `refused`); not part of `requests`. */
  refused_requests: number;
  /** Signed sum of the adjustments dated in this group (repricing, credits). */
  adjustments_nano: bigint;
  /** cost_nano + adjustments_nano. */
  net_nano: bigint;
  /** Set on the one row that sums the groups beyond `top` (top.ts); its keys are null. */
  other?: { groups: number };
}

export interface EventQuery {
  from?: Date;
  to?: Date;
  filter: Partial<Record<GroupKey, string>>;
  limit: number;
  /** Opaque cursor from the previous page (newest first). */
  cursor?: string;
}

export interface EventPage {
  events: UsageEvent[];
  next_cursor: string | null;
}

export interface InsertResult {
  accepted: string[];
  duplicate: string[];
}

/** Source of estimates for interrupted requests found at start-up. */
export type InterruptedPricer = (reservation: Reservation) => {
  buckets: Partial<Record<Bucket, number>>;
  cost_nano: bigint | null;
  price_ref: string | null;
};

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  /** Durably records that a request started (group-committed with concurrent writers). */
  reserve(reservation: Reservation): Promise<void>;
  /** Durably records the final event and clears its reservation, in one transaction. */
  settle(event: UsageEvent): Promise<void>;
  /** Idempotent batch insert (event API, imports). */
  insertEvents(events: UsageEvent[]): Promise<InsertResult>;
  /** Settles reservations left open by a crash as `interrupted` events; returns how many. */
  recoverInterrupted(pricer: InterruptedPricer): Promise<number>;
  queryCosts(query: CostQuery): Promise<CostRow[]>;
  listEvents(query: EventQuery): Promise<EventPage>;
  getEvent(id: string): Promise<UsageEvent | null>;
  /** Imported provider bill lines: one transaction, idempotent, a re-export replaces its buckets (billing-rows.ts). */
  importBillingRows(batch: BillingImportBatch): Promise<BillingImportResult>;
  queryBillingRows(query: BillingRowQuery): Promise<StoredBillingRow[]>;
  /** Adjustments dated in a range whose id has a prefix (reconciliation reads back its own; adjustments.ts). */
  queryAdjustments(query: AdjustmentQuery): Promise<StoredAdjustment[]>;
  /** Request fingerprints sent at least `minCount` times per key in [from, to) (request-queries.ts). */
  queryRequestRepeats(query: RequestRepeatQuery): Promise<RequestRepeat[]>;
  /** Per key, the client addresses of [from, to) it never used in [seenSince, from) (request-queries.ts). */
  queryClientAddresses(query: ClientAddressQuery): Promise<NewClientAddress[]>;
  /** Each key's first event (retention permitting); keys without events are absent (request-queries.ts). */
  queryKeyFirstSeen(keys: readonly string[]): Promise<Map<string, Date>>;
  /** Throws when the store cannot serve (readiness). */
  ping(): Promise<void>;
  /** Flushes pending group commits and closes. */
  close(): Promise<void>;
}
