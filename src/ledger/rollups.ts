import { sql, type Kysely } from 'kysely';
import type { EventRow } from './rows.js';
import {
  BUCKET_COLUMNS,
  DAILY_DIMS,
  HOURLY_DIMS,
  ROLLUP_SUM_COLUMNS,
  SUM_OFFSET,
  type AdjustmentRow,
  type LedgerDatabase,
} from './schema.js';

/**
 * Incremental rollups, hourly (DESIGN §6's dimensions) and daily (without hour and key), kept in
 * the same transaction as the rows they sum. Every write path first sums its freshly inserted
 * events and adjustments in memory (RollupBatch), so one batch adds each rollup key once — one
 * upsert row per key, which PostgreSQL requires for DO UPDATE and which keeps SQLite's B-tree
 * work per event small — then adds the sums to the stored rows with ON CONFLICT ... DO UPDATE.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export function floorTo(ms: number, unit: number): number {
  return Math.floor(ms / unit) * unit;
}

export type RollupTable = 'rollup_hourly' | 'rollup_daily';

/** Columns of each rollup in the positional order of a RollupEntry. */
export const ROLLUP_COLUMNS = {
  rollup_hourly: ['hour_ms', ...HOURLY_DIMS, ...ROLLUP_SUM_COLUMNS],
  rollup_daily: ['day_ms', ...DAILY_DIMS, ...ROLLUP_SUM_COLUMNS],
} as const satisfies Record<RollupTable, readonly string[]>;

/** Primary key of each rollup (the ON CONFLICT target). */
export const ROLLUP_KEYS = {
  rollup_hourly: ['hour_ms', ...HOURLY_DIMS],
  rollup_daily: ['day_ms', ...DAILY_DIMS],
} as const satisfies Record<RollupTable, readonly string[]>;

/** A sum stays a JS number while it is a safe integer and becomes a bigint past 2^53. */
export type Sum = number | bigint;

/**
 * One rollup row being built: [bucket start ms, ...dimensions ('' for null), ...sums] in
 * ROLLUP_COLUMNS order — positional, so SQLite binds it as is and PostgreSQL transposes it.
 */
export type RollupEntry = Array<string | Sum>;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);

/** Exact addition that stays on fast doubles until a sum would leave the safe-integer range. */
export function addSum(a: Sum, b: Sum): Sum {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (s <= MAX_SAFE && s >= -MAX_SAFE) return s;
  }
  return BigInt(a) + BigInt(b);
}

/** A stored integer (bigint, number or pg's decimal string) as a Sum. */
function toSum(value: unknown): Sum {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return value <= MAX_SAFE_BIG && value >= -MAX_SAFE_BIG ? Number(value) : value;
  if (typeof value === 'string') return toSum(BigInt(value));
  return 0;
}

/** Offsets inside an entry's sums. */
const REQUESTS = SUM_OFFSET.requests;
const COST = SUM_OFFSET.cost_nano;
const UNPRICED = SUM_OFFSET.unpriced_requests;
const ESTIMATED = SUM_OFFSET.estimated_requests;
const ADJUSTMENT = SUM_OFFSET.adjustment_nano;
const REFUSED = SUM_OFFSET.refused_requests;
const TOKENS = SUM_OFFSET.tok_input;
const SUMS = ROLLUP_SUM_COLUMNS.length;
const HOURLY_BASE = 1 + HOURLY_DIMS.length;
const DAILY_BASE = 1 + DAILY_DIMS.length;

interface Dimensions {
  time_ms: unknown;
  tenant: string;
  project?: string | null;
  key_id?: string | null;
  feature?: string | null;
  provider: string;
  model: string;
  requested_model: string;
}

/** Nested Maps keyed by one key column each (the leaf holds the entry). */
type Trie = Map<string | number, unknown>;

/**
 * Finds or creates the entry whose key columns are `head`. A trie of Maps, not one Map keyed by a
 * joined string: the dimension strings are mostly the same few instances, whose hashes V8
 * caches, while a joined key would be a new string to build and hash for every event.
 */
function findEntry(root: Trie, head: ReadonlyArray<string | number>, all: RollupEntry[]): RollupEntry {
  let level = root;
  const last = head.length - 1;
  for (let i = 0; i < last; i++) {
    let next = level.get(head[i]!) as Trie | undefined;
    if (next === undefined) {
      next = new Map();
      level.set(head[i]!, next);
    }
    level = next;
  }
  let entry = level.get(head[last]!) as RollupEntry | undefined;
  if (entry === undefined) {
    entry = [...head];
    for (let i = 0; i < SUMS; i++) entry.push(0);
    level.set(head[last]!, entry);
    all.push(entry);
  }
  return entry;
}

/** Orders entries by their key columns (bucket start numerically, then dimension strings). */
function compareKeys(a: RollupEntry, b: RollupEntry, keyColumns: number): number {
  for (let i = 0; i < keyColumns; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** In-memory sums of one write batch for both rollups. */
export class RollupBatch {
  readonly #hourlyTrie: Trie = new Map();
  readonly #dailyTrie: Trie = new Map();
  readonly #hourly: RollupEntry[] = [];
  readonly #daily: RollupEntry[] = [];
  /** Reused key buffers (one event at a time). */
  readonly #hourKey = new Array<string | number>(HOURLY_BASE);
  readonly #dayKey = new Array<string | number>(DAILY_BASE);

  get isEmpty(): boolean {
    return this.#hourly.length === 0;
  }

  /** Adds one freshly inserted event (call it only for rows actually inserted). */
  addEvent(row: EventRow): void {
    this.#addEventTo(this.#hourlyEntry(row), HOURLY_BASE, row);
    this.#addEventTo(this.#dailyEntry(row), DAILY_BASE, row);
  }

  /** Adds one freshly inserted adjustment to adjustment_nano. */
  addAdjustment(row: AdjustmentRow): void {
    const amount = toSum(row.amount_nano);
    const hourly = this.#hourlyEntry(row);
    hourly[HOURLY_BASE + ADJUSTMENT] = addSum(hourly[HOURLY_BASE + ADJUSTMENT] as Sum, amount);
    const daily = this.#dailyEntry(row);
    daily[DAILY_BASE + ADJUSTMENT] = addSum(daily[DAILY_BASE + ADJUSTMENT] as Sum, amount);
  }

  /**
   * The rows of one rollup. `sorted`: in one global key order, so that concurrent transactions
   * (PostgreSQL replicas) lock rollup rows in the same order and cannot deadlock on each other.
   */
  rows(table: RollupTable, sorted = true): RollupEntry[] {
    const hourly = table === 'rollup_hourly';
    const entries = hourly ? this.#hourly : this.#daily;
    if (!sorted) return [...entries];
    const keyColumns = hourly ? HOURLY_BASE : DAILY_BASE;
    return [...entries].sort((a, b) => compareKeys(a, b, keyColumns));
  }

  #hourlyEntry(row: Dimensions): RollupEntry {
    const key = this.#hourKey;
    key[0] = floorTo(typeof row.time_ms === 'number' ? row.time_ms : Number(row.time_ms), HOUR_MS);
    // HOURLY_DIMS order.
    key[1] = row.tenant;
    key[2] = row.model;
    key[3] = row.provider;
    key[4] = row.requested_model;
    key[5] = row.project ?? '';
    key[6] = row.key_id ?? '';
    key[7] = row.feature ?? '';
    return findEntry(this.#hourlyTrie, key, this.#hourly);
  }

  #dailyEntry(row: Dimensions): RollupEntry {
    const key = this.#dayKey;
    key[0] = floorTo(typeof row.time_ms === 'number' ? row.time_ms : Number(row.time_ms), DAY_MS);
    // DAILY_DIMS order.
    key[1] = row.tenant;
    key[2] = row.model;
    key[3] = row.provider;
    key[4] = row.requested_model;
    key[5] = row.project ?? '';
    key[6] = row.feature ?? '';
    return findEntry(this.#dailyTrie, key, this.#daily);
  }

  #addEventTo(entry: RollupEntry, base: number, row: EventRow): void {
    // A refused call never went upstream: refused demand, not a request (its cost is a known 0).
    const counted = row.status === 'refused' ? base + REFUSED : base + REQUESTS;
    entry[counted] = (entry[counted] as number) + 1;
    const cost = row.cost_nano;
    if (cost === null || cost === undefined) entry[base + UNPRICED] = (entry[base + UNPRICED] as number) + 1;
    else entry[base + COST] = addSum(entry[base + COST] as Sum, toSum(cost));
    if (row.usage_source === 'estimated') entry[base + ESTIMATED] = (entry[base + ESTIMATED] as number) + 1;
    for (let b = 0; b < BUCKET_COLUMNS.length; b++) {
      const n = row[BUCKET_COLUMNS[b]!];
      if (n === undefined || n === 0) continue;
      const i = base + TOKENS + b;
      entry[i] = addSum(entry[i] as Sum, toSum(n));
    }
  }
}

/** Rows per upsert statement: 27 parameters each stays below SQLite's (32766) and pg's limits. */
const UPSERT_CHUNK = 1000;

/** `col = table.col + excluded.col` for every sum column: the same SQL on both dialects. */
export function incrementClause(table: RollupTable): string {
  return ROLLUP_SUM_COLUMNS.map((c) => `${c} = ${table}.${c} + excluded.${c}`).join(', ');
}

/** Adds a batch's sums to both rollups inside the caller's transaction (any dialect). */
export async function applyRollups(db: Kysely<LedgerDatabase>, batch: RollupBatch): Promise<void> {
  for (const table of ['rollup_hourly', 'rollup_daily'] as const) {
    const entries = batch.rows(table);
    const columns = sql.join(ROLLUP_COLUMNS[table].map((c) => sql.ref(c)));
    const keys = sql.join(ROLLUP_KEYS[table].map((c) => sql.ref(c)));
    for (let i = 0; i < entries.length; i += UPSERT_CHUNK) {
      const values = entries.slice(i, i + UPSERT_CHUNK).map((entry) => sql`(${sql.join(entry)})`);
      await sql`insert into ${sql.table(table)} (${columns}) values ${sql.join(values)}
        on conflict (${keys}) do update set ${sql.raw(incrementClause(table))}`.execute(db);
    }
  }
}

/**
 * @deprecated The hourly rows of freshly inserted events as objects (benchmarks/ledger-write.mjs
 * builds its own statements from them); the write paths use RollupBatch.
 */
export function rollupDeltas(rows: readonly EventRow[]): Array<Record<string, string | Sum>> {
  const batch = new RollupBatch();
  for (const row of rows) batch.addEvent(row);
  const columns = ROLLUP_COLUMNS.rollup_hourly;
  return batch.rows('rollup_hourly').map((entry) => Object.fromEntries(columns.map((c, i) => [c, entry[i]!])));
}
