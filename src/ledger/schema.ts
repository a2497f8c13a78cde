import type { ColumnType, Insertable } from 'kysely';
import { BUCKETS, type Bucket } from '../usage/index.js';

/**
 * Kysely table types shared by every dialect. Column types are the dialect-neutral subset: BIGINT
 * for money, counts and ms-epoch times; TEXT for ids, dimensions and JSON; INTEGER 0/1 for flags.
 *
 * BIGINT reads differ by driver (better-sqlite3 with safe integers: bigint; pg: string), so every
 * BIGINT column reads as `bigint | number | string` and goes through `toBigInt`/`toNumber`.
 */
export type Int8 = ColumnType<bigint | number | string, bigint | number, bigint | number>;
export type Int4 = ColumnType<bigint | number | string, number, number>;
/** A BIGINT with a column default: optional on insert. */
export type Int8Default = ColumnType<bigint | number | string, bigint | number | undefined, bigint | number>;

/** Column holding the count of one exclusive usage bucket, e.g. `tok_cache_read`. */
export type BucketColumn = `tok_${Bucket}`;
export type BucketColumns = { [B in Bucket as `tok_${B}`]: Int8 };

export function bucketColumn(bucket: Bucket): BucketColumn {
  return `tok_${bucket}`;
}

export const BUCKET_COLUMNS: readonly BucketColumn[] = BUCKETS.map(bucketColumn);

export interface EventsTable extends BucketColumns {
  id: string;
  time_ms: Int8;
  origin: string;
  source: string;
  tenant: string;
  project: string | null;
  user_id: string | null;
  feature: string | null;
  key_id: string | null;
  trace_id: string | null;
  /** JSON object text. */
  tags: string;
  provider: string;
  requested_model: string;
  model: string;
  route: string;
  status: string;
  http_status: Int4 | null;
  streamed: Int4;
  latency_ms: Int8 | null;
  ttft_ms: Int8 | null;
  usage_source: string;
  /** nano-USD; NULL = unpriced. */
  cost_nano: Int8 | null;
  price_ref: string | null;
  /** JSON text of the provider's usage object, NULL when none. */
  raw_usage: string | null;
  /** JSON array text. */
  usage_issues: string;
  /** Fingerprint of the request (32+ lowercase hex), NULL when unknown (migration 0004). */
  request_hash: string | null;
  /** Canonical IP literal of the client, NULL when unknown (migration 0004). */
  client_address: string | null;
}

export interface ReservationsTable {
  id: string;
  time_ms: Int8;
  source: string;
  tenant: string;
  project: string | null;
  user_id: string | null;
  feature: string | null;
  key_id: string | null;
  trace_id: string | null;
  tags: string;
  provider: string;
  requested_model: string;
  route: string;
  streamed: Int4;
  estimated_input_tokens: Int8;
}

/** The sums every rollup row carries (added up on conflict). */
export interface RollupSums extends BucketColumns {
  requests: Int8;
  /** List cost of the priced events (unpriced ones add nothing). */
  cost_nano: Int8;
  unpriced_requests: Int8;
  estimated_requests: Int8;
  /** Signed sum of the adjustments (nano-USD) dated in this bucket. */
  adjustment_nano: Int8Default;
  /** Events of status `refused` (migration 0005); they are not in `requests`. */
  refused_requests: Int8Default;
}

/**
 * Hourly rollup over DESIGN §6's dimensions (no user: per-user reports read raw events). Nullable
 * dimensions are stored as '' (a value the contract never allows for a real dimension) because a
 * primary key cannot hold NULLs; reads map '' back to null.
 */
export interface RollupHourlyTable extends RollupSums {
  hour_ms: Int8;
  tenant: string;
  project: string;
  key_id: string;
  feature: string;
  provider: string;
  model: string;
  requested_model: string;
}

/** Daily (UTC) rollup: the hourly one without hour and key, for reports over whole days. */
export interface RollupDailyTable extends RollupSums {
  day_ms: Int8;
  tenant: string;
  project: string;
  feature: string;
  provider: string;
  model: string;
  requested_model: string;
}

/**
 * A correction of a cost (repricing, credit), appended and never updated (migration 0002). It is
 * dated at its event's time and carries the event's dimensions, so it lands in the same rollup row.
 */
export interface AdjustmentsTable {
  id: string;
  /** The corrected event; NULL for a manual credit or charge not tied to one event. */
  event_id: string | null;
  /** 1, 2, ... per event: the n-th correction of that event; 0 for manual adjustments. */
  revision: Int8;
  time_ms: Int8;
  tenant: string;
  project: string | null;
  user_id: string | null;
  feature: string | null;
  key_id: string | null;
  provider: string;
  model: string;
  requested_model: string;
  /** Signed nano-USD added to the cost. */
  amount_nano: Int8;
  reason: string;
  price_ref_before: string | null;
  price_ref_after: string | null;
  created_at_ms: Int8;
}

export type AdjustmentRow = Insertable<AdjustmentsTable>;

export interface LedgerDatabase {
  events: EventsTable;
  reservations: ReservationsTable;
  rollup_hourly: RollupHourlyTable;
  rollup_daily: RollupDailyTable;
  adjustments: AdjustmentsTable;
  billing_rows: BillingRowsTable;
}

/** Imported provider bill lines (migration 0003; billing-rows.ts). */
export interface BillingRowsTable {
  id: string;
  source: string;
  provider: string;
  account_id: string;
  start_ms: Int8;
  end_ms: Int8;
  row_key: string;
  row_hash: string;
  model: string | null;
  bucket: string | null;
  service_tier: string | null;
  /** 0/1; NULL when the source does not say. */
  batch: Int4 | null;
  quantity: Int8 | null;
  amount_nano: Int8 | null;
  currency: string | null;
  charge_category: string | null;
  description: string | null;
  tenant: string | null;
  project: string | null;
  import_id: string;
  file: string;
  position: string;
  imported_at_ms: Int8;
}

/**
 * Hourly rollup dimensions in primary-key order (after hour_ms). The order follows how reports
 * group: tenant × model (× day) first, so that SQLite aggregates the most common report in key
 * order, one group after the other, instead of sorting every row of the range into a temp B-tree.
 */
export const HOURLY_DIMS = ['tenant', 'model', 'provider', 'requested_model', 'project', 'key_id', 'feature'] as const;
/** Daily rollup dimensions in primary-key order (after day_ms), ordered like HOURLY_DIMS. */
export const DAILY_DIMS = ['tenant', 'model', 'provider', 'requested_model', 'project', 'feature'] as const;
export type HourlyDim = (typeof HOURLY_DIMS)[number];
export type DailyDim = (typeof DAILY_DIMS)[number];
/** @deprecated the hourly dimensions under their first name (benchmarks/ledger-write.mjs). */
export const ROLLUP_DIMS = HOURLY_DIMS;

/**
 * Sum columns of both rollups, in the order the write paths bind them and packed query results
 * list them; the token buckets stay last. Migrations add columns (0005: refused_requests): the
 * tables' own column order does not matter, every statement names its columns.
 */
export const ROLLUP_SUM_COLUMNS = [
  'requests',
  'cost_nano',
  'unpriced_requests',
  'estimated_requests',
  'adjustment_nano',
  'refused_requests',
  ...BUCKET_COLUMNS,
] as const satisfies ReadonlyArray<keyof RollupSums>;
export type RollupSumColumn = (typeof ROLLUP_SUM_COLUMNS)[number];

/**
 * Position of each sum in ROLLUP_SUM_COLUMNS: the order in which rollup entries hold their sums
 * and packed query results list them (`tok_input` is the first of the token buckets).
 */
export const SUM_OFFSET = Object.fromEntries(ROLLUP_SUM_COLUMNS.map((column, i) => [column, i])) as Readonly<
  Record<RollupSumColumn, number>
>;

export function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  // pg returns BIGINT and SUM(BIGINT) (numeric) as decimal strings.
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  if (value === null || value === undefined) return 0n;
  throw new TypeError(`not an integer from the database: ${String(value)}`);
}

/** For counts that stay far below 2^53 (tokens, latencies, request counts). */
export function toNumber(value: unknown): number {
  return Number(toBigInt(value));
}

export function toNullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

export function toNullableBigInt(value: unknown): bigint | null {
  return value === null || value === undefined ? null : toBigInt(value);
}
