import { sql, type Kysely } from 'kysely';
import { PertokenError } from '../errors.js';
import { toNumber, type LedgerDatabase } from './schema.js';

/**
 * Reads over who sent what (migration 0004's request_hash and client_address), for the
 * key-abuse and request-loop detectors. Raw events only: no rollup keeps a fingerprint or an
 * address. Every query is one statement, the same on both dialects, and bounded by a time range
 * or by one index seek per key (events_key_time_idx).
 */

export interface RequestRepeatQuery {
  from: Date;
  to: Date;
  /** Only fingerprints seen at least this often in [from, to) (at least 2). */
  minCount: number;
}

/** One fingerprint sent `count` times by one key in the range. */
export interface RequestRepeat {
  tenant: string;
  key_id: string | null;
  request_hash: string;
  count: number;
  first: Date;
  last: Date;
}

export interface ClientAddressQuery {
  /** The window in which addresses are looked for: [from, to). */
  from: Date;
  to: Date;
  /** Addresses the key used in [seenSince, from) are not new. */
  seenSince: Date;
}

/** An address a key used in [from, to) and never in [seenSince, from). */
export interface NewClientAddress {
  tenant: string;
  key_id: string;
  client_address: string;
  /** The key's requests from this address in [from, to). */
  requests: number;
  first: Date;
  last: Date;
  /** The key's first event in the whole ledger (retention permitting): how old the key is. */
  key_first_seen: Date;
}

type Db = Kysely<LedgerDatabase>;

function ms(value: Date, param: string): number {
  const t = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(t)) throw new PertokenError('invalid_request', `${param} is not a valid date`, { param });
  return t;
}

/** Fingerprints sent at least `minCount` times per (tenant, key) in [from, to), most repeated first. */
export async function queryRequestRepeats(db: Db, query: RequestRepeatQuery): Promise<RequestRepeat[]> {
  const fromMs = ms(query.from, 'from');
  const toMs = ms(query.to, 'to');
  if (!Number.isSafeInteger(query.minCount) || query.minCount < 2)
    throw new PertokenError('invalid_request', 'minCount must be an integer of at least 2', { param: 'minCount' });
  if (fromMs >= toMs) return [];
  const rows = await db
    .selectFrom('events')
    .select(['tenant', 'key_id', 'request_hash'])
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('time_ms').as('first_ms'), eb.fn.max('time_ms').as('last_ms')])
    .where('time_ms', '>=', fromMs)
    .where('time_ms', '<', toMs)
    .where('request_hash', 'is not', null)
    .groupBy(['tenant', 'key_id', 'request_hash'])
    .having((eb) => eb(eb.fn.countAll(), '>=', query.minCount))
    .execute();
  return rows
    .map((r) => ({
      tenant: r.tenant,
      key_id: r.key_id,
      request_hash: r.request_hash ?? '',
      count: toNumber(r.n),
      first: new Date(toNumber(r.first_ms)),
      last: new Date(toNumber(r.last_ms)),
    }))
    .sort(
      (a, b) => b.count - a.count || compare(a.key_id ?? '', b.key_id ?? '') || compare(a.request_hash, b.request_hash),
    );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * For every key at once: the addresses it used in [from, to) that it never used in
 * [seenSince, from), with the key's age. The range is grouped first, so the "used before?" probe
 * runs once per (key, address) pair — a short read of one key's index entries that stops at the
 * first match — not once per event.
 */
export async function queryClientAddresses(db: Db, query: ClientAddressQuery): Promise<NewClientAddress[]> {
  const fromMs = ms(query.from, 'from');
  const toMs = ms(query.to, 'to');
  const sinceMs = ms(query.seenSince, 'seenSince');
  if (sinceMs > fromMs)
    throw new PertokenError('invalid_request', 'seenSince must not be after from', { param: 'seenSince' });
  if (fromMs >= toMs) return [];
  const recent = db
    .selectFrom('events')
    .select(['tenant', 'key_id', 'client_address'])
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('time_ms').as('first_ms'), eb.fn.max('time_ms').as('last_ms')])
    .where('time_ms', '>=', fromMs)
    .where('time_ms', '<', toMs)
    .where('key_id', 'is not', null)
    .where('client_address', 'is not', null)
    .groupBy(['tenant', 'key_id', 'client_address']);
  const rows = await db
    .selectFrom(recent.as('r'))
    .selectAll('r')
    .select((eb) =>
      eb
        .selectFrom('events as f')
        .select((f) => f.fn.min('f.time_ms').as('m'))
        .whereRef('f.key_id', '=', 'r.key_id')
        .as('key_first_ms'),
    )
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('events as p')
            .select(sql<number>`1`.as('one'))
            .whereRef('p.key_id', '=', 'r.key_id')
            .whereRef('p.client_address', '=', 'r.client_address')
            .where('p.time_ms', '>=', sinceMs)
            .where('p.time_ms', '<', fromMs),
        ),
      ),
    )
    .execute();
  return rows
    .map((r) => ({
      tenant: r.tenant,
      key_id: r.key_id ?? '',
      client_address: r.client_address ?? '',
      requests: toNumber(r.n),
      first: new Date(toNumber(r.first_ms)),
      last: new Date(toNumber(r.last_ms)),
      key_first_seen: new Date(toNumber(r.key_first_ms)),
    }))
    .sort(
      (a, b) => compare(a.key_id, b.key_id) || b.requests - a.requests || compare(a.client_address, b.client_address),
    );
}

/** Scalar subqueries per statement: one index seek each, well under both dialects' limits. */
const FIRST_SEEN_CHUNK = 100;

/**
 * Each key's first event (retention permitting); keys without events are absent. One statement
 * of scalar subqueries — `min(time_ms) where key_id = ?` is a single seek on events_key_time_idx
 * on both dialects, where `group by key_id` would read every event of a busy key.
 */
export async function queryKeyFirstSeen(db: Db, keys: readonly string[]): Promise<Map<string, Date>> {
  const unique = [...new Set(keys)];
  const out = new Map<string, Date>();
  for (let i = 0; i < unique.length; i += FIRST_SEEN_CHUNK) {
    const chunk = unique.slice(i, i + FIRST_SEEN_CHUNK);
    const row = await db
      .selectNoFrom((eb) =>
        chunk.map((key, j) =>
          eb
            .selectFrom('events')
            .select((s) => s.fn.min('time_ms').as('m'))
            .where('key_id', '=', key)
            .as(`k${j}`),
        ),
      )
      .executeTakeFirstOrThrow();
    const values = row as Record<string, unknown>;
    chunk.forEach((key, j) => {
      const value = values[`k${j}`];
      if (value !== null && value !== undefined) out.set(key, new Date(toNumber(value)));
    });
  }
  return out;
}
