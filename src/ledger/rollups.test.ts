import { describe, expect, it } from 'vitest';
import type { AdjustmentRow } from './schema.js';
import { RollupBatch, ROLLUP_COLUMNS, addSum, rollupDeltas, type RollupEntry } from './rollups.js';
import { eventToRow, type EventRow } from './rows.js';
import { makeEvent } from './testing/fixtures.js';

/** In-memory rollup sums (the write paths and their dialects are covered by store/queries tests). */

const row = (overrides: Parameters<typeof makeEvent>[0] = {}): EventRow => eventToRow(makeEvent(overrides));
const named = (table: keyof typeof ROLLUP_COLUMNS, entry: RollupEntry): Record<string, unknown> =>
  Object.fromEntries(ROLLUP_COLUMNS[table].map((c, i) => [c, entry[i]]));

describe('addSum', () => {
  it('stays on numbers while safe and turns exact bigint past 2^53', () => {
    expect(addSum(1, 2)).toBe(3);
    expect(addSum(Number.MAX_SAFE_INTEGER, 1)).toBe(2n ** 53n);
    expect(addSum(2n ** 60n, 5)).toBe(2n ** 60n + 5n);
    expect(addSum(-Number.MAX_SAFE_INTEGER, -2)).toBe(-(2n ** 53n) - 1n);
  });
});

describe('RollupBatch', () => {
  it('sums events per hour and per day under the right column names, nulls as ""', () => {
    const batch = new RollupBatch();
    batch.addEvent(row({ time: new Date('2026-11-23T10:15:00Z'), cost_nano: 100n, buckets: { input: 10, output: 2 } }));
    batch.addEvent(
      row({
        time: new Date('2026-11-23T10:45:00Z'),
        cost_nano: null,
        usage_source: 'estimated',
        buckets: { input: 5 },
      }),
    );
    batch.addEvent(
      row({
        time: new Date('2026-11-23T11:00:00Z'),
        key_id: null,
        project: null,
        cost_nano: 2n ** 60n,
        buckets: { reasoning: 7 },
      }),
    );
    const hourly = batch.rows('rollup_hourly').map((e) => named('rollup_hourly', e));
    expect(hourly).toHaveLength(2);
    expect(hourly[0]).toMatchObject({
      hour_ms: Date.parse('2026-11-23T10:00:00Z'),
      tenant: 'acme',
      project: 'search',
      key_id: 'key-1',
      feature: 'chat',
      provider: 'openai',
      model: 'gpt-4o-2024-08-06',
      requested_model: 'gpt-4o',
      requests: 2,
      cost_nano: 100,
      unpriced_requests: 1,
      estimated_requests: 1,
      adjustment_nano: 0,
      tok_input: 15,
      tok_output: 2,
      tok_reasoning: 0,
    });
    expect(hourly[1]).toMatchObject({ project: '', key_id: '', requests: 1, cost_nano: 2n ** 60n, tok_reasoning: 7 });
    // The day drops the hour and the key: the null-project event still has its own row.
    const daily = batch.rows('rollup_daily').map((e) => named('rollup_daily', e));
    expect(daily.map((d) => [d.day_ms, d.project, d.requests, d.cost_nano])).toEqual([
      [Date.parse('2026-11-23T00:00:00Z'), '', 1, 2n ** 60n],
      [Date.parse('2026-11-23T00:00:00Z'), 'search', 2, 100],
    ]);
    expect(daily[0]).not.toHaveProperty('key_id');
  });

  it('adds adjustments to adjustment_nano only, merged with the events of the same key', () => {
    const batch = new RollupBatch();
    batch.addEvent(row({ time: new Date('2026-11-23T10:15:00Z'), cost_nano: 100n }));
    const adjustment: AdjustmentRow = {
      id: 'a',
      event_id: null,
      revision: 0,
      time_ms: Date.parse('2026-11-23T10:59:59Z'),
      tenant: 'acme',
      project: 'search',
      user_id: 'someone',
      feature: 'chat',
      key_id: 'key-1',
      provider: 'openai',
      model: 'gpt-4o-2024-08-06',
      requested_model: 'gpt-4o',
      amount_nano: -30n,
      reason: 'credit',
      price_ref_before: null,
      price_ref_after: null,
      created_at_ms: 0,
    };
    batch.addAdjustment(adjustment);
    batch.addAdjustment({ ...adjustment, id: 'b', time_ms: Date.parse('2026-11-23T12:00:00Z'), amount_nano: 5n });
    expect(
      batch
        .rows('rollup_hourly')
        .map((e) => named('rollup_hourly', e))
        .map((h) => [h.requests, h.cost_nano, h.adjustment_nano]),
    ).toEqual([
      [1, 100, -30],
      [0, 0, 5],
    ]);
    expect(
      batch
        .rows('rollup_daily')
        .map((e) => named('rollup_daily', e))
        .map((d) => [d.requests, d.adjustment_nano]),
    ).toEqual([[1, -25]]);
  });

  it('returns rows in one key order whatever the arrival order (the lock order across replicas)', () => {
    const events = ['globex', 'acme', 'initech', 'acme'].map((tenant, i) =>
      row({ tenant, time: new Date(Date.parse('2026-11-23T12:00:00Z') - i * 3_600_000) }),
    );
    const forward = new RollupBatch();
    const backward = new RollupBatch();
    for (const e of events) forward.addEvent(e);
    for (const e of [...events].reverse()) backward.addEvent(e);
    expect(forward.rows('rollup_hourly')).toEqual(backward.rows('rollup_hourly'));
    const keys = forward.rows('rollup_hourly').map((e) => [e[0], e[1]]);
    expect(keys).toEqual(
      [...keys].sort((a, b) => Number(a[0]) - Number(b[0]) || String(a[1]).localeCompare(String(b[1]))),
    );
  });

  it('rollupDeltas gives the hourly rows as objects', () => {
    const [delta] = rollupDeltas([row({ time: new Date('2026-11-23T10:15:00Z'), cost_nano: 7n })]);
    expect(delta).toMatchObject({
      hour_ms: Date.parse('2026-11-23T10:00:00Z'),
      tenant: 'acme',
      requests: 1,
      cost_nano: 7,
    });
  });
});
