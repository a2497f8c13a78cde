import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKETS, type Bucket, type Buckets } from '../usage/index.js';
import { formatDay, formatHour } from './filters.js';
import type { LedgerStore } from './kysely-store.js';
import { ledgerDialects, type LedgerTarget } from './testing/dialects.js';
import { makeEvent, seededRandom } from './testing/fixtures.js';
import { GROUP_KEYS, type CostQuery, type CostRow, type GroupKey, type UsageEvent } from './types.js';

const at = (iso: string) => new Date(iso);
const q = (from: string, to: string, groupBy: GroupKey[] = [], filter: CostQuery['filter'] = {}): CostQuery => ({
  from: at(from),
  to: at(to),
  groupBy,
  filter,
});

/** The obvious in-memory computation the SQL must agree with. */
function reference(events: readonly UsageEvent[], query: CostQuery): CostRow[] {
  const groups = [...new Set(query.groupBy)];
  const keyOf = (e: UsageEvent, k: GroupKey): string | null => {
    switch (k) {
      case 'day':
        return formatDay(e.time.getTime());
      case 'hour':
        return formatHour(Math.floor(e.time.getTime() / 3_600_000) * 3_600_000);
      case 'user':
        return e.user;
      case 'key':
        return e.key_id;
      default:
        return e[k];
    }
  };
  const rows = new Map<string, CostRow>();
  for (const e of events) {
    const t = e.time.getTime();
    if (t < query.from.getTime() || t >= query.to.getTime()) continue;
    if (Object.entries(query.filter).some(([k, v]) => keyOf(e, k as GroupKey) !== v)) continue;
    const keys = Object.fromEntries(groups.map((k) => [k, keyOf(e, k)]));
    const id = JSON.stringify(groups.map((k) => keys[k]));
    let row = rows.get(id);
    if (!row) {
      row = { keys, requests: 0, tokens: {}, cost_nano: 0n, unpriced_requests: 0, estimated_requests: 0, adjustments_nano: 0n, net_nano: 0n };
      rows.set(id, row);
    }
    row.requests++;
    if (e.cost_nano === null) row.unpriced_requests++;
    else row.cost_nano += e.cost_nano;
    row.net_nano = row.cost_nano;
    if (e.usage_source === 'estimated') row.estimated_requests++;
    for (const b of BUCKETS) {
      const n = e.buckets[b] ?? 0;
      if (n > 0) row.tokens[b] = (row.tokens[b] ?? 0) + n;
    }
  }
  const cmp = (a: string | null | undefined, b: string | null | undefined) =>
    a === b ? 0 : a === null ? 1 : b === null ? -1 : (a ?? '') < (b ?? '') ? -1 : 1;
  return [...rows.values()].sort((a, b) => {
    if (a.cost_nano !== b.cost_nano) return a.cost_nano > b.cost_nano ? -1 : 1;
    for (const k of groups) {
      const c = cmp(a.keys[k], b.keys[k]);
      if (c !== 0) return c;
    }
    return 0;
  });
}

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(`cost queries [${dialect.name}]${dialect.skip ? ` — ${dialect.skip}` : ''}`, () => {
    let store: LedgerStore;
    let target: LedgerTarget;

    beforeAll(async () => {
      target = await dialect.target();
      store = await target.open();
    });

    afterAll(async () => {
      await target.dispose();
    });

    describe('queryCosts against a hand computation', () => {
      beforeAll(async () => {
        await store.insertEvents([
          makeEvent({ id: 'e1', time: at('2026-11-23T09:59:59.999Z'), cost_nano: 100n, buckets: { input: 10 } }),
          makeEvent({ id: 'e2', time: at('2026-11-23T10:00:00.000Z'), cost_nano: 200n, buckets: { input: 20, output: 5 } }),
          makeEvent({
            id: 'e3',
            time: at('2026-11-23T10:30:00.000Z'),
            project: null,
            user: null,
            model: 'gpt-4o-mini',
            requested_model: 'gpt-4o-mini',
            cost_nano: null,
            price_ref: null,
            buckets: { input: 1 },
          }),
          makeEvent({
            id: 'e4',
            time: at('2026-11-23T11:45:00.000Z'),
            tenant: 'globex',
            project: 'ads',
            cost_nano: 1000n,
            usage_source: 'estimated',
            buckets: { input: 100 },
          }),
          makeEvent({ id: 'e5', time: at('2026-11-24T00:00:00.000Z'), cost_nano: 50n, buckets: { output: 1 } }),
          makeEvent({
            id: 'e6',
            time: at('2026-11-24T00:10:00.000Z'),
            cost_nano: 50n,
            model: 'gpt-4o',
            buckets: { output: 1, reasoning: 0 },
          }),
        ]);
      });

      it('groups by tenant over whole hours, sorted by cost desc', async () => {
        expect(await store.queryCosts(q('2026-11-23T10:00:00Z', '2026-11-24T00:00:00Z', ['tenant']))).toEqual([
          {
            keys: { tenant: 'globex' },
            requests: 1,
            tokens: { input: 100 },
            cost_nano: 1000n,
            unpriced_requests: 0,
            estimated_requests: 1,
            adjustments_nano: 0n,
            net_nano: 1000n,
          },
          {
            keys: { tenant: 'acme' },
            requests: 2,
            tokens: { input: 21, output: 5 },
            cost_nano: 200n,
            unpriced_requests: 1,
            estimated_requests: 0,
            adjustments_nano: 0n,
            net_nano: 200n,
          },
        ]);
      });

      it('from is inclusive and to exclusive, also inside an hour', async () => {
        const rows = await store.queryCosts(q('2026-11-23T09:30:00Z', '2026-11-23T10:30:00Z', ['hour']));
        expect(rows.map((r) => [r.keys.hour, r.requests, r.cost_nano])).toEqual([
          ['2026-11-23T10:00:00Z', 1, 200n],
          ['2026-11-23T09:00:00Z', 1, 100n],
        ]);
        const edge = await store.queryCosts(q('2026-11-23T09:59:59.999Z', '2026-11-23T10:00:00Z'));
        expect(edge.map((r) => r.cost_nano)).toEqual([100n]);
      });

      it('groups by day and project with null projects kept null', async () => {
        const rows = await store.queryCosts(q('2026-11-23T00:00:00Z', '2026-11-25T00:00:00Z', ['day', 'project']));
        expect(rows.map((r) => [r.keys.day, r.keys.project, r.requests, r.cost_nano, r.unpriced_requests])).toEqual([
          ['2026-11-23', 'ads', 1, 1000n, 0],
          ['2026-11-23', 'search', 2, 300n, 0],
          ['2026-11-24', 'search', 2, 100n, 0],
          ['2026-11-23', null, 1, 0n, 1],
        ]);
      });

      it('separates the served model from the requested model', async () => {
        const range = ['2026-11-24T00:00:00Z', '2026-11-25T00:00:00Z'] as const;
        const served = await store.queryCosts(q(...range, ['model']));
        expect(served.map((r) => [r.keys.model, r.requests])).toEqual([
          ['gpt-4o', 1],
          ['gpt-4o-2024-08-06', 1],
        ]);
        const requested = await store.queryCosts(q(...range, ['requested_model']));
        expect(requested.map((r) => [r.keys.requested_model, r.requests])).toEqual([['gpt-4o', 2]]);
      });

      it('filters by day, hour and dimensions; no group keys gives one total row', async () => {
        const wide = ['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'] as const;
        expect(await store.queryCosts(q(...wide, [], { day: '2026-11-24' }))).toEqual([
          { keys: {}, requests: 2, tokens: { output: 2 }, cost_nano: 100n, unpriced_requests: 0, estimated_requests: 0, adjustments_nano: 0n, net_nano: 100n },
        ]);
        const hour = await store.queryCosts(q(...wide, ['user'], { tenant: 'acme', hour: '2026-11-23T10:00:00Z' }));
        expect(hour.map((r) => [r.keys.user, r.requests, r.cost_nano])).toEqual([
          ['u-1', 1, 200n],
          [null, 1, 0n],
        ]);
        expect(await store.queryCosts(q(...wide, ['tenant'], { tenant: 'nobody' }))).toEqual([]);
        // A day filter outside [from, to) selects nothing.
        expect(await store.queryCosts(q('2026-11-23T00:00:00Z', '2026-11-24T00:00:00Z', [], { day: '2026-11-24' }))).toEqual(
          [],
        );
      });

      it('an empty or inverted range is empty', async () => {
        expect(await store.queryCosts(q('2026-11-23T10:00:00Z', '2026-11-23T10:00:00Z'))).toEqual([]);
        expect(await store.queryCosts(q('2026-11-24T10:00:00Z', '2026-11-23T10:00:00Z'))).toEqual([]);
      });

      it.each([
        [{ groupBy: ['tenant', 'colour'] as GroupKey[] }, 'group_by'],
        [{ filter: { day: '2026-02-30' } }, 'filter[day]'],
        [{ filter: { day: '2026-11-23T00:00:00Z' } }, 'filter[day]'],
        [{ filter: { hour: '2026-11-23T10:30:00Z' } }, 'filter[hour]'],
        [{ filter: { project: '' } }, 'filter[project]'],
        [{ from: new Date('nope') }, 'from'],
      ])('rejects bad input %j with invalid_request', async (patch, param) => {
        const query = { ...q('2026-11-23T00:00:00Z', '2026-11-24T00:00:00Z'), ...patch } as CostQuery;
        await expect(store.queryCosts(query)).rejects.toMatchObject({ code: 'invalid_request', param });
      });
    });

    describe('rollups agree with raw events on random data', () => {
      const rand = seededRandom(20261123);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
      const START = Date.parse('2026-11-20T00:00:00Z');
      const SPAN = 3 * 86_400_000;
      let events: UsageEvent[];
      let randomStore: LedgerStore;
      let randomTarget: LedgerTarget;

      beforeAll(async () => {
        randomTarget = await dialect.target();
        randomStore = await randomTarget.open();
        events = Array.from({ length: 1500 }, (_, i) => {
          const buckets: Buckets = {};
          for (const b of BUCKETS) if (rand() < 0.4) buckets[b as Bucket] = Math.floor(rand() * 5000);
          const cost = rand() < 0.1 ? null : rand() < 0.05 ? 2n ** 55n + BigInt(i) : BigInt(Math.floor(rand() * 1e9));
          return makeEvent({
            id: `r-${i}`,
            // Many events sit exactly on hour boundaries, the edge where rollup and raw split.
            time: new Date(rand() < 0.2 ? START + Math.floor(rand() * 72) * 3_600_000 : START + Math.floor(rand() * SPAN)),
            tenant: pick(['acme', 'globex', 'initech']),
            project: pick(['p1', 'p2', null]),
            user: pick(['u1', 'u2', 'u3', null]),
            feature: pick(['chat', 'search', null]),
            key_id: pick(['k1', 'k2', null]),
            provider: pick(['openai', 'anthropic']),
            requested_model: pick(['m-a', 'm-b']),
            model: pick(['m-a', 'm-a-2025', 'm-b']),
            buckets,
            cost_nano: cost,
            usage_source: pick(['provider', 'provider', 'estimated', 'reported']),
          });
        });
        // Half through settle (group commit), half through insertEvents, plus re-sent duplicates.
        await Promise.all(events.slice(0, 750).map((e) => randomStore.settle(e)));
        await randomStore.insertEvents(events.slice(750));
        await randomStore.insertEvents(events.slice(0, 100));
      });

      afterAll(async () => {
        await randomTarget.dispose();
      });

      it('auto (rollup + edges) == raw == reference, over random ranges, groupings and filters', async () => {
        for (let round = 0; round < 120; round++) {
          const aligned = rand() < 0.35;
          let a = START - 3_600_000 + Math.floor(rand() * (SPAN + 7_200_000));
          let b = START - 3_600_000 + Math.floor(rand() * (SPAN + 7_200_000));
          if (aligned) {
            a = Math.floor(a / 3_600_000) * 3_600_000;
            b = Math.floor(b / 3_600_000) * 3_600_000;
          }
          if (a > b) [a, b] = [b, a];
          const groupBy = GROUP_KEYS.filter(() => rand() < 0.3);
          const filter: CostQuery['filter'] = {};
          if (rand() < 0.3) filter.tenant = pick(['acme', 'globex']);
          if (rand() < 0.2) filter.project = pick(['p1', 'p2']);
          if (rand() < 0.15) filter.model = pick(['m-a', 'm-b']);
          if (rand() < 0.1) filter.day = pick(['2026-11-20', '2026-11-21', '2026-11-22']);
          const query: CostQuery = { from: new Date(a), to: new Date(b), groupBy, filter };
          const expected = reference(events, query);
          const auto = await randomStore.queryCosts(query);
          const raw = await randomStore.queryCosts(query, 'raw');
          expect(auto, JSON.stringify({ round, a, b, groupBy, filter })).toEqual(expected);
          expect(raw).toEqual(expected);
        }
      });

      it('the whole data set sums to the reference totals', async () => {
        const all = await randomStore.queryCosts({
          from: new Date(START - 86_400_000),
          to: new Date(START + SPAN + 86_400_000),
          groupBy: [],
          filter: {},
        });
        expect(all).toEqual(
          reference(events, { from: new Date(0), to: new Date(2 ** 47), groupBy: [], filter: {} }),
        );
        expect(all[0]?.requests).toBe(1500);
      });
    });
  });
}
