import { sql, type Kysely, type RawBuilder } from 'kysely';
import { PertokenError } from '../errors.js';
import { BUCKETS, type Buckets } from '../usage/index.js';
import { DIM_COLUMN, NULLABLE_DIMS, formatDay, formatHour, resolveWindow } from './filters.js';
import { DAY_MS, HOUR_MS } from './rollups.js';
import { BUCKET_COLUMNS, toBigInt, toNumber, type LedgerDatabase } from './schema.js';
import type { CostQuery, CostRow, GroupKey } from './types.js';
import { GROUP_KEYS } from './types.js';

/**
 * Cost queries, shared by every dialect. Whole hours are answered from rollup_hourly; the partial
 * hours at the edges of [from, to) from raw events; the partial answers are merged by group key.
 * Both sources group by the same expressions, so the merge is exact.
 */

export type CostStrategy = 'auto' | 'raw';

/** adjustments: the raw counterpart of rollup_hourly.adjustment_nano (see adjustments.ts). */
type Source = 'events' | 'rollup_hourly' | 'adjustments';
type Db = Kysely<LedgerDatabase>;

/** Expression a group key is grouped by, per source; day/hour are ms-epoch bucket starts. */
function groupExpr(key: GroupKey, source: Source): RawBuilder<unknown> {
  const time = sql.ref(source === 'rollup_hourly' ? 'hour_ms' : 'time_ms');
  if (key === 'hour') {
    return source !== 'rollup_hourly' ? sql`${time} - (${time} % ${sql.lit(HOUR_MS)})` : sql`${time}`;
  }
  if (key === 'day') return sql`${time} - (${time} % ${sql.lit(DAY_MS)})`;
  return sql`${sql.ref(DIM_COLUMN[key])}`;
}

function sumExprs(source: Source): RawBuilder<unknown>[] {
  if (source === 'adjustments') return [sql`sum(${sql.ref('amount_nano')}) as ${sql.ref('adjustment_nano')}`];
  const tokens = BUCKET_COLUMNS.map((c) => sql`sum(${sql.ref(c)}) as ${sql.ref(c)}`);
  if (source === 'events') {
    return [
      sql`count(*) as ${sql.ref('requests')}`,
      sql`sum(${sql.ref('cost_nano')}) as ${sql.ref('cost_nano')}`,
      sql`sum(case when ${sql.ref('cost_nano')} is null then 1 else 0 end) as ${sql.ref('unpriced_requests')}`,
      sql`sum(case when ${sql.ref('usage_source')} = ${sql.lit('estimated')} then 1 else 0 end) as ${sql.ref('estimated_requests')}`,
      ...tokens,
    ];
  }
  return [
    sql`sum(${sql.ref('adjustment_nano')}) as ${sql.ref('adjustment_nano')}`,
    sql`sum(${sql.ref('requests')}) as ${sql.ref('requests')}`,
    sql`sum(${sql.ref('cost_nano')}) as ${sql.ref('cost_nano')}`,
    sql`sum(${sql.ref('unpriced_requests')}) as ${sql.ref('unpriced_requests')}`,
    sql`sum(${sql.ref('estimated_requests')}) as ${sql.ref('estimated_requests')}`,
    ...tokens,
  ];
}

interface PartialRow {
  keys: Array<string | null>;
  requests: bigint;
  cost_nano: bigint;
  unpriced_requests: bigint;
  estimated_requests: bigint;
  tokens: bigint[];
  adjustment_nano: bigint;
}

async function aggregate(
  db: Db,
  source: Source,
  fromMs: number,
  toMs: number,
  dims: ReadonlyArray<[string, string]>,
  groupBy: readonly GroupKey[],
): Promise<PartialRow[]> {
  const time = sql.ref(source === 'rollup_hourly' ? 'hour_ms' : 'time_ms');
  const where = [sql`${time} >= ${fromMs}`, sql`${time} < ${toMs}`];
  for (const [column, value] of dims) where.push(sql`${sql.ref(column)} = ${value}`);
  const groups = groupBy.map((key, i) => sql`${groupExpr(key, source)} as ${sql.ref(`g${i}`)}`);
  const groupClause =
    groupBy.length === 0 ? sql`` : sql` group by ${sql.join(groupBy.map((key) => groupExpr(key, source)))}`;
  const query = sql<Record<string, unknown>>`select ${sql.join([...groups, ...sumExprs(source)])} from ${sql.table(
    source,
  )} where ${sql.join(where, sql` and `)}${groupClause}`;
  const { rows } = await query.execute(db);
  const out: PartialRow[] = [];
  for (const row of rows) {
    const requests = toBigInt(row.requests);
    const adjustment = toBigInt(row.adjustment_nano);
    // An ungrouped aggregate over no rows still yields one row; a credit alone has no requests.
    if (requests === 0n && adjustment === 0n) continue;
    out.push({
      keys: groupBy.map((key, i) => keyValue(key, row[`g${i}`])),
      requests,
      cost_nano: toBigInt(row.cost_nano),
      unpriced_requests: toBigInt(row.unpriced_requests),
      estimated_requests: toBigInt(row.estimated_requests),
      tokens: BUCKET_COLUMNS.map((c) => toBigInt(row[c])),
      adjustment_nano: adjustment,
    });
  }
  return out;
}

function keyValue(key: GroupKey, value: unknown): string | null {
  if (key === 'hour') return formatHour(toNumber(value));
  if (key === 'day') return formatDay(toNumber(value));
  if (value === null || value === undefined) return null;
  const text = String(value);
  // rollup_hourly keeps null dimensions as '' inside its primary key.
  return text === '' && NULLABLE_DIMS.has(key) ? null : text;
}

function checkGroupBy(groupBy: readonly GroupKey[]): GroupKey[] {
  const seen: GroupKey[] = [];
  for (const key of groupBy) {
    if (!GROUP_KEYS.includes(key)) {
      throw new PertokenError('invalid_request', `unknown group key ${String(key)}`, { param: 'group_by' });
    }
    if (!seen.includes(key)) seen.push(key);
  }
  return seen;
}

/** Time ranges and the source that answers each: rollups for whole hours, raw events for the rest. */
function plan(fromMs: number, toMs: number, strategy: CostStrategy): Array<[Source, number, number]> {
  const firstHour = Math.ceil(fromMs / HOUR_MS) * HOUR_MS;
  const lastHour = Math.floor(toMs / HOUR_MS) * HOUR_MS;
  if (strategy === 'raw' || firstHour >= lastHour) return [['events', fromMs, toMs]];
  const parts: Array<[Source, number, number]> = [['rollup_hourly', firstHour, lastHour]];
  if (fromMs < firstHour) parts.push(['events', fromMs, firstHour]);
  if (lastHour < toMs) parts.push(['events', lastHour, toMs]);
  return parts;
}

function compareKeys(a: ReadonlyArray<string | null>, b: ReadonlyArray<string | null>): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    if (x === null) return 1; // nulls last
    if (y === null) return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Costs over [from, to) grouped by `groupBy`, filtered by `filter`. Sorted by net cost descending,
 * then by the group keys (nulls last). `strategy: 'raw'` bypasses rollups (for verification).
 */
export async function queryCosts(db: Db, query: CostQuery, strategy: CostStrategy = 'auto'): Promise<CostRow[]> {
  const groupBy = checkGroupBy(query.groupBy);
  const window = resolveWindow(query.from, query.to, query.filter ?? {});
  const fromMs = window.fromMs ?? 0;
  const toMs = window.toMs ?? 0;
  if (fromMs >= toMs) return [];

  const merged = new Map<string, PartialRow>();
  const parts = plan(fromMs, toMs, strategy).flatMap(([source, a, b]): Array<[Source, number, number]> =>
    source === 'events' ? [[source, a, b], ['adjustments', a, b]] : [[source, a, b]],
  );
  for (const [source, a, b] of parts) {
    for (const part of await aggregate(db, source, a, b, window.dims, groupBy)) {
      const id = JSON.stringify(part.keys);
      const into = merged.get(id);
      if (into === undefined) {
        merged.set(id, part);
        continue;
      }
      into.requests += part.requests;
      into.cost_nano += part.cost_nano;
      into.unpriced_requests += part.unpriced_requests;
      into.estimated_requests += part.estimated_requests;
      into.adjustment_nano += part.adjustment_nano;
      part.tokens.forEach((n, i) => (into.tokens[i] = (into.tokens[i] ?? 0n) + n));
    }
  }

  const net = (p: PartialRow): bigint => p.cost_nano + p.adjustment_nano;
  const rows = [...merged.values()].sort((a, b) =>
    net(a) === net(b) ? compareKeys(a.keys, b.keys) : net(a) > net(b) ? -1 : 1,
  );
  return rows.map((p) => {
    const keys: CostRow['keys'] = {};
    groupBy.forEach((key, i) => (keys[key] = p.keys[i] ?? null));
    const tokens: Buckets = {};
    BUCKETS.forEach((bucket, i) => {
      const n = p.tokens[i] ?? 0n;
      if (n !== 0n) tokens[bucket] = Number(n);
    });
    return {
      keys,
      requests: Number(p.requests),
      tokens,
      cost_nano: p.cost_nano,
      unpriced_requests: Number(p.unpriced_requests),
      estimated_requests: Number(p.estimated_requests),
      adjustments_nano: p.adjustment_nano,
      net_nano: net(p),
    };
  });
}

