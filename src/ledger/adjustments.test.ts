import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RepricePricer } from './adjustments.js';
import type { LedgerStore } from './kysely-store.js';
import { ledgerDialects, type LedgerTarget } from './testing/dialects.js';
import { makeEvent, seededRandom } from './testing/fixtures.js';
import type { CostQuery, GroupKey, UsageEvent } from './types.js';

/** Repricing and manual adjustments on every dialect in DIALECTS. */

const at = (iso: string): Date => new Date(iso);
const DAY = { from: at('2026-11-23T00:00:00Z'), to: at('2026-11-24T00:00:00Z') };
const total = (groupBy: GroupKey[] = [], range = DAY): CostQuery => ({ ...range, groupBy, filter: {} });

/** A price of `nanoPerInput` per input token and 10× that per output token, with a ref naming it. */
function pricer(nanoPerInput: bigint, ref = `test:${nanoPerInput}`): RepricePricer {
  return (event) => ({
    cost_nano: BigInt(event.buckets.input ?? 0) * nanoPerInput + BigInt(event.buckets.output ?? 0) * nanoPerInput * 10n,
    price_ref: ref,
  });
}

const gpt = (overrides: Partial<UsageEvent>): UsageEvent =>
  makeEvent({
    provider: 'openai',
    model: 'gpt-4o',
    requested_model: 'gpt-4o',
    buckets: { input: 100, output: 10 },
    ...overrides,
  });

const reprice = (
  store: LedgerStore,
  p: RepricePricer,
  extra: { dryRun?: boolean; pageSize?: number; includeReported?: boolean } = {},
) =>
  store.reprice({
    provider: 'openai',
    model: 'gpt-4o',
    ...DAY,
    pricer: p,
    now: () => at('2026-12-01T00:00:00Z'),
    ...extra,
  });

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(
    `adjustments [${dialect.name}]${dialect.skip ? ` — ${dialect.skip}` : ''}`,
    () => {
      let target: LedgerTarget;
      let store: LedgerStore;

      beforeEach(async () => {
        target = await dialect.target();
        store = await target.open();
      });
      afterEach(async () => {
        await target.dispose();
      });

      it('matches a model family: `gpt-4o` reprices its dated snapshots, never gpt-4o-mini; no match lists the models held', async () => {
        await store.insertEvents([
          gpt({ id: 'snap', time: at('2026-11-23T10:15:00Z'), model: 'gpt-4o-2024-08-06', cost_nano: 200n }),
          gpt({ id: 'mini', time: at('2026-11-23T10:20:00Z'), model: 'gpt-4o-mini-2024-07-18', cost_nano: 200n }),
        ]);
        const family = await reprice(store, pricer(3n));
        expect(family).toMatchObject({ models: ['gpt-4o-2024-08-06'], scanned: 1, adjusted: 1 });
        const none = await store.reprice({ provider: 'openai', model: 'gpt-5', ...DAY, pricer: pricer(3n) });
        expect(none).toMatchObject({
          models: [],
          models_in_range: ['gpt-4o-2024-08-06', 'gpt-4o-mini-2024-07-18'],
          scanned: 0,
        });
      });

      it('appends one adjustment per changed event, reports list, adjustments and net, and a second run changes nothing', async () => {
        await store.insertEvents([
          // list 200 each at the old price of 1 nano/input token.
          gpt({ id: 'a', time: at('2026-11-23T10:15:00Z'), tenant: 'acme', cost_nano: 200n }),
          gpt({ id: 'b', time: at('2026-11-23T11:30:00Z'), tenant: 'globex', cost_nano: 200n }),
          // already at the new price
          gpt({ id: 'c', time: at('2026-11-23T12:00:00Z'), tenant: 'acme', cost_nano: 600n }),
          // another model and another day: untouched
          gpt({ id: 'm', time: at('2026-11-23T10:00:00Z'), model: 'gpt-4o-mini', cost_nano: 200n }),
          gpt({ id: 'd', time: at('2026-11-24T10:00:00Z'), cost_nano: 200n }),
        ]);
        const first = await reprice(store, pricer(3n));
        expect(first).toEqual({
          models: ['gpt-4o'],
          models_in_range: [],
          scanned: 3,
          adjusted: 2,
          newly_priced: 0,
          delta_nano: 800n,
          unchanged: 1,
          skipped_not_billed: 0,
          skipped_reported: 0,
          no_price: 0,
          conflicts: 0,
        });
        const rows = await store.queryCosts(total(['tenant']));
        expect(rows.map((r) => [r.keys.tenant, r.requests, r.cost_nano, r.adjustments_nano, r.net_nano])).toEqual([
          ['acme', 3, 1000n, 400n, 1400n],
          ['globex', 1, 200n, 400n, 600n],
        ]);
        expect(await target.count('events')).toBe(5);

        const second = await reprice(store, pricer(3n));
        expect(second).toMatchObject({ scanned: 3, adjusted: 0, unchanged: 3, delta_nano: 0n });
        expect(await store.queryCosts(total(['tenant']))).toEqual(rows);
        // The events themselves are never rewritten.
        expect((await store.getEvent('a'))?.cost_nano).toBe(200n);
      });

      it("an event's adjustment follows it into its route, status and trace groups, which only events keep", async () => {
        await store.insertEvents([
          gpt({ id: 'r1', time: at('2026-11-23T10:15:00Z'), route: 'openai.chat', trace_id: 't1', cost_nano: 200n }),
          gpt({
            id: 'r2',
            time: at('2026-11-23T11:15:00Z'),
            route: 'openai.responses',
            trace_id: null,
            cost_nano: 200n,
          }),
        ]);
        await reprice(store, pricer(3n));
        const byRoute = await store.queryCosts(total(['route', 'trace', 'status']));
        expect(byRoute.map((r) => [r.keys.route, r.keys.trace, r.keys.status, r.adjustments_nano, r.net_nano])).toEqual(
          [
            ['openai.chat', 't1', 'ok', 400n, 600n],
            ['openai.responses', null, 'ok', 400n, 600n],
          ],
        );
        const filtered = await store.queryCosts({ ...total([]), filter: { route: 'openai.responses' } });
        expect(filtered.map((r) => r.net_nano)).toEqual([600n]);
      });

      it('follows a price through A -> B -> A -> B with one adjustment per change, net always the current price', async () => {
        await store.insertEvents([
          gpt({ id: 'x', time: at('2026-11-23T10:15:00Z'), cost_nano: 200n, price_ref: 'test:1' }),
        ]);
        const prices = [3n, 1n, 3n, 3n, 5n];
        const nets: bigint[] = [];
        for (const p of prices) {
          await reprice(store, pricer(p));
          const [row] = await store.queryCosts(total());
          nets.push(row!.net_nano);
        }
        expect(nets).toEqual([600n, 200n, 600n, 600n, 1000n]);
        const [row] = await store.queryCosts(total());
        expect(row).toMatchObject({ requests: 1, cost_nano: 200n, adjustments_nano: 800n, net_nano: 1000n });
      });

      it('prices a previously unpriced event by an adjustment; its list cost stays null and it still counts as unpriced at list', async () => {
        await store.insertEvents([
          gpt({ id: 'u', time: at('2026-11-23T10:15:00Z'), cost_nano: null, price_ref: null }),
          gpt({ id: 'p', time: at('2026-11-23T10:20:00Z'), cost_nano: 200n }),
        ]);
        expect(await reprice(store, () => ({ cost_nano: null, price_ref: null }))).toMatchObject({
          adjusted: 0,
          no_price: 2,
        });
        const result = await reprice(store, pricer(2n));
        expect(result).toMatchObject({ adjusted: 2, newly_priced: 1, delta_nano: 400n + 200n });
        const [row] = await store.queryCosts(total());
        expect(row).toMatchObject({
          requests: 2,
          cost_nano: 200n,
          unpriced_requests: 1,
          adjustments_nano: 600n,
          net_nano: 800n,
        });
        expect((await store.getEvent('u'))?.cost_nano).toBeNull();
        expect(await reprice(store, pricer(2n))).toMatchObject({ adjusted: 0, unchanged: 2 });
        // A price that disappears again is not taken back: the last known price stays.
        expect(await reprice(store, () => ({ cost_nano: null, price_ref: null }))).toMatchObject({
          adjusted: 0,
          no_price: 2,
        });
        expect((await store.queryCosts(total()))[0]?.net_nano).toBe(800n);
      });

      it('never reprices not-billed events, and leaves sender-reported costs unless asked', async () => {
        await store.insertEvents([
          gpt({ id: 'nb', time: at('2026-11-23T10:00:00Z'), cost_nano: 0n, price_ref: 'not-billed' }),
          gpt({ id: 'rep', time: at('2026-11-23T10:05:00Z'), cost_nano: 7n, price_ref: 'reported:billing' }),
        ]);
        expect(await reprice(store, pricer(3n))).toMatchObject({
          scanned: 2,
          adjusted: 0,
          skipped_not_billed: 1,
          skipped_reported: 1,
        });
        expect(await reprice(store, pricer(3n), { includeReported: true })).toMatchObject({
          adjusted: 1,
          delta_nano: 593n,
          skipped_not_billed: 1,
        });
      });

      it('two concurrent repricers never add up their deltas: each event ends at one of the two prices', async () => {
        await store.insertEvents(
          Array.from({ length: 40 }, (_, i) =>
            gpt({ id: `cc-${i}`, time: at('2026-11-23T10:00:00Z'), cost_nano: 200n }),
          ),
        );
        const [one, two] = await Promise.all([
          reprice(store, pricer(3n), { pageSize: 5 }),
          reprice(store, pricer(5n), { pageSize: 5 }),
        ]);
        expect(one.adjusted + one.conflicts + one.unchanged).toBe(40);
        expect(two.adjusted + two.conflicts + two.unchanged).toBe(40);
        const perEvent = await store.queryCosts({ ...total(), groupBy: ['hour'] });
        const net = perEvent[0]!.net_nano;
        // 40 events at 600 or 1000 each; a double-applied delta would leave one above 1000.
        expect(net >= 40n * 600n && net <= 40n * 1000n).toBe(true);
        expect(await reprice(store, pricer(5n))).toMatchObject({ conflicts: 0 });
        expect((await store.queryCosts(total()))[0]?.net_nano).toBe(40n * 1000n);
      });

      it('a dry run counts the same adjustments and writes none', async () => {
        await store.insertEvents([gpt({ id: 'dry', time: at('2026-11-23T10:15:00Z'), cost_nano: 200n })]);
        expect(await reprice(store, pricer(3n), { dryRun: true })).toMatchObject({ adjusted: 1, delta_nano: 400n });
        expect((await store.queryCosts(total()))[0]).toMatchObject({ adjustments_nano: 0n, net_nano: 200n });
        expect(await reprice(store, pricer(3n))).toMatchObject({ adjusted: 1, delta_nano: 400n });
      });

      it('pages through more events than one page, and a pricer that throws writes nothing of its page', async () => {
        const events = Array.from({ length: 25 }, (_, i) =>
          gpt({
            id: `pg-${String(i).padStart(2, '0')}`,
            time: at(`2026-11-23T${String(i % 24).padStart(2, '0')}:00:00Z`),
            cost_nano: 200n,
          }),
        );
        await store.insertEvents(events);
        let calls = 0;
        const failing: RepricePricer = (e) => {
          if (++calls > 12) throw new Error('price book exploded');
          return pricer(3n)(e);
        };
        await expect(reprice(store, failing, { pageSize: 10 })).rejects.toThrow('price book exploded');
        // The first page (10) committed, the second failed before its transaction.
        expect((await store.queryCosts(total()))[0]?.adjustments_nano).toBe(4000n);
        expect(await reprice(store, pricer(3n), { pageSize: 4 })).toMatchObject({
          scanned: 25,
          adjusted: 15,
          unchanged: 10,
        });
        expect((await store.queryCosts(total()))[0]?.net_nano).toBe(25n * 600n);
      });

      it('daily and hourly rollup adjustment sums equal raw sums over random ranges and groupings', async () => {
        const rand = seededRandom(7);
        const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
        const H = 3_600_000;
        const D = 86_400_000;
        const start = at('2026-11-22T00:00:00Z').getTime();
        const events = Array.from({ length: 400 }, (_, i) =>
          gpt({
            id: `r-${i}`,
            time: new Date(rand() < 0.2 ? start + Math.floor(rand() * 72) * H : start + Math.floor(rand() * 3 * D)),
            tenant: pick(['acme', 'globex']),
            project: pick(['p1', null]),
            user: pick(['u1', null]),
            key_id: pick(['k1', 'k2', null]),
            feature: pick(['chat', null]),
            cost_nano: rand() < 0.1 ? null : BigInt(Math.floor(rand() * 1000)),
            buckets: { input: Math.floor(rand() * 500), output: Math.floor(rand() * 50) },
          }),
        );
        await store.insertEvents(events);
        const range = { from: new Date(start), to: new Date(start + 3 * D) };
        await store.reprice({ provider: 'openai', model: 'gpt-4o', ...range, pricer: pricer(2n) });
        await store.reprice({ provider: 'openai', model: 'gpt-4o', ...range, pricer: pricer(1n), pageSize: 37 });
        await store.addAdjustment({
          id: 'credit-1',
          time: at('2026-11-23T13:30:00Z'),
          tenant: 'acme',
          provider: 'manual',
          model: 'manual',
          amount_nano: -5000n,
          reason: 'credit',
        });
        await store.addAdjustment({
          id: 'credit-2',
          time: at('2026-11-24T00:00:00Z'),
          tenant: 'globex',
          key_id: 'k1',
          provider: 'manual',
          model: 'manual',
          amount_nano: -70n,
          reason: 'credit',
        });
        for (let round = 0; round < 80; round++) {
          let a = start - H + Math.floor(rand() * (3 * D + 2 * H));
          let b = start - H + Math.floor(rand() * (3 * D + 2 * H));
          const align = rand();
          if (align < 0.4) [a, b] = [Math.floor(a / D) * D, Math.floor(b / D) * D];
          else if (align < 0.7) [a, b] = [Math.floor(a / H) * H, Math.floor(b / H) * H];
          if (a > b) [a, b] = [b, a];
          const groupBy = (
            ['tenant', 'project', 'user', 'key', 'feature', 'hour', 'day', 'model'] as GroupKey[]
          ).filter(() => rand() < 0.3);
          const query: CostQuery = {
            from: new Date(a),
            to: new Date(b),
            groupBy,
            filter: rand() < 0.3 ? { tenant: 'acme' } : {},
          };
          expect(await store.queryCosts(query), JSON.stringify(query)).toEqual(await store.queryCosts(query, 'raw'));
        }
        const [all] = await store.queryCosts({ ...range, groupBy: [], filter: {} });
        const expectedNet =
          events.reduce((sum, e) => sum + BigInt(e.buckets.input ?? 0) + 10n * BigInt(e.buckets.output ?? 0), 0n) -
          5070n;
        expect(all?.net_nano).toBe(expectedNet);
      });

      it('a reprice running alongside settles and inserts keeps rollups equal to raw sums', async () => {
        const base = at('2026-11-23T00:00:00Z').getTime();
        const batch = (prefix: string, n: number): UsageEvent[] =>
          Array.from({ length: n }, (_, i) =>
            gpt({ id: `${prefix}-${i}`, time: new Date(base + ((i * 7_919_000) % 86_400_000)), cost_nano: 200n }),
          );
        await store.insertEvents(batch('old', 200));
        // Reprice pages open Kysely transactions while settles and inserts write through their own path.
        await Promise.all([
          reprice(store, pricer(3n), { pageSize: 16 }),
          ...batch('settled', 100).map((e) => store.settle(e)),
          store.insertEvents(batch('inserted', 150)),
          store.insertEvents(batch('more', 150)),
        ]);
        for (const groupBy of [[], ['day'], ['hour'], ['tenant', 'key']] as GroupKey[][]) {
          const query = total(groupBy);
          expect(await store.queryCosts(query), JSON.stringify(groupBy)).toEqual(await store.queryCosts(query, 'raw'));
        }
        const [row] = await store.queryCosts(total());
        expect(row?.requests).toBe(600);
        // The second run finishes what the first could not see (events written after its pages).
        await reprice(store, pricer(3n));
        expect((await store.queryCosts(total()))[0]?.net_nano).toBe(600n * 600n);
      });
    },
  );
}

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(`manual adjustments [${dialect.name}]`, () => {
    let target: LedgerTarget;
    let store: LedgerStore;
    beforeEach(async () => {
      target = await dialect.target();
      store = await target.open();
    });
    afterEach(async () => {
      await target.dispose();
    });

    const credit = {
      id: 'credit-42',
      time: at('2026-11-23T09:00:00Z'),
      tenant: 'acme',
      project: 'search',
      provider: 'openai',
      model: 'gpt-4o',
      amount_nano: -12_500_000_000n,
      reason: 'vendor credit',
    };

    it('shows a credit with no requests as its own row, idempotent on its id', async () => {
      await store.insertEvents([
        gpt({
          id: 'e',
          time: at('2026-11-23T09:30:00Z'),
          tenant: 'acme',
          project: 'search',
          cost_nano: 20_000_000_000n,
        }),
      ]);
      expect(await store.addAdjustment(credit)).toBe(true);
      expect(await store.addAdjustment(credit)).toBe(false);
      expect(
        await store.addAdjustment({ ...credit, id: 'credit-43', tenant: 'globex', project: null, amount_nano: -1n }),
      ).toBe(true);
      const rows = await store.queryCosts(total(['tenant', 'project']));
      expect(
        rows.map((r) => [r.keys.tenant, r.keys.project, r.requests, r.cost_nano, r.adjustments_nano, r.net_nano]),
      ).toEqual([
        ['acme', 'search', 1, 20_000_000_000n, -12_500_000_000n, 7_500_000_000n],
        ['globex', null, 0, 0n, -1n, -1n],
      ]);
      // Inside a partial hour (raw path) the credit shows too.
      const [partial] = await store.queryCosts({
        from: at('2026-11-23T08:59:00Z'),
        to: at('2026-11-23T09:01:00Z'),
        groupBy: [],
        filter: {},
      });
      expect(partial).toMatchObject({ requests: 0, adjustments_nano: -12_500_000_001n });
    });

    it('keeps adjustments beyond 2^53 nano-USD exact, negative ones too, in rollup and raw answers', async () => {
      const big = 2n ** 60n + 7n;
      expect(await store.addAdjustment({ ...credit, id: 'big-charge', amount_nano: big })).toBe(true);
      expect(
        await store.addAdjustment({
          ...credit,
          id: 'big-credit',
          time: at('2026-11-23T10:30:00Z'),
          amount_nano: -big - 5n,
        }),
      ).toBe(true);
      for (const strategy of ['auto', 'raw'] as const) {
        expect(
          (await store.queryCosts(total(['hour']), strategy)).map((r) => [r.keys.hour, r.adjustments_nano, r.net_nano]),
        ).toEqual([
          ['2026-11-23T09:00:00Z', big, big],
          ['2026-11-23T10:00:00Z', -big - 5n, -big - 5n],
        ]);
        expect((await store.queryCosts(total([]), strategy))[0]?.adjustments_nano).toBe(-5n);
      }
      await store.addAdjustment({ ...credit, id: 'big-2', time: at('2026-11-23T15:00:00Z'), amount_nano: big });
      for (const strategy of ['auto', 'raw'] as const) {
        expect((await store.queryCosts(total(['tenant']), strategy))[0]?.net_nano).toBe(big - 5n);
      }
    });

    it.each([
      ['id', { id: 'has space' }, 'id'],
      ['tenant', { tenant: '' }, 'tenant'],
      ['reason', { reason: ' ' }, 'reason'],
      ['time', { time: new Date('nope') }, 'time'],
      ['amount', { amount_nano: 2n ** 63n }, 'amount'],
    ])('rejects a bad %s naming it', async (_name, patch, param) => {
      await expect(store.addAdjustment({ ...credit, ...patch })).rejects.toMatchObject({
        code: 'invalid_request',
        param,
      });
      expect(await store.queryCosts(total())).toEqual([]);
    });

    it('reprice rejects a bad range or page size naming the field', async () => {
      const base = { provider: 'openai', model: 'gpt-4o', ...DAY, pricer: pricer(1n) };
      await expect(store.reprice({ ...base, from: DAY.to, to: DAY.from })).rejects.toMatchObject({ param: 'from' });
      await expect(store.reprice({ ...base, to: new Date('x') })).rejects.toMatchObject({ param: 'to' });
      await expect(store.reprice({ ...base, pageSize: 0 })).rejects.toMatchObject({ param: 'pageSize' });
      await expect(store.reprice({ ...base, model: '' })).rejects.toMatchObject({ param: 'model' });
    });
  });
}
