import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import { backendCases, type Backend } from './testing/index.js';
import { MAX_COUNTER_NANO, type BudgetCounterRef, type ReserveRequest } from './index.js';

const USD = 1_000_000_000n;
const CENT = USD / 100n;

const cases = await backendCases('budgets');

function reserveOf(counters: BudgetCounterRef[], amount: bigint, extra: Partial<ReserveRequest> = {}): ReserveRequest {
  return { leaseId: randomUUID(), counters, amount, ttlMs: 60_000, failMode: 'closed', ...extra };
}

for (const backendCase of cases) {
  describe.skipIf(backendCase.skip !== null)(`budget ledger on ${backendCase.name}`, () => {
    let backend: Backend;
    beforeEach(async () => {
      backend = await backendCase.open();
    });
    afterEach(async () => {
      await backend.dispose();
    });

    it('reserves within the limit and refuses past it, naming the counter and its state', async () => {
      const { budgets } = backend.counters;
      const budget = { key: 'tenant-a:2026-05', limit: 10n * CENT };
      const first = await budgets.reserve(reserveOf([budget], 6n * CENT));
      expect(first).toMatchObject({ ok: true, replayed: false, failedOpen: false });
      expect(first.ok && first.counters).toEqual([
        { key: budget.key, spent: 0n, reserved: 6n * CENT, limit: 10n * CENT },
      ]);

      const second = await budgets.reserve(reserveOf([budget], 5n * CENT));
      expect(second).toEqual({
        ok: false,
        key: budget.key,
        spent: 0n,
        reserved: 6n * CENT,
        limit: 10n * CENT,
        amount: 5n * CENT,
      });

      const exact = await budgets.reserve(reserveOf([budget], 4n * CENT));
      expect(exact.ok).toBe(true);
      expect(await budgets.status([budget])).toEqual([
        { key: budget.key, spent: 0n, reserved: 10n * CENT, limit: 10n * CENT },
      ]);
    });

    it('reserves on every counter or on none (all-or-nothing across budgets)', async () => {
      const { budgets } = backend.counters;
      const tenant = { key: 'tenant', limit: 100n * CENT };
      const project = { key: 'project', limit: 50n * CENT };
      const user = { key: 'user', limit: 10n * CENT };
      const lease = await budgets.reserve(reserveOf([user], 8n * CENT));
      expect(lease.ok).toBe(true);

      const refused = await budgets.reserve(reserveOf([tenant, project, user], 5n * CENT));
      expect(refused).toMatchObject({ ok: false, key: 'user', reserved: 8n * CENT, limit: 10n * CENT });
      expect(await budgets.status([tenant, project, user])).toEqual([
        { key: 'tenant', spent: 0n, reserved: 0n, limit: 100n * CENT },
        { key: 'project', spent: 0n, reserved: 0n, limit: 50n * CENT },
        { key: 'user', spent: 0n, reserved: 8n * CENT, limit: 10n * CENT },
      ]);

      const admitted = await budgets.reserve(reserveOf([tenant, project, user], 2n * CENT));
      expect(admitted.ok && admitted.counters.map((c) => c.reserved)).toEqual([2n * CENT, 2n * CENT, 10n * CENT]);
    });

    it('names the first failing counter in request order when several fail', async () => {
      const { budgets } = backend.counters;
      const refused = await budgets.reserve(
        reserveOf(
          [
            { key: 'ok', limit: USD },
            { key: 'small', limit: 1n },
            { key: 'smaller', limit: 0n },
          ],
          2n,
        ),
      );
      expect(refused).toMatchObject({ ok: false, key: 'small', limit: 1n });
    });

    it('tracks a counter without a limit and never refuses on it', async () => {
      const { budgets } = backend.counters;
      const alertOnly = { key: 'alert-only', limit: null };
      const result = await budgets.reserve(reserveOf([alertOnly], 1_000n * USD));
      expect(result.ok && result.counters).toEqual([
        { key: 'alert-only', spent: 0n, reserved: 1_000n * USD, limit: null },
      ]);
    });

    it('reserves and settles a different amount per counter (USD beside tokens), all or nothing', async () => {
      const { budgets } = backend.counters;
      const usd = { key: 'per-usd', limit: 10n * CENT };
      const tokens = { key: 'per-usd:tokens', limit: 1_000n };
      const first = await budgets.reserve(reserveOf([usd, tokens], 0n, { amounts: [2n * CENT, 600n] }));
      expect(first.ok && first.lease.amounts).toEqual([2n * CENT, 600n]);
      expect(first.ok && first.counters.map((c) => c.reserved)).toEqual([2n * CENT, 600n]);
      // The token counter refuses, naming its own amount; the USD counter is left untouched.
      const refused = await budgets.reserve(reserveOf([usd, tokens], 0n, { amounts: [CENT, 500n] }));
      expect(refused).toEqual({ ok: false, key: tokens.key, spent: 0n, reserved: 600n, limit: 1_000n, amount: 500n });
      expect((await budgets.status([usd])).map((c) => c.reserved)).toEqual([2n * CENT]);
      if (!first.ok) throw new Error('reserved above');
      const settled = await budgets.settle(first.lease, [3n * CENT, 450n]);
      expect(settled).toMatchObject({ outcome: 'settled' });
      expect(await budgets.status([usd, tokens])).toEqual([
        { key: usd.key, spent: 3n * CENT, reserved: 0n, limit: usd.limit },
        { key: tokens.key, spent: 450n, reserved: 0n, limit: tokens.limit },
      ]);
      const bad = await budgets.settle({ id: 'other', counters: [usd, tokens] }, [1n]).catch((e: unknown) => e);
      expect(bad).toMatchObject({ code: 'invalid_request', param: 'actual' });
    });

    it('admits exactly floor(limit / amount) of 1,000 concurrent reserves', async () => {
      const { budgets } = backend.counters;
      const budget = { key: 'one-dollar', limit: USD };
      const amount = 3_000_000n; // $0.003 -> 333 fit in $1.00
      const results = await Promise.all(
        Array.from({ length: 1000 }, () => budgets.reserve(reserveOf([budget], amount))),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(333);
      expect(results.filter((r) => !r.ok)).toHaveLength(667);
      expect(await budgets.status([budget])).toEqual([
        { key: budget.key, spent: 0n, reserved: 999_000_000n, limit: USD },
      ]);
    });

    it('holds the limit across three replicas reserving concurrently, then settling', async () => {
      const replicas = [backend.counters, backend.replica(), backend.replica()];
      const budget = { key: 'shared', limit: USD };
      const amount = 7_000_000n; // floor($1.00 / $0.007) = 142
      const results = await Promise.all(
        Array.from({ length: 999 }, (_, i) => replicas[i % 3]!.budgets.reserve(reserveOf([budget], amount))),
      );
      const admitted = results.flatMap((r) => (r.ok ? [r] : []));
      expect(admitted).toHaveLength(142);
      await Promise.all(admitted.map((r, i) => replicas[i % 3]!.budgets.settle(r.lease, 6_000_000n)));
      expect(await backend.counters.budgets.status([budget])).toEqual([
        { key: 'shared', spent: 852_000_000n, reserved: 0n, limit: USD },
      ]);
    });

    it('never lets spent pass the limit when settles free room while others reserve', async () => {
      const replicas = [backend.counters, backend.replica(), backend.replica()];
      const budget = { key: 'churn', limit: USD };
      const amount = 7_000_000n;
      const outcomes = await Promise.all(
        Array.from({ length: 600 }, async (_, i) => {
          const { budgets } = replicas[i % 3]!;
          const result = await budgets.reserve(reserveOf([budget], amount));
          if (!result.ok) return false;
          await budgets.settle(result.lease, amount - 1_000_000n); // each costs $0.001 less than reserved
          return true;
        }),
      );
      const admitted = BigInt(outcomes.filter(Boolean).length);
      expect(admitted).toBeGreaterThanOrEqual(142n);
      const [state] = await backend.counters.budgets.status([budget]);
      expect(state).toEqual({ key: 'churn', spent: admitted * 6_000_000n, reserved: 0n, limit: USD });
      expect(state!.spent).toBeLessThanOrEqual(USD);
    });

    it('settles lower and higher than reserved; a higher settle may pass the limit, then refuses', async () => {
      const { budgets } = backend.counters;
      const budget = { key: 'settle', limit: 10n * CENT };
      const low = await budgets.reserve(reserveOf([budget], 4n * CENT));
      if (!low.ok) throw new Error('expected ok');
      expect(await budgets.settle(low.lease, 1n * CENT)).toEqual({
        outcome: 'settled',
        counters: [{ key: 'settle', spent: 1n * CENT, reserved: 0n, limit: 10n * CENT }],
      });

      const high = await budgets.reserve(reserveOf([budget], 9n * CENT));
      if (!high.ok) throw new Error('expected ok');
      const settled = await budgets.settle(high.lease, 12n * CENT);
      expect(settled.counters).toEqual([{ key: 'settle', spent: 13n * CENT, reserved: 0n, limit: 10n * CENT }]);
      expect(await budgets.reserve(reserveOf([budget], 0n))).toMatchObject({ ok: false, spent: 13n * CENT });
    });

    it('makes settle, release and reserve idempotent per lease id', async () => {
      const { budgets } = backend.counters;
      const budget = { key: 'idem', limit: USD };
      const request = reserveOf([budget], 5n * CENT);
      const first = await budgets.reserve(request);
      const again = await budgets.reserve(request);
      expect(again).toMatchObject({ ok: true, replayed: true });
      expect(again.ok && again.counters[0]!.reserved).toBe(5n * CENT);
      if (!first.ok) throw new Error('expected ok');

      expect((await budgets.settle(first.lease, 3n * CENT)).outcome).toBe('settled');
      expect(await budgets.settle(first.lease, 3n * CENT)).toEqual({ outcome: 'duplicate', counters: [] });
      expect(await budgets.release(first.lease)).toEqual({ outcome: 'duplicate' });
      expect(await budgets.reserve(request)).toMatchObject({ ok: true, replayed: true });
      expect(await budgets.status([budget])).toEqual([{ key: 'idem', spent: 3n * CENT, reserved: 0n, limit: USD }]);
    });

    it('releases a reservation without spending, once', async () => {
      const { budgets } = backend.counters;
      const budget = { key: 'release', limit: USD };
      const result = await budgets.reserve(reserveOf([budget, { key: 'release-2', limit: null }], 5n * CENT));
      if (!result.ok) throw new Error('expected ok');
      expect(await budgets.release(result.lease)).toEqual({ outcome: 'released' });
      expect(await budgets.release(result.lease)).toEqual({ outcome: 'duplicate' });
      expect(await budgets.settle(result.lease, CENT)).toEqual({ outcome: 'duplicate', counters: [] });
      expect(await budgets.status([budget])).toEqual([{ key: 'release', spent: 0n, reserved: 0n, limit: USD }]);
      expect(await budgets.release({ id: 'never-reserved', counters: [budget] })).toEqual({ outcome: 'absent' });
    });

    it('reclaims an expired lease (a crashed replica) and still counts its late settle', async () => {
      const crashed = backend.replica();
      const budget = { key: 'expiry', limit: 10n * CENT };
      const lost = await crashed.budgets.reserve(reserveOf([budget], 8n * CENT, { ttlMs: 200 }));
      if (!lost.ok) throw new Error('expected ok');
      const { budgets } = backend.counters;
      expect(await budgets.reserve(reserveOf([budget], 5n * CENT))).toMatchObject({ ok: false, reserved: 8n * CENT });

      await backend.advance(250);
      expect(await budgets.status([budget])).toEqual([{ key: 'expiry', spent: 0n, reserved: 0n, limit: 10n * CENT }]);
      const next = await budgets.reserve(reserveOf([budget], 5n * CENT));
      expect(next.ok).toBe(true);

      // The request behind the expired lease did finish: its cost still counts, once.
      expect(await budgets.settle(lost.lease, 2n * CENT)).toEqual({
        outcome: 'expired',
        counters: [{ key: 'expiry', spent: 2n * CENT, reserved: 5n * CENT, limit: 10n * CENT }],
      });
      expect((await budgets.settle(lost.lease, 2n * CENT)).outcome).toBe('duplicate');
    });

    it('reclaims only the expired leases of a counter', async () => {
      const { budgets } = backend.counters;
      const budget = { key: 'mixed-ttl', limit: USD };
      await budgets.reserve(reserveOf([budget], 1n * CENT, { ttlMs: 150 }));
      await budgets.reserve(reserveOf([budget], 2n * CENT, { ttlMs: 60_000 }));
      await budgets.reserve(reserveOf([budget], 4n * CENT, { ttlMs: 150 }));
      await backend.advance(200);
      expect(await budgets.status([budget])).toEqual([
        { key: 'mixed-ttl', spent: 0n, reserved: 2n * CENT, limit: USD },
      ]);
    });

    it('drops a counter after its expireAtMs (an old budget period)', async () => {
      const { budgets } = backend.counters;
      const period = { key: 'day:2026-05-01', limit: USD, expireAtMs: backend.now() + 200 };
      const result = await budgets.reserve(reserveOf([period], 5n * CENT));
      if (!result.ok) throw new Error('expected ok');
      await budgets.settle(result.lease, 4n * CENT);
      expect((await budgets.status([period]))[0]!.spent).toBe(4n * CENT);
      await backend.advance(250);
      expect(await budgets.status([period])).toEqual([{ key: period.key, spent: 0n, reserved: 0n, limit: USD }]);
    });

    it('keeps bigint amounts exact up to MAX_COUNTER_NANO and refuses larger ones', async () => {
      const { budgets } = backend.counters;
      const budget = { key: 'huge', limit: MAX_COUNTER_NANO };
      const big = await budgets.reserve(reserveOf([budget], MAX_COUNTER_NANO - 1n));
      expect(big.ok && big.counters[0]!.reserved).toBe(9_007_199_254_740_990n);
      expect(await budgets.reserve(reserveOf([budget], 2n))).toMatchObject({
        ok: false,
        reserved: 9_007_199_254_740_990n,
      });
      expect((await budgets.reserve(reserveOf([budget], 1n))).ok).toBe(true);
      if (!big.ok) throw new Error('expected ok');
      const settled = await budgets.settle(big.lease, 9_007_199_254_740_989n);
      expect(settled.counters).toEqual([
        { key: 'huge', spent: 9_007_199_254_740_989n, reserved: 1n, limit: MAX_COUNTER_NANO },
      ]);

      await expect(budgets.reserve(reserveOf([budget], MAX_COUNTER_NANO + 1n))).rejects.toMatchObject({
        code: 'invalid_request',
        param: 'amount',
      });
      await expect(budgets.reserve(reserveOf([{ key: 'x', limit: MAX_COUNTER_NANO + 1n }], 1n))).rejects.toMatchObject({
        code: 'invalid_request',
        param: 'counters[0].limit',
      });
      await expect(budgets.settle(big.lease, MAX_COUNTER_NANO + 1n)).rejects.toMatchObject({ param: 'actual' });
    });

    it('rejects malformed requests before touching the store', async () => {
      const { budgets } = backend.counters;
      const bad: [Partial<ReserveRequest>, string][] = [
        [{ counters: [] }, 'counters'],
        [
          {
            counters: [
              { key: 'a', limit: 1n },
              { key: 'a', limit: 2n },
            ],
          },
          'counters',
        ],
        [{ counters: [{ key: '', limit: 1n }] }, 'counters[0].key'],
        [{ amount: -1n }, 'amount'],
        [{ ttlMs: 0 }, 'ttlMs'],
        [{ leaseId: '' }, 'leaseId'],
        [{ counters: [{ key: 'a', limit: 1n, expireAtMs: 1.5 }] }, 'counters[0].expireAtMs'],
        [{ amounts: [1n, 2n] }, 'amounts'],
        [{ amounts: [-1n] }, 'amounts[0]'],
      ];
      for (const [change, param] of bad) {
        const request = { ...reserveOf([{ key: 'a', limit: USD }], 1n), ...change };
        const error = await budgets.reserve(request).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PertokenError);
        expect(error).toMatchObject({ code: 'invalid_request', param, status: 400 });
      }
      expect(await budgets.status([{ key: 'a', limit: USD }])).toEqual([
        { key: 'a', spent: 0n, reserved: 0n, limit: USD },
      ]);
    });

    it('seeds spent from the ledger only where no counter exists yet', async () => {
      const { budgets } = backend.counters;
      const existing = { key: 'existing', limit: USD };
      const fresh = { key: 'fresh', limit: USD };
      const lease = await budgets.reserve(reserveOf([existing], CENT));
      if (!lease.ok) throw new Error('expected ok');
      await budgets.settle(lease.lease, CENT);

      expect(
        await budgets.seed([
          { counter: existing, spent: 50n * CENT },
          { counter: fresh, spent: 70n * CENT },
        ]),
      ).toEqual(['fresh']);
      expect(await budgets.status([existing, fresh])).toEqual([
        { key: 'existing', spent: CENT, reserved: 0n, limit: USD },
        { key: 'fresh', spent: 70n * CENT, reserved: 0n, limit: USD },
      ]);
      expect(await budgets.reserve(reserveOf([fresh], 31n * CENT))).toMatchObject({ ok: false, spent: 70n * CENT });
    });

    it('counts calls in stats', async () => {
      const before = backend.counters.stats().calls;
      await backend.counters.budgets.status([{ key: 'stats', limit: null }]);
      expect(backend.counters.stats()).toMatchObject({
        backend: backend.name,
        calls: before + 1,
        failures: 0,
        failOpenAdmits: 0,
        connected: true,
      });
      expect(await backend.counters.ping()).toBe(true);
    });
  });
}
