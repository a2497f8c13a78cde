import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import type { LedgerStore } from './kysely-store.js';
import { INTERRUPTED_ISSUE } from './recovery.js';
import { ledgerDialects, type LedgerTable, type LedgerTarget } from './testing/dialects.js';
import { makeEvent, makeReservation } from './testing/fixtures.js';
import type { InterruptedPricer, UsageEvent } from './types.js';

/** The Store contract on every dialect in DIALECTS (see testing/dialects.ts). */

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(
    `ledger store [${dialect.name}]${dialect.skip ? ` — ${dialect.skip}` : ''}`,
    () => {
      let target: LedgerTarget;

      function openStore(options: { maxBatch?: number } = {}): Promise<LedgerStore> {
        return target.open(options);
      }

      function count(table: LedgerTable): Promise<number> {
        return target.count(table);
      }

      beforeEach(async () => {
        target = await dialect.target();
      });

      afterEach(async () => {
        await target.dispose();
      });

      const TOTAL = {
        from: new Date('2020-01-01T00:00:00Z'),
        to: new Date('2030-01-01T00:00:00Z'),
        groupBy: [],
        filter: {},
      };

      const fullEvent = (): UsageEvent =>
        makeEvent({
          id: '01JDX3S5YQ7ZK3V9W2N4R8T6PA',
          time: new Date('2026-11-23T10:15:30.123Z'),
          origin: 'api',
          source: 'billing-export',
          tenant: 'acme',
          project: 'search',
          user: 'alice@example.com',
          feature: 'summarise',
          key_id: 'vk_123',
          trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
          tags: { env: 'prod', team: 'núcleo', empty: '' },
          provider: 'anthropic',
          requested_model: 'claude-sonnet-4',
          model: 'claude-sonnet-4-20250514',
          route: '/v1/messages',
          status: 'error',
          http_status: 529,
          streamed: true,
          latency_ms: 1234,
          ttft_ms: 87,
          buckets: {
            input: 1,
            cache_read: 2,
            cache_write_5m: 3,
            cache_write_1h: 4,
            input_audio: 5,
            input_image: 6,
            output: 7,
            reasoning: 8,
            output_audio: 9,
            output_image: 10,
            requests: 11,
            web_search: 12,
            tool_calls: 13,
          },
          usage_source: 'reported',
          // Above 2^53: must survive without passing through a JS number.
          cost_nano: 2n ** 60n + 7n,
          price_ref: 'override:anthropic/claude-sonnet-4@2026-11-01',
          raw_usage: { input_tokens: 1, cache_creation: { ephemeral_5m_input_tokens: 3 }, list: [1, 'two', null] },
          usage_issues: ['cache_read > input', 'second issue'],
        });

      describe('createSqliteStore: round trip', () => {
        it('stores and reads back every field, bigint money above 2^53 and JSON exactly', async () => {
          const store = await openStore();
          const event = fullEvent();
          await store.settle(event);
          expect(await store.getEvent(event.id)).toEqual(event);
          const page = await store.listEvents({ filter: {}, limit: 10 });
          expect(page.events).toEqual([event]);
          expect(page.next_cursor).toBeNull();
        });

        it('sums money above 2^53 exactly in queryCosts, from rollups and from raw events', async () => {
          const store = await openStore();
          const big = 2n ** 60n + 7n;
          await store.insertEvents([
            fullEvent(),
            { ...fullEvent(), id: 'second', cost_nano: big + 1n },
            { ...fullEvent(), id: 'third', cost_nano: 1n },
          ]);
          for (const strategy of ['auto', 'raw'] as const) {
            const [row] = await store.queryCosts(TOTAL, strategy);
            expect(row?.cost_nano).toBe(2n * big + 2n);
            expect(row?.requests).toBe(3);
          }
        });

        it('keeps null attribution and null raw usage as null, and absent buckets absent', async () => {
          const store = await openStore();
          const event = makeEvent({
            project: null,
            user: null,
            feature: null,
            key_id: null,
            raw_usage: null,
            http_status: null,
            latency_ms: null,
            cost_nano: null,
            price_ref: null,
            buckets: { output: 5 },
          });
          await store.settle(event);
          expect(await store.getEvent(event.id)).toEqual(event);
        });

        it('normalises "" dimensions to null and rounds fractional latencies to whole ms', async () => {
          const store = await openStore();
          const event = makeEvent({ project: '', feature: '', latency_ms: 12.6, ttft_ms: 3.2 });
          await store.settle(event);
          const read = await store.getEvent(event.id);
          expect(read).toMatchObject({ project: null, feature: null, latency_ms: 13, ttft_ms: 3 });
        });

        it('getEvent returns null for an unknown id', async () => {
          const store = await openStore();
          expect(await store.getEvent('missing')).toBeNull();
        });
      });

      describe('validation', () => {
        it.each([
          ['id', { id: 'has space' }, 'event.id'],
          ['empty id', { id: '' }, 'event.id'],
          ['negative bucket', { buckets: { input: -1 } }, 'event.buckets.input'],
          ['fractional bucket', { buckets: { output: 1.5 } }, 'event.buckets.output'],
          ['unknown bucket', { buckets: { tokens: 3 } as UsageEvent['buckets'] }, 'event.buckets.tokens'],
          ['float cost', { cost_nano: 1.5 as unknown as bigint }, 'event.cost_nano'],
          ['negative cost', { cost_nano: -1n }, 'event.cost_nano'],
          ['cost past int64', { cost_nano: 2n ** 63n }, 'event.cost_nano'],
          ['invalid time', { time: new Date('nope') }, 'event.time'],
          ['non-string tag', { tags: { a: 1 } as unknown as Record<string, string> }, 'event.tags'],
        ])('settle rejects a bad %s with invalid_request naming the field', async (_name, patch, param) => {
          const store = await openStore();
          const err = await store.settle(makeEvent(patch as Partial<UsageEvent>)).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(PertokenError);
          expect(err).toMatchObject({ code: 'invalid_request', param });
          expect(await count('events')).toBe(0);
        });

        it('one bad settle does not fail the valid ones submitted in the same tick', async () => {
          const store = await openStore();
          const results = await Promise.allSettled([
            store.settle(makeEvent({ id: 'good-1' })),
            store.settle(makeEvent({ id: 'bad id' })),
            store.settle(makeEvent({ id: 'good-2' })),
          ]);
          expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
          expect(await count('events')).toBe(2);
        });

        it('reserve rejects a bad reservation', async () => {
          const store = await openStore();
          await expect(store.reserve(makeReservation({ estimated_input_tokens: -5 }))).rejects.toMatchObject({
            code: 'invalid_request',
            param: 'reservation.estimated_input_tokens',
          });
        });
      });

      describe('idempotency', () => {
        it('settling the same id twice stores one row and counts it once', async () => {
          const store = await openStore();
          const event = makeEvent({ id: 'same', cost_nano: 1000n });
          await store.settle(event);
          await store.settle({ ...event, cost_nano: 9999n });
          await Promise.all([store.settle(event), store.settle(event)]);
          expect(await count('events')).toBe(1);
          expect((await store.getEvent('same'))?.cost_nano).toBe(1000n);
          const [row] = await store.queryCosts(TOTAL);
          expect(row).toMatchObject({ requests: 1, cost_nano: 1000n });
        });

        it('insertEvents reports accepted and duplicate ids, also within one batch', async () => {
          const store = await openStore();
          const a = makeEvent({ id: 'a', cost_nano: 1n });
          const b = makeEvent({ id: 'b', cost_nano: 10n });
          const c = makeEvent({ id: 'c', cost_nano: 100n });
          expect(await store.insertEvents([a, b, a])).toEqual({ accepted: ['a', 'b'], duplicate: ['a'] });
          expect(await store.insertEvents([b, c])).toEqual({ accepted: ['c'], duplicate: ['b'] });
          expect(await store.insertEvents([])).toEqual({ accepted: [], duplicate: [] });
          const [row] = await store.queryCosts(TOTAL);
          expect(row).toMatchObject({ requests: 3, cost_nano: 111n });
        });

        it('insertEvents with an invalid event inserts nothing and names it', async () => {
          const store = await openStore();
          const err = await store
            .insertEvents([makeEvent({ id: 'ok' }), makeEvent({ id: 'no/slash' })])
            .catch((e: unknown) => e);
          expect(err).toMatchObject({ code: 'invalid_request', param: 'events[1].id' });
          expect(await count('events')).toBe(0);
        });
      });

      describe('group commit', () => {
        it('500 concurrent settles all resolve, in far fewer transactions than calls', async () => {
          const store = await openStore();
          const events = Array.from({ length: 500 }, (_, i) => makeEvent({ id: `gc-${i}` }));
          await Promise.all(events.map((e) => store.settle(e)));
          expect(await count('events')).toBe(500);
          const stats = store.stats();
          expect(stats.flushes).toBeLessThan(500);
          expect(stats.flushes).toBe(1);
          expect(stats.committedItems).toBe(500);
          const [row] = await store.queryCosts(TOTAL);
          expect(row?.requests).toBe(500);
        });

        it('cuts batches at maxBatch', async () => {
          const store = await openStore({ maxBatch: 512 });
          await Promise.all(Array.from({ length: 1100 }, (_, i) => store.settle(makeEvent({ id: `mb-${i}` }))));
          expect(store.stats()).toMatchObject({ flushes: 3, largestBatch: 512, committedItems: 1100 });
          expect(await count('events')).toBe(1100);
        });

        it('reserve then settle of one id in the same batch leaves no reservation', async () => {
          const store = await openStore();
          const r = makeReservation({ id: 'same-batch' });
          await Promise.all([store.reserve(r), store.settle(makeEvent({ id: 'same-batch' }))]);
          expect(store.stats().flushes).toBe(1);
          expect(await count('reservations')).toBe(0);
          expect(await count('events')).toBe(1);
        });

        it('keeps arrival order: settle then reserve of one id leaves the reservation', async () => {
          const store = await openStore();
          await Promise.all([store.settle(makeEvent({ id: 'x' })), store.reserve(makeReservation({ id: 'x' }))]);
          expect(await count('reservations')).toBe(1);
        });

        it('a failing transaction rejects every promise of its batch and writes none of it', async () => {
          const store = await openStore();
          await store.reserve(makeReservation({ id: 'a' }));
          // A real database failure inside the batch's transaction, installed by another connection.
          await target.failInsertOf('boom', 'boom refused');

          const results = await Promise.allSettled([
            store.settle(makeEvent({ id: 'a' })),
            store.settle(makeEvent({ id: 'boom' })),
            store.reserve(makeReservation({ id: 'r-new' })),
            store.settle(makeEvent({ id: 'c' })),
          ]);
          expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
          for (const r of results) {
            const reason = (r as PromiseRejectedResult).reason as PertokenError;
            expect(reason).toBeInstanceOf(PertokenError);
            expect(reason.code).toBe('store_unavailable');
            expect(reason.message).toContain('boom refused');
          }
          expect(await count('events')).toBe(0);
          expect(await count('rollup_hourly')).toBe(0);
          expect(await count('rollup_daily')).toBe(0);
          expect(await count('reservations')).toBe(1); // 'a' is still open; 'r-new' rolled back
          expect(store.stats()).toMatchObject({ failedFlushes: 1, failedItems: 4 });

          // The store keeps serving: the same items succeed in a later batch.
          await Promise.all([store.settle(makeEvent({ id: 'a' })), store.settle(makeEvent({ id: 'c' }))]);
          expect(await count('events')).toBe(2);
          expect(await count('reservations')).toBe(0);
        });
      });

      describe('recovery', () => {
        const pricer: InterruptedPricer = (r) => ({
          buckets: { input: r.estimated_input_tokens },
          cost_nano: BigInt(r.estimated_input_tokens) * 2500n,
          price_ref: 'test-price',
        });

        it('turns leftover reservations into interrupted, estimated events after a restart', async () => {
          const first = await openStore();
          const r1 = makeReservation({ id: 'r1', estimated_input_tokens: 1000, tags: { a: 'b' }, user: 'bob' });
          const r2 = makeReservation({ id: 'r2', estimated_input_tokens: 40, tenant: 'globex', project: null });
          await Promise.all([first.reserve(r1), first.reserve(r2), first.reserve(makeReservation({ id: 'r3' }))]);
          await first.settle(makeEvent({ id: 'r3' })); // completed normally: nothing to recover
          await first.close();

          const second = await openStore();
          expect(await second.recoverInterrupted(pricer)).toBe(2);
          expect(await count('reservations')).toBe(0);
          const event = await second.getEvent('r1');
          expect(event).toEqual({
            id: 'r1',
            time: r1.time,
            origin: 'recovery',
            source: r1.source,
            tenant: 'acme',
            project: 'search',
            user: 'bob',
            feature: 'chat',
            key_id: 'key-1',
            trace_id: null,
            tags: { a: 'b' },
            provider: 'openai',
            requested_model: 'gpt-4o',
            model: 'gpt-4o',
            route: '/v1/chat/completions',
            status: 'interrupted',
            http_status: null,
            streamed: true,
            latency_ms: null,
            ttft_ms: null,
            buckets: { input: 1000 },
            usage_source: 'estimated',
            cost_nano: 2_500_000n,
            price_ref: 'test-price',
            raw_usage: null,
            usage_issues: [INTERRUPTED_ISSUE],
          });
          const rows = await second.queryCosts({ ...TOTAL, groupBy: ['tenant'] });
          expect(rows).toEqual([
            {
              keys: { tenant: 'acme' },
              requests: 2,
              tokens: { input: 1100, output: 20 },
              cost_nano: 2_500_000n + 450_000n,
              unpriced_requests: 0,
              estimated_requests: 1,
              refused_requests: 0,
              adjustments_nano: 0n,
              net_nano: 2_500_000n + 450_000n,
            },
            {
              keys: { tenant: 'globex' },
              requests: 1,
              tokens: { input: 40 },
              cost_nano: 100_000n,
              unpriced_requests: 0,
              estimated_requests: 1,
              refused_requests: 0,
              adjustments_nano: 0n,
              net_nano: 100_000n,
            },
          ]);
        });

        it('is idempotent: a second run finds nothing and counts nothing twice', async () => {
          const store = await openStore();
          await store.reserve(makeReservation({ id: 'once' }));
          expect(await store.recoverInterrupted(pricer)).toBe(1);
          expect(await store.recoverInterrupted(pricer)).toBe(0);
          expect(await count('events')).toBe(1);
          const [row] = await store.queryCosts(TOTAL);
          expect(row?.requests).toBe(1);
        });

        it('when the event already exists, only deletes the reservation', async () => {
          const store = await openStore();
          await store.insertEvents([makeEvent({ id: 'dup', status: 'ok', cost_nano: 7n })]);
          await store.reserve(makeReservation({ id: 'dup' }));
          expect(await store.recoverInterrupted(pricer)).toBe(0);
          expect(await count('reservations')).toBe(0);
          expect(await store.getEvent('dup')).toMatchObject({ status: 'ok', cost_nano: 7n });
          const [row] = await store.queryCosts(TOTAL);
          expect(row).toMatchObject({ requests: 1, cost_nano: 7n });
        });

        it('records an unpriced estimate as unpriced, not as $0', async () => {
          const store = await openStore();
          await store.reserve(makeReservation({ id: 'unpriced', requested_model: 'mystery' }));
          await store.recoverInterrupted(() => ({ buckets: { input: 5 }, cost_nano: null, price_ref: null }));
          const [row] = await store.queryCosts(TOTAL);
          expect(row).toMatchObject({ requests: 1, cost_nano: 0n, unpriced_requests: 1, estimated_requests: 1 });
        });

        it('a throwing pricer rejects and leaves the reservations for a later run', async () => {
          const store = await openStore();
          await store.reserve(makeReservation({ id: 'later' }));
          await expect(
            store.recoverInterrupted(() => {
              throw new PertokenError('unknown_model', 'no price');
            }),
          ).rejects.toMatchObject({ code: 'unknown_model' });
          expect(await count('reservations')).toBe(1);
          expect(await count('events')).toBe(0);
          expect(await store.recoverInterrupted(pricer)).toBe(1);
        });

        it('works through more reservations than one recovery chunk', async () => {
          const store = await openStore();
          await Promise.all(
            Array.from({ length: 1203 }, (_, i) => store.reserve(makeReservation({ id: `many-${i}` }))),
          );
          expect(await store.recoverInterrupted(pricer)).toBe(1203);
          expect(await count('events')).toBe(1203);
          expect(await count('reservations')).toBe(0);
        });
      });

      describe('durability and lifecycle', () => {
        it('a new store on the same file sees everything committed before close', async () => {
          const first = await openStore();
          await Promise.all(Array.from({ length: 50 }, (_, i) => first.settle(makeEvent({ id: `keep-${i}` }))));
          await first.close();
          const second = await openStore(); // migrate() again is a no-op
          const page = await second.listEvents({ filter: {}, limit: 1000 });
          expect(page.events).toHaveLength(50);
          const [row] = await second.queryCosts(TOTAL);
          expect(row?.requests).toBe(50);
        });

        it('close commits settles still queued, then refuses writes and reads', async () => {
          const store = await openStore();
          const queued = store.settle(makeEvent({ id: 'queued' }));
          await store.close();
          await expect(queued).resolves.toBeUndefined();
          expect(await count('events')).toBe(1);
          await expect(store.settle(makeEvent())).rejects.toMatchObject({ code: 'store_unavailable' });
          await expect(store.getEvent('queued')).rejects.toMatchObject({ code: 'store_unavailable' });
          await expect(store.ping()).rejects.toMatchObject({ code: 'store_unavailable' });
          await store.close(); // twice is fine
        });

        it('ping answers on an open store', async () => {
          const store = await openStore();
          await expect(store.ping()).resolves.toBeUndefined();
          expect(store.dialect).toBe(dialect.name);
        });
      });
    },
  );
}
