import { createHash } from 'node:crypto';
import type { Insertable, Kysely, Transaction } from 'kysely';
import { invalidInput } from '../errors.js';
import { BUCKETS, type Bucket } from '../usage/index.js';
import { toBigInt, toNullableBigInt, toNumber, type BillingRowsTable, type LedgerDatabase } from './schema.js';

/**
 * Imported provider bill lines (DESIGN §3 "Billing imports"): storage only. Parsing the providers'
 * files is attribution/billing/; reconciliation reads these rows back with queryBillingRows.
 *
 * Replacement rule: a batch covers, per (source, provider, account), the buckets its rows name.
 * Stored rows of that source+provider+account whose bucket lies inside one of those buckets are
 * the batch's "range": rows there that the batch repeats unchanged are duplicates (left alone),
 * the others are deleted (replaced) and the batch's new or changed rows inserted. So re-importing
 * a file changes nothing, and a corrected re-export of one day replaces that day and nothing else.
 * The whole batch is one transaction: an error leaves nothing half-imported. Two imports of the
 * same buckets at the same moment may collide on the natural key; the loser fails whole and can
 * simply be re-run (imports are idempotent).
 */

/** One bill line as stored. Amounts are nano-USD; bucket bounds are UTC ms, verbatim from the file. */
export interface BillingRow {
  /** The importer: openai-costs, openai-usage, anthropic-cost, anthropic-usage, focus. */
  source: string;
  /** pertoken provider id: openai, anthropic, aws, azure, gcp, … */
  provider: string;
  /** OpenAI project_id, Anthropic workspace_id (synthetic for the default one), FOCUS sub/billing account. */
  account_id: string;
  start_ms: number;
  end_ms: number;
  /** The line's identity inside its bucket (model, token class, tier, line item…); part of the natural key. */
  row_key: string;
  model: string | null;
  /** Canonical usage bucket; null for cost-only lines (tax, credits, compute hours…). */
  bucket: Bucket | null;
  service_tier: string | null;
  batch: boolean | null;
  /** Tokens (or requests for the requests/web_search buckets); null when the line has none. */
  quantity: bigint | null;
  /** null for usage-only sources (the usage reports carry no money). */
  amount_nano: bigint | null;
  currency: string | null;
  /** FOCUS ChargeCategory (Usage, Tax, Credit, Purchase, Adjustment); Usage for the provider APIs. */
  charge_category: string | null;
  /** Line item / description / ChargeDescription, verbatim. */
  description: string | null;
  /** From billing_accounts; null when the account is not mapped (kept and reported, never dropped). */
  tenant: string | null;
  project: string | null;
  file: string;
  /** Where in the file: a JSON path or a CSV line. */
  position: string;
}

export interface StoredBillingRow extends BillingRow {
  import_id: string;
  imported_at_ms: number;
}

export interface BillingImportBatch {
  importId: string;
  rows: readonly BillingRow[];
  now?: Date;
}

export interface BillingImportResult {
  /** Rows newly stored (new lines, or corrected ones). */
  imported: number;
  /** Stored rows removed because a re-export of their bucket no longer has them as they were. */
  replaced: number;
  /** Rows the ledger already held unchanged. */
  duplicates: number;
}

export interface BillingRowQuery {
  /** Buckets starting in [from, to). */
  from: Date;
  to: Date;
  provider?: string;
  source?: string;
}

type Db = Kysely<LedgerDatabase>;
type Insert = Insertable<BillingRowsTable>;

/** Keeps each statement's bind parameters far below SQLite's and PostgreSQL's limits. */
const CHUNK = 200;

function naturalId(row: BillingRow): string {
  return sha256([row.source, row.provider, row.account_id, row.start_ms, row.end_ms, row.row_key]);
}

function contentHash(row: BillingRow): string {
  return sha256([
    row.model,
    row.bucket,
    row.service_tier,
    row.batch,
    row.quantity?.toString() ?? null,
    row.amount_nano?.toString() ?? null,
    row.currency,
    row.charge_category,
    row.description,
    row.tenant,
    row.project,
  ]);
}

function sha256(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

function checkRow(row: BillingRow, i: number): void {
  const at = `rows[${i}]`;
  if (!Number.isSafeInteger(row.start_ms) || !Number.isSafeInteger(row.end_ms) || row.end_ms <= row.start_ms)
    throw invalidInput(`${at}.end_ms`, 'a bucket must end after it starts');
  if (row.bucket !== null && !(BUCKETS as readonly string[]).includes(row.bucket))
    throw invalidInput(`${at}.bucket`, `unknown bucket "${String(row.bucket)}"`);
  for (const field of ['source', 'provider', 'account_id', 'row_key'] as const)
    if (row[field] === '') throw invalidInput(`${at}.${field}`, 'must not be empty');
}

export async function importBillingRows(db: Db, batch: BillingImportBatch): Promise<BillingImportResult> {
  batch.rows.forEach(checkRow);
  const now = (batch.now ?? new Date()).getTime();
  // The batch's rows by id; a line repeated inside the batch counts once (as a duplicate).
  const incoming = new Map<string, { row: BillingRow; hash: string }>();
  let duplicates = 0;
  for (const row of batch.rows) {
    const id = naturalId(row);
    if (incoming.has(id)) duplicates++;
    incoming.set(id, { row, hash: contentHash(row) });
  }
  // Per account: the buckets the batch covers.
  const accounts = new Map<string, { source: string; provider: string; account_id: string; buckets: Set<string> }>();
  for (const { row } of incoming.values()) {
    const key = JSON.stringify([row.source, row.provider, row.account_id]);
    const entry = accounts.get(key) ?? { ...row, buckets: new Set<string>() };
    entry.buckets.add(`${row.start_ms}:${row.end_ms}`);
    accounts.set(key, entry);
  }
  return db.transaction().execute(async (trx) => {
    const stale: string[] = [];
    const kept = new Set<string>();
    for (const account of accounts.values()) {
      const bounds = [...account.buckets].map((b) => b.split(':').map(Number) as [number, number]);
      const min = Math.min(...bounds.map((b) => b[0]));
      const max = Math.max(...bounds.map((b) => b[1]));
      const stored = await trx
        .selectFrom('billing_rows')
        .select(['id', 'row_hash', 'start_ms', 'end_ms'])
        .where('source', '=', account.source)
        .where('provider', '=', account.provider)
        .where('account_id', '=', account.account_id)
        .where('start_ms', '>=', min)
        .where('end_ms', '<=', max)
        .execute();
      for (const s of stored) {
        const start = toNumber(s.start_ms);
        const end = toNumber(s.end_ms);
        if (!bounds.some(([from, to]) => start >= from && end <= to)) continue;
        if (incoming.get(s.id)?.hash === s.row_hash) kept.add(s.id);
        else stale.push(s.id);
      }
    }
    for (let i = 0; i < stale.length; i += CHUNK)
      await trx
        .deleteFrom('billing_rows')
        .where('id', 'in', stale.slice(i, i + CHUNK))
        .execute();
    const inserts: Insert[] = [];
    for (const [id, { row, hash }] of incoming) {
      if (kept.has(id)) continue;
      inserts.push(toInsert(id, hash, row, batch.importId, now));
    }
    await insertChunks(trx, inserts);
    return { imported: inserts.length, replaced: stale.length, duplicates: duplicates + kept.size };
  });
}

async function insertChunks(trx: Transaction<LedgerDatabase>, rows: Insert[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK)
    await trx
      .insertInto('billing_rows')
      .values(rows.slice(i, i + CHUNK))
      .execute();
}

function toInsert(id: string, hash: string, row: BillingRow, importId: string, now: number): Insert {
  return {
    id,
    source: row.source,
    provider: row.provider,
    account_id: row.account_id,
    start_ms: row.start_ms,
    end_ms: row.end_ms,
    row_key: row.row_key,
    row_hash: hash,
    model: row.model,
    bucket: row.bucket,
    service_tier: row.service_tier,
    batch: row.batch === null ? null : row.batch ? 1 : 0,
    quantity: row.quantity,
    amount_nano: row.amount_nano,
    currency: row.currency,
    charge_category: row.charge_category,
    description: row.description,
    tenant: row.tenant,
    project: row.project,
    import_id: importId,
    file: row.file,
    position: row.position,
    imported_at_ms: now,
  };
}

/** Rows whose bucket starts in [from, to), in a stable order (time, source, provider, account, key). */
export async function queryBillingRows(db: Db, query: BillingRowQuery): Promise<StoredBillingRow[]> {
  let q = db
    .selectFrom('billing_rows')
    .selectAll()
    .where('start_ms', '>=', query.from.getTime())
    .where('start_ms', '<', query.to.getTime());
  if (query.provider !== undefined) q = q.where('provider', '=', query.provider);
  if (query.source !== undefined) q = q.where('source', '=', query.source);
  const rows = await q
    .orderBy('start_ms')
    .orderBy('source')
    .orderBy('provider')
    .orderBy('account_id')
    .orderBy('row_key')
    .execute();
  return rows.map((r) => ({
    source: r.source,
    provider: r.provider,
    account_id: r.account_id,
    start_ms: toNumber(r.start_ms),
    end_ms: toNumber(r.end_ms),
    row_key: r.row_key,
    model: r.model,
    bucket: r.bucket as Bucket | null,
    service_tier: r.service_tier,
    batch: r.batch === null ? null : toNumber(r.batch) === 1,
    quantity: toNullableBigInt(r.quantity),
    amount_nano: r.amount_nano === null ? null : toBigInt(r.amount_nano),
    currency: r.currency,
    charge_category: r.charge_category,
    description: r.description,
    tenant: r.tenant,
    project: r.project,
    import_id: r.import_id,
    file: r.file,
    position: r.position,
    imported_at_ms: toNumber(r.imported_at_ms),
  }));
}
