import { sql, type Insertable, type Kysely, type RawBuilder } from 'kysely';
import { BUCKET_COLUMNS, ROLLUP_DIMS, toBigInt, type LedgerDatabase, type RollupHourlyTable } from './schema.js';
import type { EventRow } from './rows.js';

/**
 * Incremental hourly rollups. Deltas are summed in memory per (hour, dimensions) first, so one
 * upsert statement never touches the same key twice (PostgreSQL rejects that for DO UPDATE), then
 * added to the stored row with ON CONFLICT ... DO UPDATE — the same SQL on both dialects.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Rows per upsert statement: ~26 parameters each stays far below SQLite's and pg's limits. */
const UPSERT_CHUNK = 200;

export function floorTo(ms: number, unit: number): number {
  return Math.floor(ms / unit) * unit;
}

type RollupRow = Insertable<RollupHourlyTable>;
type Sums = Record<string, bigint>;

const SUM_COLUMNS = ['requests', 'cost_nano', 'unpriced_requests', 'estimated_requests', ...BUCKET_COLUMNS] as const;

function rollupKey(row: EventRow): { key: string; dims: Record<(typeof ROLLUP_DIMS)[number], string> } {
  const dims = {
    tenant: row.tenant,
    project: row.project ?? '',
    key_id: row.key_id ?? '',
    feature: row.feature ?? '',
    user_id: row.user_id ?? '',
    provider: row.provider,
    model: row.model,
    requested_model: row.requested_model,
  };
  const hour = floorTo(Number(row.time_ms), HOUR_MS);
  return { key: JSON.stringify([hour, ...ROLLUP_DIMS.map((d) => dims[d])]), dims };
}

/** Sums the given (freshly inserted) event rows into one delta per rollup key. */
export function rollupDeltas(rows: readonly EventRow[]): RollupRow[] {
  const byKey = new Map<string, { hour_ms: number; dims: Record<string, string>; sums: Sums }>();
  for (const row of rows) {
    const { key, dims } = rollupKey(row);
    let entry = byKey.get(key);
    if (entry === undefined) {
      const sums: Sums = {};
      for (const column of SUM_COLUMNS) sums[column] = 0n;
      entry = { hour_ms: floorTo(Number(row.time_ms), HOUR_MS), dims, sums };
      byKey.set(key, entry);
    }
    const s = entry.sums;
    s.requests = (s.requests ?? 0n) + 1n;
    if (row.cost_nano === null || row.cost_nano === undefined) {
      s.unpriced_requests = (s.unpriced_requests ?? 0n) + 1n;
    } else {
      s.cost_nano = (s.cost_nano ?? 0n) + toBigInt(row.cost_nano);
    }
    if (row.usage_source === 'estimated') s.estimated_requests = (s.estimated_requests ?? 0n) + 1n;
    for (const column of BUCKET_COLUMNS) {
      s[column] = (s[column] ?? 0n) + toBigInt(row[column] ?? 0);
    }
  }
  // One global key order: concurrent transactions (PostgreSQL replicas) then lock rollup rows in
  // the same order and cannot deadlock on each other.
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, { hour_ms, dims, sums }]) => ({ hour_ms, ...dims, ...sums }) as RollupRow);
}

function addExcluded(column: string): RawBuilder<bigint> {
  return sql<bigint>`${sql.ref(`rollup_hourly.${column}`)} + ${sql.ref(`excluded.${column}`)}`;
}

/** Adds deltas to rollup_hourly inside the caller's transaction. */
export async function applyRollupDeltas(db: Kysely<LedgerDatabase>, deltas: readonly RollupRow[]): Promise<void> {
  const increments: Record<string, RawBuilder<bigint>> = {};
  for (const column of SUM_COLUMNS) increments[column] = addExcluded(column);
  for (let i = 0; i < deltas.length; i += UPSERT_CHUNK) {
    await db
      .insertInto('rollup_hourly')
      .values(deltas.slice(i, i + UPSERT_CHUNK))
      .onConflict((oc) => oc.columns(['hour_ms', ...ROLLUP_DIMS]).doUpdateSet(increments))
      .execute();
  }
}
