import type { Kysely } from 'kysely';
import { invalidInput } from '../errors.js';
import { modelFamilyMatch } from '../glob.js';
import { EVENT_ID } from '../ids.js';
import { isValidEventId } from './ids.js';
import { RollupBatch, applyRollups } from './rollups.js';
import { rowToEvent } from './rows.js';
import { toBigInt, toNumber, type AdjustmentRow, type LedgerDatabase } from './schema.js';
import type { UsageEvent } from './types.js';

/**
 * Adjustments (DESIGN §5): a late price change, a credit or a correction becomes a signed amount
 * appended beside the events, never an edit of them. Each adjustment carries its event's time and
 * dimensions and is summed into adjustment_nano of both rollups (hourly and daily) in the same
 * transaction, so a report shows list cost, adjustments and net without joining.
 */

type Db = Kysely<LedgerDatabase>;

/** What the current price book says an event costs (null: still no price). */
export type RepricePricer = (event: UsageEvent) => { cost_nano: bigint | null; price_ref: string | null };

export interface RepriceOptions {
  provider: string;
  /**
   * The served models (the `model` column), under the one glob rule (src/glob.ts): a glob, or a
   * plain name that also matches its dated snapshots (`gpt-4o` -> `gpt-4o-2024-08-06`).
   */
  model: string;
  /** Event time range [from, to). */
  from: Date;
  to: Date;
  pricer: RepricePricer;
  /** Compute and count, write nothing. */
  dryRun?: boolean;
  /**
   * Events whose cost the sender supplied (price_ref `reported:…`) keep it unless this is set:
   * the sender's invoice is the better truth than our price book.
   */
  includeReported?: boolean;
  /** Stored on each adjustment. Default "reprice". */
  reason?: string;
  /** Events per page and per transaction (memory stays bounded by it). Default 1000. */
  pageSize?: number;
  now?: () => Date;
}

export interface RepriceResult {
  /** The stored model names the `model` option matched in the range. */
  models: string[];
  /** When nothing matched: every model of that provider the range holds, to say what to ask for. */
  models_in_range: string[];
  /** Events of that provider/model in the range. */
  scanned: number;
  /** Adjustments appended (or that would be, in a dry run). */
  adjusted: number;
  /** Of those, events that had no list price and now have one. */
  newly_priced: number;
  /** Signed nano-USD sum of the adjustments appended. */
  delta_nano: bigint;
  /** Already at the current price (list + earlier adjustments). */
  unchanged: number;
  /** Not billed (refused calls), never repriced. */
  skipped_not_billed: number;
  /** Sender-reported costs left alone (see includeReported). */
  skipped_reported: number;
  /** The price book has no price for them now; a price once given is kept, never taken back. */
  no_price: number;
  /** Another writer appended the same revision first (a concurrent reprice); run again to converge. */
  conflicts: number;
}

/** A credit or charge not tied to one event (`pertoken adjust`). */
export interface ManualAdjustment {
  /** Idempotency key; re-sending the same id adds nothing. Default: a fresh id. */
  id: string;
  time: Date;
  tenant: string;
  project?: string | null;
  user?: string | null;
  feature?: string | null;
  key_id?: string | null;
  provider: string;
  model: string;
  /** Signed nano-USD: negative for a credit. */
  amount_nano: bigint;
  reason: string;
}

const DEFAULT_PAGE = 1000;
const ID_CHUNK = 500;
const INSERT_CHUNK = 200;
const INT64_MAX = (1n << 63n) - 1n;

function checkMs(date: Date, param: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw invalidInput(param, `${param} is not a valid date`);
  return ms;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Inserts adjustments (ON CONFLICT DO NOTHING on the id and the (event_id, revision) key) and adds
 * only the rows actually inserted to the rollups. Runs inside the caller's transaction.
 */
export async function insertAdjustmentRows(db: Db, rows: readonly AdjustmentRow[]): Promise<Set<string>> {
  const inserted = new Set<string>();
  const ordered = [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const chunk of chunks(ordered, INSERT_CHUNK)) {
    const returned = await db
      .insertInto('adjustments')
      .values(chunk)
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .execute();
    for (const r of returned) inserted.add(r.id);
  }
  const rollups = new RollupBatch();
  for (const row of ordered) if (inserted.has(row.id)) rollups.addAdjustment(row);
  await applyRollups(db, rollups);
  return inserted;
}

/** Appends one manual adjustment; false when its id was already recorded (nothing added). */
export async function addManualAdjustment(
  db: Db,
  adjustment: ManualAdjustment,
  now: Date = new Date(),
): Promise<boolean> {
  const a = adjustment;
  if (!isValidEventId(a.id)) throw invalidInput('id', `id must be ${EVENT_ID.description}`);
  if (typeof a.tenant !== 'string' || a.tenant === '') throw invalidInput('tenant', 'tenant is required');
  if (typeof a.provider !== 'string' || a.provider === '') throw invalidInput('provider', 'provider is required');
  if (typeof a.model !== 'string' || a.model === '') throw invalidInput('model', 'model is required');
  if (typeof a.amount_nano !== 'bigint' || a.amount_nano > INT64_MAX || a.amount_nano < -INT64_MAX) {
    throw invalidInput('amount', 'amount must be a 64-bit nano-USD bigint');
  }
  if (typeof a.reason !== 'string' || a.reason.trim() === '') throw invalidInput('reason', 'reason is required');
  const row: AdjustmentRow = {
    id: a.id,
    event_id: null,
    revision: 0,
    time_ms: checkMs(a.time, 'time'),
    tenant: a.tenant,
    project: a.project || null,
    user_id: a.user || null,
    feature: a.feature || null,
    key_id: a.key_id || null,
    provider: a.provider,
    model: a.model,
    requested_model: a.model,
    amount_nano: a.amount_nano,
    reason: a.reason,
    price_ref_before: null,
    price_ref_after: null,
    created_at_ms: now.getTime(),
  };
  const inserted = await db.transaction().execute((trx) => insertAdjustmentRows(trx, [row]));
  return inserted.size === 1;
}

interface EventState {
  sum: bigint;
  revision: number;
  lastRef: string | null;
}

async function adjustmentState(db: Db, eventIds: readonly string[]): Promise<Map<string, EventState>> {
  const state = new Map<string, EventState>();
  for (const chunk of chunks(eventIds, ID_CHUNK)) {
    const rows = await db
      .selectFrom('adjustments')
      .select(['event_id', 'revision', 'amount_nano', 'price_ref_after'])
      .where('event_id', 'in', chunk)
      .execute();
    for (const row of rows) {
      if (row.event_id === null) continue;
      const s = state.get(row.event_id) ?? { sum: 0n, revision: 0, lastRef: null };
      s.sum += toBigInt(row.amount_nano);
      const revision = toNumber(row.revision);
      if (revision > s.revision) {
        s.revision = revision;
        s.lastRef = row.price_ref_after;
      }
      state.set(row.event_id, s);
    }
  }
  return state;
}

export function emptyRepriceResult(): RepriceResult {
  return {
    models: [],
    models_in_range: [],
    scanned: 0,
    adjusted: 0,
    newly_priced: 0,
    delta_nano: 0n,
    unchanged: 0,
    skipped_not_billed: 0,
    skipped_reported: 0,
    no_price: 0,
    conflicts: 0,
  };
}

/**
 * Reprices one provider/model over [from, to): pages through the events by (time_ms, id), asks
 * `pricer` for each event's cost now, and appends an adjustment where it differs from list cost
 * plus the adjustments so far. Running it again with the same prices appends nothing. An event
 * without a list price that now has one gets an adjustment of its whole cost; its list cost stays
 * null (it still counts as unpriced at list), the adjustment carries the money.
 */
export async function reprice(db: Db, options: RepriceOptions): Promise<RepriceResult> {
  const fromMs = checkMs(options.from, 'from');
  const toMs = checkMs(options.to, 'to');
  if (typeof options.provider !== 'string' || options.provider === '')
    throw invalidInput('provider', 'provider is required');
  if (typeof options.model !== 'string' || options.model === '') throw invalidInput('model', 'model is required');
  if (fromMs >= toMs) throw invalidInput('from', 'from must be earlier than to');
  const pageSize = options.pageSize ?? DEFAULT_PAGE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1)
    throw invalidInput('pageSize', 'pageSize must be a positive integer');
  const reason = options.reason ?? 'reprice';
  const now = options.now ?? (() => new Date());
  const result = emptyRepriceResult();
  const stored = await db
    .selectFrom('events')
    .select('model')
    .distinct()
    .where('provider', '=', options.provider)
    .where('time_ms', '>=', fromMs)
    .where('time_ms', '<', toMs)
    .orderBy('model')
    .execute();
  const inRange = stored.map((r) => r.model);
  result.models = inRange.filter((m) => modelFamilyMatch(options.model, m));
  if (result.models.length === 0) {
    result.models_in_range = inRange;
    return result;
  }

  let cursor: { timeMs: number; id: string } | null = null;
  for (;;) {
    let q = db
      .selectFrom('events')
      .selectAll()
      .where('provider', '=', options.provider)
      .where('model', 'in', result.models)
      .where('time_ms', '>=', fromMs)
      .where('time_ms', '<', toMs);
    if (cursor !== null) {
      const c = cursor;
      q = q.where((eb) => eb(eb.refTuple('time_ms', 'id'), '>', eb.tuple(c.timeMs, c.id)));
    }
    const rows = await q.orderBy('time_ms', 'asc').orderBy('id', 'asc').limit(pageSize).execute();
    const last = rows[rows.length - 1];
    if (last === undefined) return result;
    cursor = { timeMs: toNumber(last.time_ms), id: last.id };
    result.scanned += rows.length;

    // The pricer is caller code and may throw: it runs before any transaction opens.
    const candidates: Array<{ event: UsageEvent; cost: bigint; ref: string | null }> = [];
    for (const row of rows) {
      const event = rowToEvent(row);
      if (event.price_ref === 'not-billed') {
        result.skipped_not_billed++;
        continue;
      }
      if (event.price_ref?.startsWith('reported:') && options.includeReported !== true) {
        result.skipped_reported++;
        continue;
      }
      const priced = options.pricer(event);
      if (priced.cost_nano === null) {
        result.no_price++;
        continue;
      }
      candidates.push({ event, cost: priced.cost_nano, ref: priced.price_ref });
    }
    if (candidates.length === 0) continue;

    const page = async (trx: Db): Promise<void> => {
      const state = await adjustmentState(
        trx,
        candidates.map((c) => c.event.id),
      );
      const pending: AdjustmentRow[] = [];
      const firstPrice = new Set<string>();
      const createdAt = now().getTime();
      for (const { event, cost, ref } of candidates) {
        const s = state.get(event.id) ?? { sum: 0n, revision: 0, lastRef: null };
        const priced = event.cost_nano !== null || s.revision > 0;
        const current = (event.cost_nano ?? 0n) + s.sum;
        if (priced && cost === current) {
          result.unchanged++;
          continue;
        }
        const revision = s.revision + 1;
        const id = `adj:${revision}:${event.id}`;
        if (!priced) firstPrice.add(id);
        pending.push({
          id,
          event_id: event.id,
          revision,
          time_ms: event.time.getTime(),
          tenant: event.tenant,
          project: event.project,
          user_id: event.user,
          feature: event.feature,
          key_id: event.key_id,
          provider: event.provider,
          model: event.model,
          requested_model: event.requested_model,
          amount_nano: cost - current,
          reason,
          price_ref_before: s.revision > 0 ? s.lastRef : event.price_ref,
          price_ref_after: ref,
          created_at_ms: createdAt,
        });
      }
      const inserted =
        options.dryRun === true ? new Set(pending.map((p) => p.id)) : await insertAdjustmentRows(trx, pending);
      for (const row of pending) {
        if (!inserted.has(row.id)) {
          result.conflicts++;
          continue;
        }
        result.adjusted++;
        if (firstPrice.has(row.id)) result.newly_priced++;
        result.delta_nano += toBigInt(row.amount_nano);
      }
    };
    if (options.dryRun === true) await page(db);
    else await db.transaction().execute(page);
  }
}

/** Adjustments dated in [from, to) whose id starts with `idPrefix` (reconciliation reads its own back). */
export interface AdjustmentQuery {
  from: Date;
  to: Date;
  idPrefix: string;
}

export interface StoredAdjustment {
  id: string;
  time_ms: number;
  tenant: string;
  project: string | null;
  provider: string;
  model: string;
  amount_nano: bigint;
  reason: string;
}

export async function queryAdjustments(db: Db, query: AdjustmentQuery): Promise<StoredAdjustment[]> {
  const from = checkMs(query.from, 'from');
  const to = checkMs(query.to, 'to');
  // `_` is a LIKE wildcard and ids may hold it: LIKE narrows, startsWith decides.
  const rows = await db
    .selectFrom('adjustments')
    .select(['id', 'time_ms', 'tenant', 'project', 'provider', 'model', 'amount_nano', 'reason'])
    .where('time_ms', '>=', from)
    .where('time_ms', '<', to)
    .where('id', 'like', `${query.idPrefix}%`)
    .orderBy('id')
    .execute();
  return rows
    .filter((r) => r.id.startsWith(query.idPrefix))
    .map((r) => ({
      id: r.id,
      time_ms: toNumber(r.time_ms),
      tenant: r.tenant,
      project: r.project,
      provider: r.provider,
      model: r.model,
      amount_nano: toBigInt(r.amount_nano),
      reason: r.reason,
    }));
}
