import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerStore } from './kysely-store.js';
import { startRetentionJob, type PruneOptions, type PruneResult } from './retention.js';
import { ledgerDialects, type LedgerTarget } from './testing/dialects.js';
import { makeEvent, makeReservation } from './testing/fixtures.js';

/** Raw-event retention and streaming export reads, on every dialect in DIALECTS. */

const NOW = new Date('2026-11-23T12:00:00Z');
const DAY_MS = 86_400_000;
const daysAgo = (d: number, extraMs = 0): Date => new Date(NOW.getTime() - d * DAY_MS + extraMs);
const ALL = { from: new Date('2020-01-01T00:00:00Z'), to: new Date('2030-01-01T00:00:00Z'), groupBy: [], filter: {} };

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(
    `retention and export [${dialect.name}]${dialect.skip ? ` — ${dialect.skip}` : ''}`,
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

      it('deletes only events older than the cutoff, in bounded batches, and keeps rollups and adjustments', async () => {
        const old = Array.from({ length: 10 }, (_, i) =>
          makeEvent({ id: `old-${i}`, time: daysAgo(100, i * 60_000), cost_nano: 100n }),
        );
        const edge = makeEvent({ id: 'edge', time: daysAgo(90), cost_nano: 1n }); // exactly at the cutoff: kept
        const young = makeEvent({ id: 'young', time: daysAgo(1), cost_nano: 10n });
        await store.insertEvents([...old, edge, young]);
        await store.reserve(makeReservation({ id: 'stale', time: daysAgo(120) }));
        await store.reserve(makeReservation({ id: 'open', time: daysAgo(0) }));
        await store.flush();
        await store.addAdjustment({
          id: 'credit',
          time: daysAgo(100),
          tenant: 'acme',
          provider: 'm',
          model: 'm',
          amount_nano: -50n,
          reason: 'credit',
        });
        const before = await store.queryCosts({ ...ALL, groupBy: ['day'] });

        const result = await store.pruneEvents({ olderThanDays: 90, batchSize: 3, now: NOW });
        expect(result).toEqual({ cutoff: daysAgo(90), deleted_events: 10, deleted_reservations: 1, batches: 5 });
        expect(await target.count('events')).toBe(2);
        expect(await target.count('reservations')).toBe(1);
        expect(await store.getEvent('old-0')).toBeNull();
        expect(await store.getEvent('edge')).not.toBeNull();
        // Whole-hour reports come from rollups and keep every pruned event's cost and the credit.
        expect(await store.queryCosts({ ...ALL, groupBy: ['day'] })).toEqual(before);
        expect((await store.queryCosts(ALL))[0]).toMatchObject({
          requests: 12,
          cost_nano: 1011n,
          adjustments_nano: -50n,
          net_nano: 961n,
        });

        expect(await store.pruneEvents({ olderThanDays: 90, batchSize: 3, now: NOW })).toMatchObject({
          deleted_events: 0,
          batches: 0,
        });
      });

      it('stops after a short batch, without a trailing empty statement counted', async () => {
        await store.insertEvents(
          Array.from({ length: 6 }, (_, i) => makeEvent({ id: `o-${i}`, time: daysAgo(40, i) })),
        );
        expect(await store.pruneEvents({ olderThanDays: 30, batchSize: 3, now: NOW })).toMatchObject({
          deleted_events: 6,
          batches: 2,
        });
      });

      it.each([
        [{ olderThanDays: 0 }, 'olderThanDays'],
        [{ olderThanDays: 1.5 }, 'olderThanDays'],
        [{ olderThanDays: 30, batchSize: 0 }, 'batchSize'],
      ] as Array<[PruneOptions, string]>)('rejects %j naming the field', async (options, param) => {
        await expect(store.pruneEvents(options)).rejects.toMatchObject({ code: 'invalid_request', param });
      });

      it('scanEvents streams more rows than one page, oldest first, within [from, to) and the filter', async () => {
        const events = Array.from({ length: 23 }, (_, i) =>
          makeEvent({
            id: `s-${String(i).padStart(2, '0')}`,
            time: daysAgo(2, (i % 7) * 1000),
            tenant: i % 5 === 0 ? 'globex' : 'acme',
          }),
        );
        await store.insertEvents([...events, makeEvent({ id: 'later', time: daysAgo(0) })]);
        const pages: number[] = [];
        const ids: string[] = [];
        for await (const page of store.scanEvents({ from: daysAgo(3), to: daysAgo(1), pageSize: 5 })) {
          pages.push(page.length);
          ids.push(...page.map((e) => e.id));
        }
        expect(pages).toEqual([5, 5, 5, 5, 3]);
        const expected = [...events]
          .sort((a, b) => a.time.getTime() - b.time.getTime() || (a.id < b.id ? -1 : 1))
          .map((e) => e.id);
        expect(ids).toEqual(expected);
        const globex: string[] = [];
        for await (const page of store.scanEvents({
          from: daysAgo(3),
          to: daysAgo(1),
          filter: { tenant: 'globex' },
          pageSize: 2,
        })) {
          globex.push(...page.map((e) => e.id));
        }
        expect(globex.sort()).toEqual(['s-00', 's-05', 's-10', 's-15', 's-20']);
        const full = [];
        for await (const page of store.scanEvents({ from: daysAgo(3), to: daysAgo(1) })) full.push(...page);
        expect(full[0]).toEqual(await store.getEvent(full[0]!.id));
      });
    },
  );
}

describe('startRetentionJob', () => {
  it('prunes at once and then every interval, reports results and errors, and stop waits for a running prune', async () => {
    const calls: PruneOptions[] = [];
    const results: PruneResult[] = [];
    const errors: unknown[] = [];
    let release: () => void = () => undefined;
    const fake = {
      async pruneEvents(options: PruneOptions): Promise<PruneResult> {
        calls.push(options);
        if (calls.length === 2) throw new Error('database is locked');
        if (calls.length === 3) await new Promise<void>((resolve) => (release = resolve));
        return { cutoff: new Date(0), deleted_events: calls.length, deleted_reservations: 0, batches: 1 };
      },
    };
    const stop = startRetentionJob(fake, 30, 10, {
      onResult: (r) => results.push(r),
      onError: (e) => errors.push(e),
      batchSize: 7,
    });
    await expect.poll(() => calls.length).toBe(3);
    expect(calls[0]).toEqual({ olderThanDays: 30, batchSize: 7 });
    expect(results.map((r) => r.deleted_events)).toEqual([1]);
    expect(String(errors[0])).toContain('database is locked');
    let stopped = false;
    const stopping = stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stopped).toBe(false); // the third run is still in progress
    release();
    await stopping;
    expect(results.map((r) => r.deleted_events)).toEqual([1, 3]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(calls).toHaveLength(3); // no run after stop
  });

  it('rejects a bad retention or interval naming it', () => {
    const fake = {
      pruneEvents: async (): Promise<PruneResult> => ({
        cutoff: new Date(0),
        deleted_events: 0,
        deleted_reservations: 0,
        batches: 0,
      }),
    };
    expect(() => startRetentionJob(fake, 0, 1000)).toThrow(expect.objectContaining({ param: 'olderThanDays' }));
    expect(() => startRetentionJob(fake, 30, 0)).toThrow(expect.objectContaining({ param: 'intervalMs' }));
  });
});
