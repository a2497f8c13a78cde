import { sql, type Kysely, type RawBuilder } from 'kysely';
import { PertokenError } from '../errors.js';
import { BUCKETS, type Buckets } from '../usage/index.js';
import { DIM_COLUMN, NULLABLE_DIMS, formatDay, formatHour, resolveWindow, type DimColumn } from './filters.js';
import { DAY_MS, HOUR_MS } from './rollups.js';
import { ROLLUP_SUM_COLUMNS, SUM_OFFSET, toNumber, type LedgerDatabase, type RollupSumColumn } from './schema.js';
import type { CostQuery, CostRow, GroupKey } from './types.js';
import { GROUP_KEYS } from './types.js';

/**
 * Cost queries, shared by every dialect. [from, to) is cut into parts, each answered by the
 * coarsest source that holds every dimension the query groups or filters by (see planCostQuery):
 * whole UTC days from rollup_daily, whole hours from rollup_hourly, the partial hours at the
 * edges from raw events and adjustments. All sources group by the same expressions, so merging
 * the partial answers by group key is exact.
 */

export type CostStrategy = 'auto' | 'raw';

/** adjustments: the raw counterpart of the rollups' adjustment_nano (see adjustments.ts). */
export type CostSource = 'events' | 'adjustments' | 'rollup_hourly' | 'rollup_daily';
type Db = Kysely<LedgerDatabase>;

export interface PlanPart {
  source: CostSource;
  fromMs: number;
  toMs: number;
}

/** The coarsest source a query may read, by the keys it groups and filters by. */
export type Granularity = 'raw' | 'hourly' | 'daily';

/**
 * Keys no rollup keeps (raw events only: a range grouped or filtered by them reads its events)
 * and keys only the hourly rollup keeps.
 */
const RAW_ONLY: ReadonlySet<GroupKey> = new Set<GroupKey>(['user', 'route', 'status', 'trace']);
const HOURLY_ONLY: ReadonlySet<GroupKey> = new Set<GroupKey>(['key', 'hour']);

export function granularityFor(keys: Iterable<GroupKey>): Granularity {
  let finest: Granularity = 'daily';
  for (const key of keys) {
    if (RAW_ONLY.has(key)) return 'raw';
    if (HOURLY_ONLY.has(key)) finest = 'hourly';
  }
  return finest;
}

function timeColumn(source: CostSource): string {
  return source === 'rollup_hourly' ? 'hour_ms' : source === 'rollup_daily' ? 'day_ms' : 'time_ms';
}

/** Expression a group key is grouped by, per source; day/hour are ms-epoch bucket starts. */
function groupExpr(key: GroupKey, source: CostSource): RawBuilder<unknown> {
  const time = sql.ref(timeColumn(source));
  if (key === 'hour') {
    if (source === 'rollup_daily') throw new PertokenError('internal', 'rollup_daily cannot answer group by hour');
    return source === 'rollup_hourly' ? sql`${time}` : sql`${time} - (${time} % ${sql.lit(HOUR_MS)})`;
  }
  if (key === 'day') return source === 'rollup_daily' ? sql`${time}` : sql`${time} - (${time} % ${sql.lit(DAY_MS)})`;
  return dimExpr(DIM_COLUMN[key], source);
}

/** Columns only events keep: an adjustment takes them from the event it corrects (none for a manual one). */
const EVENT_ONLY: ReadonlySet<string> = new Set<DimColumn>(['route', 'status', 'trace_id']);

function dimExpr(column: string, source: CostSource): RawBuilder<unknown> {
  if (source === 'adjustments' && EVENT_ONLY.has(column))
    return sql`(select ${sql.ref(`e.${column}`)} from ${sql.table('events')} as e where e.id = ${sql.ref('adjustments.event_id')})`;
  return sql`${sql.ref(column)}`;
}

/**
 * The sums of a group as ONE text column, `requests,cost,unpriced,estimated,adjustment,refused,tok_…`
 * in ROLLUP_SUM_COLUMNS order, instead of 19 integer columns: better-sqlite3 builds a result row
 * property by property and a BigInt per integer, which cost more than the aggregation itself on
 * a 25k-group report (~250 ms vs ~100 ms); one string per group, parsed by unpackSums, is exact
 * (decimal digits; money read as BigInt) and the same SQL on PostgreSQL. NULL means "no rows" (an
 * ungrouped aggregate over nothing); events.cost_nano is the one nullable column summed.
 */
function packedSums(source: CostSource): RawBuilder<unknown> {
  const parts = ROLLUP_SUM_COLUMNS.map((column) => sumOf(column, source));
  return sql`${sql.join(parts, sql` || ',' || `)} as ${sql.ref('sums')}`;
}

/** One sum of a group from a source: a rollup's own column, or what the rollups add per row. */
function sumOf(column: RollupSumColumn, source: CostSource): RawBuilder<unknown> {
  const sum = (name: string): RawBuilder<unknown> => sql`sum(${sql.ref(name)})`;
  if (source === 'rollup_hourly' || source === 'rollup_daily') return sum(column);
  if (source === 'adjustments') return column === 'adjustment_nano' ? sum('amount_nano') : sql`0`;
  const refused = sql`${sql.ref('status')} = ${sql.lit('refused')}`;
  switch (column) {
    case 'requests':
      return sql`sum(case when ${refused} then 0 else 1 end)`;
    case 'refused_requests':
      return sql`sum(case when ${refused} then 1 else 0 end)`;
    case 'cost_nano':
      return sql`coalesce(sum(${sql.ref('cost_nano')}), 0)`;
    case 'unpriced_requests':
      return sql`sum(case when ${sql.ref('cost_nano')} is null then 1 else 0 end)`;
    case 'estimated_requests':
      return sql`sum(case when ${sql.ref('usage_source')} = ${sql.lit('estimated')} then 1 else 0 end)`;
    case 'adjustment_nano':
      return sql`0`;
    default:
      return sum(column);
  }
}

interface PartialRow {
  keys: Array<string | null>;
  requests: number;
  cost_nano: bigint;
  unpriced_requests: number;
  estimated_requests: number;
  adjustment_nano: bigint;
  refused_requests: number;
  tokens: number[];
}

const REQUESTS_FIELD = SUM_OFFSET.requests;
const COST_FIELD = SUM_OFFSET.cost_nano;
const UNPRICED_FIELD = SUM_OFFSET.unpriced_requests;
const ESTIMATED_FIELD = SUM_OFFSET.estimated_requests;
const ADJUSTMENT_FIELD = SUM_OFFSET.adjustment_nano;
const REFUSED_FIELD = SUM_OFFSET.refused_requests;
const TOKEN_FIELD = SUM_OFFSET.tok_input;
const COMMA = 44;
const MINUS = 45;
const ZERO = 48;

/**
 * Parses packedSums' text (absent trailing token sums are zero) in one pass over its characters:
 * splitting it would allocate 19 strings per group, and on a 25k-group report their garbage
 * collection cost more than the parse. Up to 15 digits accumulate exactly in a double; a longer
 * field (money past 10^15 nano-USD) is read from its text.
 */
function unpackSums(keys: Array<string | null>, text: string): PartialRow {
  const numbers = new Array<number>(ROLLUP_SUM_COLUMNS.length).fill(0);
  const money: Array<bigint | undefined> = [undefined, undefined];
  let field = 0;
  let start = 0;
  let value = 0;
  let negative = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : COMMA;
    if (c === MINUS) {
      negative = true;
    } else if (c !== COMMA) {
      value = value * 10 + (c - ZERO);
    } else {
      const digits = i - start - (negative ? 1 : 0);
      if (digits > 15) {
        const exact = BigInt(text.slice(start, i));
        if (field === COST_FIELD) money[0] = exact;
        else if (field === ADJUSTMENT_FIELD) money[1] = exact;
        else numbers[field] = Number(exact);
      } else {
        numbers[field] = negative ? -value : value;
      }
      field++;
      start = i + 1;
      value = 0;
      negative = false;
    }
  }
  return {
    keys,
    requests: numbers[REQUESTS_FIELD]!,
    cost_nano: money[0] ?? BigInt(numbers[COST_FIELD]!),
    unpriced_requests: numbers[UNPRICED_FIELD]!,
    estimated_requests: numbers[ESTIMATED_FIELD]!,
    adjustment_nano: money[1] ?? BigInt(numbers[ADJUSTMENT_FIELD]!),
    refused_requests: numbers[REFUSED_FIELD]!,
    tokens: numbers.slice(TOKEN_FIELD),
  };
}

async function aggregate(
  db: Db,
  { source, fromMs, toMs }: PlanPart,
  dims: ReadonlyArray<[string, string]>,
  groupBy: readonly GroupKey[],
  labels: KeyLabels,
): Promise<PartialRow[]> {
  const time = sql.ref(timeColumn(source));
  const where = [sql`${time} >= ${fromMs}`, sql`${time} < ${toMs}`];
  for (const [column, value] of dims) where.push(sql`${dimExpr(column, source)} = ${value}`);
  const groups = groupBy.map((key, i) => sql`${groupExpr(key, source)} as ${sql.ref(`g${i}`)}`);
  const groupClause =
    groupBy.length === 0 ? sql`` : sql` group by ${sql.join(inKeyOrder(groupBy).map((key) => groupExpr(key, source)))}`;
  const query = sql<Record<string, unknown>>`select ${sql.join([...groups, packedSums(source)])} from ${sql.table(
    source,
  )} where ${sql.join(where, sql` and `)}${groupClause}`;
  const { rows } = await query.execute(db);
  const aliases = groupBy.map((_, i) => `g${i}`);
  const out: PartialRow[] = [];
  for (const row of rows) {
    if (typeof row.sums !== 'string') continue; // an ungrouped aggregate over no rows
    const keys = new Array<string | null>(groupBy.length);
    for (let i = 0; i < groupBy.length; i++) keys[i] = labels.value(groupBy[i]!, row[aliases[i]!]);
    const part = unpackSums(keys, row.sums);
    // A credit alone has no requests, nor has refused demand; a group with none of the three is noise.
    if (part.requests === 0 && part.refused_requests === 0 && part.adjustment_nano === 0n) continue;
    out.push(part);
  }
  return out;
}

/** Position of each group key in the rollups' primary keys (time bucket first, see HOURLY_DIMS). */
const KEY_ORDER: Readonly<Record<GroupKey, number>> = {
  hour: 0,
  day: 1,
  tenant: 2,
  model: 3,
  provider: 4,
  requested_model: 5,
  project: 6,
  key: 7,
  feature: 8,
  user: 9,
  route: 10,
  status: 11,
  trace: 12,
};

/**
 * GROUP BY terms in primary-key order (the result does not depend on it). SQLite finds the
 * order itself; PostgreSQL 15 sorts by the terms as written, and sorting by the bucket first (a
 * bigint with few values) before the text dimensions was ~10% faster on the 30-day report.
 */
function inKeyOrder(groupBy: readonly GroupKey[]): GroupKey[] {
  return [...groupBy].sort((a, b) => KEY_ORDER[a] - KEY_ORDER[b]);
}

/** Group-key values as the API shows them; day and hour labels formatted once per bucket. */
class KeyLabels {
  readonly #hours = new Map<number, string>();
  readonly #days = new Map<number, string>();

  value(key: GroupKey, value: unknown): string | null {
    if (key === 'hour' || key === 'day') {
      const ms = toNumber(value);
      const labels = key === 'hour' ? this.#hours : this.#days;
      let label = labels.get(ms);
      if (label === undefined) {
        label = key === 'hour' ? formatHour(ms) : formatDay(ms);
        labels.set(ms, label);
      }
      return label;
    }
    if (value === null || value === undefined) return null;
    const text = String(value);
    // The rollups keep null dimensions as '' inside their primary keys.
    return text === '' && NULLABLE_DIMS.has(key) ? null : text;
  }
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

/**
 * Cuts [fromMs, toMs) into parts and names the source of each:
 * - a query that groups or filters by `user` reads raw events only (no rollup keeps the user);
 * - by `key` or `hour`: whole hours from rollup_hourly, the partial hours at the edges raw;
 * - otherwise: whole UTC days from rollup_daily, whole hours around them from rollup_hourly,
 *   partial hours raw.
 * Every raw part reads `events` and `adjustments` over the same range; rollup parts carry both.
 * `strategy: 'raw'` reads everything raw (to verify the rollups).
 */
export function planCostQuery(
  fromMs: number,
  toMs: number,
  granularity: Granularity,
  strategy: CostStrategy = 'auto',
): PlanPart[] {
  if (fromMs >= toMs) return [];
  const raw = (a: number, b: number): PlanPart[] =>
    a < b
      ? [
          { source: 'events', fromMs: a, toMs: b },
          { source: 'adjustments', fromMs: a, toMs: b },
        ]
      : [];
  const firstHour = Math.ceil(fromMs / HOUR_MS) * HOUR_MS;
  const lastHour = Math.floor(toMs / HOUR_MS) * HOUR_MS;
  if (strategy === 'raw' || granularity === 'raw' || firstHour >= lastHour) return raw(fromMs, toMs);
  const parts: PlanPart[] = [];
  const hourly = (a: number, b: number): void => {
    if (a < b) parts.push({ source: 'rollup_hourly', fromMs: a, toMs: b });
  };
  const firstDay = Math.ceil(firstHour / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(lastHour / DAY_MS) * DAY_MS;
  if (granularity === 'daily' && firstDay < lastDay) {
    parts.push({ source: 'rollup_daily', fromMs: firstDay, toMs: lastDay });
    hourly(firstHour, firstDay);
    hourly(lastDay, lastHour);
  } else {
    hourly(firstHour, lastHour);
  }
  return [...parts, ...raw(fromMs, firstHour), ...raw(lastHour, toMs)];
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

/** Sums the partial answers of several sources by group key. */
function merge(answers: readonly PartialRow[][]): PartialRow[] {
  const merged = new Map<string, PartialRow>();
  for (const answer of answers) {
    for (const part of answer) {
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
      into.refused_requests += part.refused_requests;
      for (let i = 0; i < into.tokens.length; i++) into.tokens[i]! += part.tokens[i]!;
    }
  }
  return [...merged.values()];
}

/**
 * Costs over [from, to) grouped by `groupBy`, filtered by `filter`. Sorted by net cost descending,
 * then by the group keys (nulls last). `strategy: 'raw'` bypasses rollups (for verification).
 */
export async function queryCosts(db: Db, query: CostQuery, strategy: CostStrategy = 'auto'): Promise<CostRow[]> {
  const groupBy = checkGroupBy(query.groupBy);
  const filter = query.filter ?? {};
  const window = resolveWindow(query.from, query.to, filter);
  const fromMs = window.fromMs ?? 0;
  const toMs = window.toMs ?? 0;
  if (fromMs >= toMs) return [];

  const filterKeys = (Object.keys(filter) as GroupKey[]).filter((k) => filter[k] !== undefined);
  const granularity = granularityFor([...groupBy, ...filterKeys]);
  const labels = new KeyLabels();
  const answers: PartialRow[][] = [];
  for (const plan of planCostQuery(fromMs, toMs, granularity, strategy)) {
    const answer = await aggregate(db, plan, window.dims, groupBy, labels);
    if (answer.length > 0) answers.push(answer);
  }
  // One source answered (a range of whole days, say): its groups are already distinct.
  const partials = answers.length === 1 ? answers[0]! : merge(answers);

  // `approx` (a double, monotonic in net) decides most comparisons without BigInt arithmetic.
  const rows = partials.map((p) => {
    const net = p.cost_nano + p.adjustment_nano;
    return { p, net, approx: Number(net) };
  });
  rows.sort((a, b) => {
    if (a.approx !== b.approx) return a.approx > b.approx ? -1 : 1;
    return a.net === b.net ? compareKeys(a.p.keys, b.p.keys) : a.net > b.net ? -1 : 1;
  });
  return rows.map(({ p, net }): CostRow => {
    const keys: CostRow['keys'] = {};
    for (let i = 0; i < groupBy.length; i++) keys[groupBy[i]!] = p.keys[i] ?? null;
    const tokens: Buckets = {};
    for (let i = 0; i < BUCKETS.length; i++) if (p.tokens[i] !== 0) tokens[BUCKETS[i]!] = p.tokens[i]!;
    return {
      keys,
      requests: p.requests,
      tokens,
      cost_nano: p.cost_nano,
      unpriced_requests: p.unpriced_requests,
      estimated_requests: p.estimated_requests,
      refused_requests: p.refused_requests,
      adjustments_nano: p.adjustment_nano,
      net_nano: net,
    };
  });
}
