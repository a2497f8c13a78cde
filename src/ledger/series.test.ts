import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thrownBy } from '../testing/errors.js';
import { createSqliteStore } from './sqlite/store.js';
import { parseSeriesOptions, presentSeries, seriesCostQuery, type SeriesQuery } from './series.js';
import { makeEvent, tempDir } from './testing/fixtures.js';
import type { LedgerStore } from './index.js';

let store: LedgerStore;
let cleanup: () => void;

// Two days of traffic: three models, one cheap hour per model and an expensive one for gpt-4o.
beforeAll(async () => {
  const temp = tempDir();
  cleanup = temp.cleanup;
  store = createSqliteStore({ path: join(temp.dir, 'ledger.sqlite') });
  await store.migrate();
  await store.insertEvents([
    makeEvent({ id: 'a1', time: new Date('2026-11-01T00:10:00Z'), model: 'gpt-4o', cost_nano: 5_000_000_000n }),
    makeEvent({ id: 'a2', time: new Date('2026-11-01T00:20:00Z'), model: 'gpt-4o', cost_nano: 1n }),
    makeEvent({ id: 'a3', time: new Date('2026-11-01T23:30:00Z'), model: 'gpt-4o', cost_nano: 2n }),
    makeEvent({ id: 'b1', time: new Date('2026-11-01T02:00:00Z'), model: 'claude', cost_nano: 3_000_000_000n }),
    makeEvent({ id: 'c1', time: new Date('2026-11-02T05:00:00Z'), model: 'mini', cost_nano: 7n }),
    makeEvent({ id: 'd1', time: new Date('2026-11-02T06:00:00Z'), model: 'tiny', cost_nano: null }),
  ]);
});
afterAll(async () => {
  await store.close();
  cleanup();
});

const base = {
  from: new Date('2026-11-01T00:00:00Z'),
  to: new Date('2026-11-03T00:00:00Z'),
  filter: {},
} satisfies Partial<SeriesQuery>;

async function series(q: Omit<SeriesQuery, 'from' | 'to' | 'filter'> & Partial<SeriesQuery>) {
  const query = { ...base, ...q };
  return presentSeries(query, await store.queryCosts(seriesCostQuery(query)));
}

describe('time series', () => {
  it('zero-fills one point per hour and keeps cost exact', async () => {
    const s = await series({ step: 'hour', tz: 'UTC', groupBy: null, top: 8 });
    expect(s.timestamps).toHaveLength(48);
    expect(s.timestamps[0]).toBe('2026-11-01T00:00:00.000Z');
    const [all] = s.series;
    expect(s.series).toHaveLength(1);
    expect(all?.cost_usd[0]).toBe('5.000000001');
    expect(all?.requests[0]).toBe(2);
    expect(all?.requests[1]).toBe(0);
    expect(all?.cost_usd[1]).toBe('0.000000000');
    expect(all?.unpriced_requests[30]).toBe(1);
    expect(s.totals).toMatchObject({ requests: 6, cost_usd: '8.000000010' });
    expect(all?.tokens[0]).toBe(240);
    expect(all?.output_tokens[0]).toBe(40);
  });

  it('groups by a dimension, keeps the dearest `top` and folds the rest into other', async () => {
    const s = await series({ step: 'day', tz: 'UTC', groupBy: 'model', top: 2 });
    expect(s.timestamps).toEqual(['2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z']);
    expect(s.series.map((l) => [l.model, l.other, l.groups])).toEqual([
      ['gpt-4o', false, 1],
      ['claude', false, 1],
      [null, true, 2],
    ]);
    expect(s.series[0]?.cost_usd).toEqual(['5.000000003', '0.000000000']);
    expect(s.series[2]?.requests).toEqual([0, 2]);
    expect(s.series[2]?.cost_usd).toEqual(['0.000000000', '0.000000007']);
  });

  it('buckets days in a time zone: 23:30 UTC on Nov 1 is Nov 2 in Berlin', async () => {
    const s = await series({ step: 'day', tz: 'Europe/Berlin', groupBy: null, top: 8 });
    // Berlin days that overlap the UTC range: Nov 1 (from 00:00 UTC, i.e. 01:00 local), Nov 2, Nov 3 (00:00–01:00).
    expect(s.timestamps).toEqual(['2026-11-01T00:00:00.000Z', '2026-11-01T23:00:00.000Z', '2026-11-02T23:00:00.000Z']);
    expect(s.series[0]?.cost_usd).toEqual(['8.000000001', '0.000000009', '0.000000000']);
    expect(s.totals.cost_usd).toBe('8.000000010');
  });

  it('parses its options with defaults and names a bad one', () => {
    const range = { from: base.from, to: base.to };
    expect(parseSeriesOptions(new URLSearchParams(''), range)).toEqual({
      step: 'hour',
      tz: 'UTC',
      groupBy: null,
      top: 8,
    });
    const month = { from: base.from, to: new Date('2026-12-01T00:00:00Z') };
    expect(parseSeriesOptions(new URLSearchParams('group_by=model&top=3&tz=Asia/Tokyo'), month)).toEqual({
      step: 'day',
      tz: 'Asia/Tokyo',
      groupBy: 'model',
      top: 3,
    });
    for (const [query, param] of [
      ['step=week', 'step'],
      ['tz=Mars/Base', 'tz'],
      ['group_by=model,tenant', 'group_by'],
      ['group_by=day', 'group_by'],
      ['top=0', 'top'],
      ['top=2.5', 'top'],
    ] as const)
      expect(thrownBy(() => parseSeriesOptions(new URLSearchParams(query), range)).param).toBe(param);
  });

  it('refuses a range with more points than a chart can draw', async () => {
    const year = { from: new Date('2025-01-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') };
    const q: SeriesQuery = { ...year, filter: {}, step: 'hour', tz: 'UTC', groupBy: null, top: 8 };
    expect(thrownBy(() => presentSeries(q, [])).param).toBe('step');
  });
});
