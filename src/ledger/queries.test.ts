import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKETS, type Bucket, type Buckets } from '../usage/index.js';
import type { ManualAdjustment } from './adjustments.js';
import { formatDay, formatHour, resolveWindow } from './filters.js';
import type { LedgerStore } from './kysely-store.js';
import { granularityFor, planCostQuery } from './queries.js';
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

/** A manual adjustment as the reference sees it (addAdjustment stores requested_model = model). */
type RefAdjustment = ManualAdjustment;

/** The obvious in-memory computation the SQL must agree with. */
function reference(
  events: readonly UsageEvent[],
  query: CostQuery,
  adjustments: readonly RefAdjustment[] = [],
): CostRow[] {
  const groups = [...new Set(query.groupBy)];
  type Item = { time: Date; user: string | null; key_id: string | null; trace_id: string | null } & Record<
    'tenant' | 'project' | 'model' | 'requested_model' | 'provider' | 'feature' | 'route' | 'status',
    string | null
  >;
  const keyOf = (e: Item, k: GroupKey): string | null => {
    switch (k) {
      case 'day':
        return formatDay(e.time.getTime());
      case 'hour':
        return formatHour(Math.floor(e.time.getTime() / 3_600_000) * 3_600_000);
      case 'user':
        return e.user;
      case 'key':
        return e.key_id;
      case 'trace':
        return e.trace_id;
      default:
        return e[k];
    }
  };
  const rows = new Map<string, CostRow>();
  const rowFor = (e: Item): CostRow | null => {
    const t = e.time.getTime();
    if (t < query.from.getTime() || t >= query.to.getTime()) return null;
    if (Object.entries(query.filter).some(([k, v]) => keyOf(e, k as GroupKey) !== v)) return null;
    const keys = Object.fromEntries(groups.map((k) => [k, keyOf(e, k)]));
    const id = JSON.stringify(groups.map((k) => keys[k]));
    let row = rows.get(id);
    if (!row) {
      row = {
        keys,
        requests: 0,
        tokens: {},
        cost_nano: 0n,
        unpriced_requests: 0,
        estimated_requests: 0,
        refused_requests: 0,
        adjustments_nano: 0n,
        net_nano: 0n,
      };
      rows.set(id, row);
    }
    return row;
  };
  for (const e of events) {
    const row = rowFor(e);
    if (row === null) continue;
    if (e.status === 'refused') row.refused_requests++;
    else row.requests++;
    if (e.cost_nano === null) row.unpriced_requests++;
    else row.cost_nano += e.cost_nano;
    if (e.usage_source === 'estimated') row.estimated_requests++;
    for (const b of BUCKETS) {
      const n = e.buckets[b] ?? 0;
      if (n > 0) row.tokens[b] = (row.tokens[b] ?? 0) + n;
    }
  }
  for (const a of adjustments) {
    const row = rowFor({
      time: a.time,
      tenant: a.tenant,
      project: a.project ?? null,
      user: a.user ?? null,
      feature: a.feature ?? null,
      key_id: a.key_id ?? null,
      provider: a.provider,
      model: a.model,
      requested_model: a.model,
      // A manual adjustment corrects no event: it has no route, status or trace.
      route: null,
      status: null,
      trace_id: null,
    });
    if (row !== null) row.adjustments_nano += a.amount_nano;
  }
  for (const row of rows.values()) row.net_nano = row.cost_nano + row.adjustments_nano;
  const cmp = (a: string | null | undefined, b: string | null | undefined) =>
    a === b ? 0 : a === null ? 1 : b === null ? -1 : (a ?? '') < (b ?? '') ? -1 : 1;
  return [...rows.values()].sort((a, b) => {
    if (a.net_nano !== b.net_nano) return a.net_nano > b.net_nano ? -1 : 1;
    for (const k of groups) {
      const c = cmp(a.keys[k], b.keys[k]);
      if (c !== 0) return c;
    }
    return 0;
  });
}

const H = 3_600_000;
const D = 86_400_000;

describe('planCostQuery', () => {
  const t = (iso: string): number => Date.parse(iso);
  const parts = (from: string, to: string, keys: GroupKey[]) =>
    planCostQuery(t(from), t(to), granularityFor(keys)).map((p) => [
      p.source,
      new Date(p.fromMs).toISOString(),
      new Date(p.toMs).toISOString(),
    ]);

  it('answers whole days from the daily rollup, whole hours around them hourly, partial hours raw', () => {
    expect(parts('2026-11-20T09:30:00Z', '2026-11-23T02:15:00Z', ['tenant', 'model', 'day'])).toEqual([
      ['rollup_daily', '2026-11-21T00:00:00.000Z', '2026-11-23T00:00:00.000Z'],
      ['rollup_hourly', '2026-11-20T10:00:00.000Z', '2026-11-21T00:00:00.000Z'],
      ['rollup_hourly', '2026-11-23T00:00:00.000Z', '2026-11-23T02:00:00.000Z'],
      ['events', '2026-11-20T09:30:00.000Z', '2026-11-20T10:00:00.000Z'],
      ['adjustments', '2026-11-20T09:30:00.000Z', '2026-11-20T10:00:00.000Z'],
      ['events', '2026-11-23T02:00:00.000Z', '2026-11-23T02:15:00.000Z'],
      ['adjustments', '2026-11-23T02:00:00.000Z', '2026-11-23T02:15:00.000Z'],
    ]);
    // Aligned on days: the daily rollup alone.
    expect(parts('2026-10-02T00:00:00Z', '2026-11-01T00:00:00Z', ['tenant', 'model', 'day'])).toEqual([
      ['rollup_daily', '2026-10-02T00:00:00.000Z', '2026-11-01T00:00:00.000Z'],
    ]);
  });

  it('stops at the hourly rollup for key and hour, and at raw events for user', () => {
    for (const keys of [['key'], ['hour'], ['tenant', 'key']] as GroupKey[][]) {
      expect(granularityFor(keys)).toBe('hourly');
      expect(parts('2026-11-20T09:30:00Z', '2026-11-23T00:00:00Z', keys).map((p) => p[0])).toEqual([
        'rollup_hourly',
        'events',
        'adjustments',
      ]);
    }
    for (const keys of [['user'], ['user', 'key'], ['day', 'user']] as GroupKey[][]) {
      expect(granularityFor(keys)).toBe('raw');
      expect(parts('2026-11-20T00:00:00Z', '2026-11-23T00:00:00Z', keys)).toEqual([
        ['events', '2026-11-20T00:00:00.000Z', '2026-11-23T00:00:00.000Z'],
        ['adjustments', '2026-11-20T00:00:00.000Z', '2026-11-23T00:00:00.000Z'],
      ]);
    }
    expect(granularityFor(['tenant', 'project', 'feature', 'provider', 'model', 'requested_model', 'day'])).toBe(
      'daily',
    );
  });

  it('reads a range inside one hour raw, a range of hours hourly, and nothing for an empty range', () => {
    expect(parts('2026-11-20T09:10:00Z', '2026-11-20T09:50:00Z', []).map((p) => p[0])).toEqual([
      'events',
      'adjustments',
    ]);
    expect(parts('2026-11-20T09:00:00Z', '2026-11-20T12:00:00Z', []).map((p) => p[0])).toEqual(['rollup_hourly']);
    expect(planCostQuery(t('2026-11-20T09:00:00Z'), t('2026-11-20T09:00:00Z'), 'daily')).toEqual([]);
    expect(
      planCostQuery(t('2026-11-20T00:00:00Z'), t('2026-11-22T00:00:00Z'), 'daily', 'raw').map((p) => p.source),
    ).toEqual(['events', 'adjustments']);
  });
});

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(
    `cost queries [${dialect.name}]${dialect.skip ? ` — ${dialect.skip}` : ''}`,
    () => {
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
            makeEvent({
              id: 'e2',
              time: at('2026-11-23T10:00:00.000Z'),
              cost_nano: 200n,
              buckets: { input: 20, output: 5 },
            }),
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
              refused_requests: 0,
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
              refused_requests: 0,
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
            {
              keys: {},
              requests: 2,
              tokens: { output: 2 },
              cost_nano: 100n,
              unpriced_requests: 0,
              estimated_requests: 0,
              refused_requests: 0,
              adjustments_nano: 0n,
              net_nano: 100n,
            },
          ]);
          const hour = await store.queryCosts(q(...wide, ['user'], { tenant: 'acme', hour: '2026-11-23T10:00:00Z' }));
          expect(hour.map((r) => [r.keys.user, r.requests, r.cost_nano])).toEqual([
            ['u-1', 1, 200n],
            [null, 1, 0n],
          ]);
          expect(await store.queryCosts(q(...wide, ['tenant'], { tenant: 'nobody' }))).toEqual([]);
          // A day filter outside [from, to) selects nothing.
          expect(
            await store.queryCosts(q('2026-11-23T00:00:00Z', '2026-11-24T00:00:00Z', [], { day: '2026-11-24' })),
          ).toEqual([]);
        });

        it('counts refused demand apart: never a request, and a group of refusals alone is a row', async () => {
          const range = ['2026-11-26T00:00:00Z', '2026-11-27T00:00:00Z'] as const;
          await store.insertEvents([
            makeEvent({ id: 'ok-26', time: at('2026-11-26T10:10:00Z'), tenant: 'acme', cost_nano: 7n }),
            ...['r1', 'r2'].map((id) =>
              makeEvent({
                id,
                time: at('2026-11-26T10:20:00Z'),
                tenant: 'broke',
                status: 'refused',
                http_status: 402,
                buckets: {},
                cost_nano: 0n,
                price_ref: 'not-billed',
                usage_issues: ['refused: budget_exceeded'],
              }),
            ),
          ]);
          // Whole hours (rollup) and a range inside the hour (raw events) agree.
          for (const [from, to] of [range, ['2026-11-26T10:05:00Z', '2026-11-26T10:30:00Z']] as const) {
            const rows = await store.queryCosts(q(from, to, ['tenant']));
            expect(rows.map((r) => [r.keys.tenant, r.requests, r.refused_requests, r.cost_nano, r.tokens])).toEqual([
              ['acme', 1, 0, 7n, { input: 100, output: 20 }],
              ['broke', 0, 2, 0n, {}],
            ]);
            expect(rows.every((r) => r.unpriced_requests === 0)).toBe(true);
          }
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
        const DAYS = 5;
        const SPAN = DAYS * D;
        let events: UsageEvent[];
        const adjustments: ManualAdjustment[] = [];
        let randomStore: LedgerStore;
        let randomTarget: LedgerTarget;
        const dims = {
          tenant: ['acme', 'globex', 'initech'],
          project: ['p1', 'p2', null],
          user: ['u1', 'u2', 'u3', null],
          feature: ['chat', 'search', null],
          key_id: ['k1', 'k2', null],
          provider: ['openai', 'anthropic'],
          requested_model: ['m-a', 'm-b'],
          model: ['m-a', 'm-a-2025', 'm-b'],
        };
        /** Times on day and hour boundaries are where daily, hourly and raw parts meet. */
        const randomTime = (): number => {
          const r = rand();
          if (r < 0.1) return START + Math.floor(rand() * DAYS) * D;
          if (r < 0.25) return START + Math.floor(rand() * DAYS * 24) * H;
          if (r < 0.3) return START + Math.floor(rand() * DAYS) * D - 1;
          return START + Math.floor(rand() * SPAN);
        };

        beforeAll(async () => {
          randomTarget = await dialect.target();
          randomStore = await randomTarget.open();
          events = Array.from({ length: 2000 }, (_, i) => {
            const buckets: Buckets = {};
            for (const b of BUCKETS) if (rand() < 0.4) buckets[b as Bucket] = Math.floor(rand() * 5000);
            const cost = rand() < 0.1 ? null : rand() < 0.05 ? 2n ** 55n + BigInt(i) : BigInt(Math.floor(rand() * 1e9));
            // Refused demand: counted apart from requests, no tokens, a known zero cost.
            const refused = rand() < 0.05;
            return makeEvent({
              id: `r-${i}`,
              time: new Date(randomTime()),
              tenant: pick(dims.tenant),
              project: pick(dims.project),
              user: pick(dims.user),
              feature: pick(dims.feature),
              key_id: pick(dims.key_id),
              provider: pick(dims.provider),
              requested_model: pick(dims.requested_model),
              model: pick(dims.model),
              route: pick(['openai.chat', 'anthropic.messages']),
              trace_id: pick([null, 't1', 't2']),
              ...(refused
                ? {
                    status: 'refused' as const,
                    http_status: 429,
                    buckets: {},
                    cost_nano: 0n,
                    usage_source: 'provider' as const,
                  }
                : {
                    status: pick(['ok', 'ok', 'ok', 'error'] as const),
                    buckets,
                    cost_nano: cost,
                    usage_source: pick(['provider', 'provider', 'estimated', 'reported'] as const),
                  }),
            });
          });
          // Half through settle (group commit), half through insertEvents, plus re-sent duplicates.
          await Promise.all(events.slice(0, 1000).map((e) => randomStore.settle(e)));
          await randomStore.insertEvents(events.slice(1000));
          await randomStore.insertEvents(events.slice(0, 100));
          // Credits and charges with the same dimensions, some on the same keys as events, some alone.
          for (let i = 0; i < 60; i++) {
            const model = pick(dims.model);
            adjustments.push({
              id: `adj-${i}`,
              time: new Date(randomTime()),
              tenant: pick(dims.tenant),
              project: pick(dims.project),
              user: pick(dims.user),
              feature: pick(dims.feature),
              key_id: pick(dims.key_id),
              provider: pick(dims.provider),
              model,
              amount_nano: BigInt(Math.floor((rand() - 0.7) * 5e9)),
              reason: 'test',
            });
          }
          for (const a of adjustments) expect(await randomStore.addAdjustment(a)).toBe(true);
          expect(await randomStore.addAdjustment(adjustments[0]!)).toBe(false);
        });

        afterAll(async () => {
          await randomTarget.dispose();
        });

        it('auto (daily + hourly + edges) == raw == reference, over random ranges, groupings and filters', async () => {
          const used = { daily: 0, hourly: 0, raw: 0 };
          for (let round = 0; round < 200; round++) {
            let a = START - H + Math.floor(rand() * (SPAN + 2 * H));
            let b = START - H + Math.floor(rand() * (SPAN + 2 * H));
            const align = rand();
            if (align < 0.3) {
              a = Math.floor(a / D) * D;
              b = Math.floor(b / D) * D;
            } else if (align < 0.6) {
              a = Math.floor(a / H) * H;
              b = Math.floor(b / H) * H;
            }
            if (a > b) [a, b] = [b, a];
            const groupBy = GROUP_KEYS.filter(
              (k) =>
                rand() <
                (k === 'user' || k === 'key' || k === 'hour'
                  ? 0.12
                  : k === 'route' || k === 'status' || k === 'trace'
                    ? 0.06
                    : 0.3),
            );
            const filter: CostQuery['filter'] = {};
            if (rand() < 0.3) filter.tenant = pick(['acme', 'globex']);
            if (rand() < 0.2) filter.project = pick(['p1', 'p2']);
            if (rand() < 0.15) filter.model = pick(['m-a', 'm-b']);
            if (rand() < 0.1) filter.feature = pick(['chat', 'search']);
            if (rand() < 0.1) filter.provider = pick(dims.provider);
            if (rand() < 0.1) filter.requested_model = pick(dims.requested_model);
            if (rand() < 0.08) filter.key = pick(['k1', 'k2']);
            if (rand() < 0.08) filter.user = pick(['u1', 'u2']);
            if (rand() < 0.04) filter.route = pick(['openai.chat', 'anthropic.messages']);
            if (rand() < 0.04) filter.status = pick(['ok', 'refused']);
            if (rand() < 0.04) filter.trace = pick(['t1', 't2']);
            if (rand() < 0.08) filter.day = pick(['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23']);
            const query: CostQuery = { from: new Date(a), to: new Date(b), groupBy, filter };
            const window = resolveWindow(query.from, query.to, filter);
            const plan = planCostQuery(
              window.fromMs!,
              window.toMs!,
              granularityFor([...groupBy, ...(Object.keys(filter) as GroupKey[])]),
            );
            if (plan.some((p) => p.source === 'rollup_daily')) used.daily++;
            else if (plan.some((p) => p.source === 'rollup_hourly')) used.hourly++;
            else used.raw++;
            const expected = reference(events, query, adjustments);
            const auto = await randomStore.queryCosts(query);
            const raw = await randomStore.queryCosts(query, 'raw');
            expect(auto, JSON.stringify({ round, a, b, groupBy, filter })).toEqual(expected);
            expect(raw).toEqual(expected);
          }
          // Every path was taken often enough to mean something.
          expect(used.daily).toBeGreaterThan(30);
          expect(used.hourly).toBeGreaterThan(30);
          expect(used.raw).toBeGreaterThan(30);
        });

        it('the whole data set sums to the reference totals', async () => {
          const all = await randomStore.queryCosts({
            from: new Date(START - 86_400_000),
            to: new Date(START + SPAN + 86_400_000),
            groupBy: [],
            filter: {},
          });
          expect(all).toEqual(
            reference(events, { from: new Date(0), to: new Date(2 ** 47), groupBy: [], filter: {} }, adjustments),
          );
          expect(all[0]!.requests + all[0]!.refused_requests).toBe(2000);
          expect(all[0]!.refused_requests).toBeGreaterThan(50);
        });
      });
    },
  );
}
