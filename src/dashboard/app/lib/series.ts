import { nanoOf, tokenTotal } from './format.js';
import { bucketStart, DAY_MS, HOUR_MS, type Window } from './time.js';
import type { CostRow } from './types.js';

/**
 * Time buckets from /api/v1/costs rows. The API buckets by UTC day or hour; in another zone the
 * dashboard asks for hours and folds them into the zone's days, so a "day" is the viewer's day.
 */
export type Unit = 'day' | 'hour';

export interface Grain {
  /** The unit shown. */
  unit: Unit;
  /** The API's group_by time key. */
  groupBy: Unit;
}

export function grainOf(window: Window, now: number, tz: string): Grain {
  const span = (window.to ?? now) - (window.from ?? now - 30 * DAY_MS);
  const unit: Unit = span <= 3 * DAY_MS ? 'hour' : 'day';
  return { unit, groupBy: unit === 'day' && tz !== 'UTC' ? 'hour' : unit };
}

export function rowTime(row: CostRow, grain: Grain, tz: string): number | null {
  const key = row[grain.groupBy];
  if (typeof key !== 'string') return null;
  const ms = Date.parse(grain.groupBy === 'day' ? `${key}T00:00:00Z` : key);
  if (!Number.isFinite(ms)) return null;
  return grain.unit === grain.groupBy ? ms : bucketStart(ms, grain.unit, tz);
}

export interface Cell {
  costNano: bigint;
  tokens: number;
  requests: number;
  unpriced: number;
}

/** Rows folded into (time, dimension value) cells; `xs` are the distinct times, ascending. */
export function fold(
  rows: CostRow[],
  grain: Grain,
  tz: string,
  dim: string | null,
): { xs: number[]; cells: Map<string, Map<number, Cell>>; totals: Map<string, bigint> } {
  const cells = new Map<string, Map<number, Cell>>();
  const totals = new Map<string, bigint>();
  const times = new Set<number>();
  for (const row of rows) {
    const at = rowTime(row, grain, tz);
    if (at === null) continue;
    times.add(at);
    const name = dim === null ? 'all' : String(row[dim] ?? '(none)');
    let byTime = cells.get(name);
    if (byTime === undefined) cells.set(name, (byTime = new Map()));
    const cell = byTime.get(at) ?? { costNano: 0n, tokens: 0, requests: 0, unpriced: 0 };
    cell.costNano += nanoOf(row.cost_usd);
    cell.tokens += tokenTotal(row.tokens);
    cell.requests += row.requests;
    cell.unpriced += row.unpriced_requests;
    byTime.set(at, cell);
    totals.set(name, (totals.get(name) ?? 0n) + nanoOf(row.cost_usd));
  }
  return { xs: [...times].sort((a, b) => a - b), cells, totals };
}

/** Every bucket start in [from, to): a rate series shows quiet hours as zero, not as a gap. */
export function allBuckets(from: number, to: number, unit: Unit, tz: string): number[] {
  const out: number[] = [];
  let at = bucketStart(from, unit, tz);
  const step = unit === 'hour' ? HOUR_MS : DAY_MS;
  for (let guard = 0; at < to && guard < 10_000; guard++) {
    out.push(at);
    // Days across a DST change are 23 or 25 hours: step by wall clock, not by 24 h.
    at = unit === 'hour' ? at + step : bucketStart(at + step + 2 * HOUR_MS, 'day', tz);
  }
  return out;
}
