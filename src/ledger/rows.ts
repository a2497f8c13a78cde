import { invalidInput } from '../errors.js';
import { BUCKETS, type Bucket, type Buckets, type UsageSource } from '../usage/index.js';
import { EVENT_ID } from '../ids.js';
import { canonicalClientAddress } from './client-address.js';
import { isValidEventId } from './ids.js';
import {
  bucketColumn,
  toNullableBigInt,
  toNullableNumber,
  toNumber,
  type EventsTable,
  type ReservationsTable,
} from './schema.js';
import type { EventOrigin, EventStatus, Reservation, UsageEvent } from './types.js';
import type { Insertable, Selectable } from 'kysely';

/** Mapping between the contract types and table rows, plus the checks that keep rows storable. */

export type EventRow = Insertable<EventsTable>;
export type ReservationRow = Insertable<ReservationsTable>;

const INT64_MAX = (1n << 63n) - 1n;
const BUCKET_SET: ReadonlySet<string> = new Set(BUCKETS);

/** The contract says empty dimensions are null, never ""; normalising keeps rollups and raw equal. */
function dim(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value;
}

function timeMs(time: Date, param: string): number {
  const ms = time instanceof Date ? time.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw invalidInput(param, 'time is not a valid date');
  return ms;
}

/** Latencies may arrive fractional (performance.now()); BIGINT columns hold whole ms. */
function wholeMs(value: number | null | undefined, param: string): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isFinite(value) || value < 0) throw invalidInput(param, 'must be a non-negative number');
  return Math.round(value);
}

function checkTags(tags: Record<string, string>, param: string): string {
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) {
    throw invalidInput(param, 'tags must be an object of strings');
  }
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== 'string') throw invalidInput(param, `tag ${k} must be a string`);
  }
  return JSON.stringify(tags);
}

function bucketValues(buckets: Buckets, param: string): Record<`tok_${Bucket}`, number> {
  if (buckets === null || typeof buckets !== 'object') throw invalidInput(param, 'buckets must be an object');
  for (const key of Object.keys(buckets)) {
    if (!BUCKET_SET.has(key)) throw invalidInput(`${param}.${key}`, `unknown bucket ${key}`);
  }
  const out = {} as Record<`tok_${Bucket}`, number>;
  for (const bucket of BUCKETS) {
    const n = buckets[bucket] ?? 0;
    if (!Number.isSafeInteger(n) || n < 0) {
      throw invalidInput(`${param}.${bucket}`, 'bucket counts must be non-negative integers');
    }
    out[bucketColumn(bucket)] = n;
  }
  return out;
}

const REQUEST_HASH = /^[0-9a-f]{8,128}$/i;

/** Lowercase, so that equal fingerprints sent in either case group together. */
function requestHash(value: string | null | undefined, param: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !REQUEST_HASH.test(value))
    throw invalidInput(param, 'request_hash must be 8 to 128 hex characters');
  return value.toLowerCase();
}

function clientAddress(value: string | null | undefined, param: string): string | null {
  if (value === undefined || value === null) return null;
  const canonical = typeof value === 'string' ? canonicalClientAddress(value) : null;
  if (canonical === null) throw invalidInput(param, 'client_address must be an IPv4 or IPv6 address');
  return canonical;
}

/** Validates an event and maps it to a row; throws invalid_request naming the bad field. */
export function eventToRow(event: UsageEvent, param = 'event'): EventRow {
  if (!isValidEventId(event.id)) {
    throw invalidInput(`${param}.id`, `id must be ${EVENT_ID.description}`);
  }
  if (typeof event.tenant !== 'string') throw invalidInput(`${param}.tenant`, 'tenant must be a string');
  const cost = event.cost_nano;
  if (cost !== null && (typeof cost !== 'bigint' || cost < 0n || cost > INT64_MAX)) {
    throw invalidInput(`${param}.cost_nano`, 'cost_nano must be null or a non-negative 64-bit bigint');
  }
  if (event.http_status !== null && !Number.isInteger(event.http_status)) {
    throw invalidInput(`${param}.http_status`, 'http_status must be an integer');
  }
  if (!Array.isArray(event.usage_issues)) {
    throw invalidInput(`${param}.usage_issues`, 'usage_issues must be an array');
  }
  return {
    id: event.id,
    time_ms: timeMs(event.time, `${param}.time`),
    origin: event.origin,
    source: event.source,
    tenant: event.tenant,
    project: dim(event.project),
    user_id: dim(event.user),
    feature: dim(event.feature),
    key_id: dim(event.key_id),
    trace_id: dim(event.trace_id),
    tags: checkTags(event.tags, `${param}.tags`),
    provider: event.provider,
    requested_model: event.requested_model,
    model: event.model,
    route: event.route,
    status: event.status,
    http_status: event.http_status,
    streamed: event.streamed ? 1 : 0,
    latency_ms: wholeMs(event.latency_ms, `${param}.latency_ms`),
    ttft_ms: wholeMs(event.ttft_ms, `${param}.ttft_ms`),
    ...bucketValues(event.buckets, `${param}.buckets`),
    usage_source: event.usage_source,
    cost_nano: cost,
    price_ref: event.price_ref,
    raw_usage: event.raw_usage === undefined || event.raw_usage === null ? null : JSON.stringify(event.raw_usage),
    usage_issues: JSON.stringify(event.usage_issues),
    request_hash: requestHash(event.request_hash, `${param}.request_hash`),
    client_address: clientAddress(event.client_address, `${param}.client_address`),
  };
}

function parseJson(text: unknown): unknown {
  return typeof text === 'string' ? (JSON.parse(text) as unknown) : null;
}

/**
 * The request fields appear only when known: an event written without them reads back equal to
 * itself, and presentEvent shows them as null.
 */
export function rowToEvent(row: Selectable<EventsTable>): UsageEvent {
  const buckets: Buckets = {};
  for (const bucket of BUCKETS) {
    const n = toNumber(row[bucketColumn(bucket)]);
    if (n !== 0) buckets[bucket] = n;
  }
  const event: UsageEvent = {
    id: row.id,
    time: new Date(toNumber(row.time_ms)),
    origin: row.origin as EventOrigin,
    source: row.source,
    tenant: row.tenant,
    project: row.project,
    user: row.user_id,
    feature: row.feature,
    key_id: row.key_id,
    trace_id: row.trace_id,
    tags: parseJson(row.tags) as Record<string, string>,
    provider: row.provider,
    requested_model: row.requested_model,
    model: row.model,
    route: row.route,
    status: row.status as EventStatus,
    http_status: toNullableNumber(row.http_status),
    streamed: toNumber(row.streamed) !== 0,
    latency_ms: toNullableNumber(row.latency_ms),
    ttft_ms: toNullableNumber(row.ttft_ms),
    buckets,
    usage_source: row.usage_source as UsageSource,
    cost_nano: toNullableBigInt(row.cost_nano),
    price_ref: row.price_ref,
    raw_usage: parseJson(row.raw_usage),
    usage_issues: parseJson(row.usage_issues) as string[],
  };
  if (typeof row.request_hash === 'string') event.request_hash = row.request_hash;
  if (typeof row.client_address === 'string') event.client_address = row.client_address;
  return event;
}

export function reservationToRow(r: Reservation, param = 'reservation'): ReservationRow {
  if (!isValidEventId(r.id)) {
    throw invalidInput(`${param}.id`, `id must be ${EVENT_ID.description}`);
  }
  const estimated = r.estimated_input_tokens;
  if (!Number.isSafeInteger(estimated) || estimated < 0) {
    throw invalidInput(`${param}.estimated_input_tokens`, 'estimated_input_tokens must be a non-negative integer');
  }
  return {
    id: r.id,
    time_ms: timeMs(r.time, `${param}.time`),
    source: r.source,
    tenant: r.tenant,
    project: dim(r.project),
    user_id: dim(r.user),
    feature: dim(r.feature),
    key_id: dim(r.key_id),
    trace_id: dim(r.trace_id),
    tags: checkTags(r.tags, `${param}.tags`),
    provider: r.provider,
    requested_model: r.requested_model,
    route: r.route,
    streamed: r.streamed ? 1 : 0,
    estimated_input_tokens: estimated,
  };
}

export function rowToReservation(row: Selectable<ReservationsTable>): Reservation {
  return {
    id: row.id,
    time: new Date(toNumber(row.time_ms)),
    source: row.source,
    tenant: row.tenant,
    project: row.project,
    user: row.user_id,
    feature: row.feature,
    key_id: row.key_id,
    trace_id: row.trace_id,
    tags: parseJson(row.tags) as Record<string, string>,
    provider: row.provider,
    requested_model: row.requested_model,
    route: row.route,
    streamed: toNumber(row.streamed) !== 0,
    estimated_input_tokens: toNumber(row.estimated_input_tokens),
  };
}
