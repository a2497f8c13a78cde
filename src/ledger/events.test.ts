import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clampLimit } from './events.js';
import type { LedgerStore } from './kysely-store.js';
import { ledgerDialects, type LedgerTarget } from './testing/dialects.js';
import { makeEvent } from './testing/fixtures.js';
import type { EventQuery, UsageEvent } from './types.js';

const BASE = Date.parse('2026-11-23T10:00:00Z');

const newestFirst = (list: UsageEvent[]) =>
  [...list].sort((a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1)).map((e) => e.id);

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(
    `event reads [${dialect.name}]${dialect.skip ? ` — ${dialect.skip}` : ''}`,
    () => {
      let store: LedgerStore;
      let target: LedgerTarget;
      let events: UsageEvent[];

      beforeAll(async () => {
        target = await dialect.target();
        store = await target.open();
        // 30 events; every three share one ms, so paging must break ties by id.
        events = Array.from({ length: 30 }, (_, i) =>
          makeEvent({
            id: `p-${String(i).padStart(2, '0')}`,
            time: new Date(BASE + Math.floor(i / 3) * 60_000),
            tenant: i % 2 === 0 ? 'acme' : 'globex',
            feature: i % 5 === 0 ? null : 'chat',
          }),
        );
        await store.insertEvents(events);
      });

      afterAll(async () => {
        await target.dispose();
      });

      async function allPages(query: Omit<EventQuery, 'cursor'>): Promise<string[][]> {
        const pages: string[][] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await store.listEvents({ ...query, cursor });
          pages.push(page.events.map((e) => e.id));
          if (page.next_cursor === null) return pages;
          cursor = page.next_cursor;
        }
      }

      describe('listEvents', () => {
        it('pages newest first by (time, id) without gaps or repeats', async () => {
          const pages = await allPages({ filter: {}, limit: 7 });
          expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 2]);
          expect(pages.flat()).toEqual(newestFirst(events));
        });

        it('is stable when newer events arrive between pages', async () => {
          const first = await store.listEvents({ filter: { tenant: 'acme' }, limit: 4 });
          await store.settle(makeEvent({ id: 'p-late', tenant: 'acme', time: new Date(BASE + 3_600_000) }));
          const rest: string[] = [];
          let cursor = first.next_cursor;
          while (cursor !== null) {
            const page = await store.listEvents({ filter: { tenant: 'acme' }, limit: 4, cursor });
            rest.push(...page.events.map((e) => e.id));
            cursor = page.next_cursor;
          }
          const acme = newestFirst(events.filter((e) => e.tenant === 'acme'));
          expect([...first.events.map((e) => e.id), ...rest]).toEqual(acme);
          const fresh = await store.listEvents({ filter: { tenant: 'acme' }, limit: 1 });
          expect(fresh.events[0]?.id).toBe('p-late');
        });

        it('applies from (inclusive), to (exclusive) and filters', async () => {
          const page = await store.listEvents({
            from: new Date(BASE + 60_000),
            to: new Date(BASE + 3 * 60_000),
            filter: { tenant: 'globex' },
            limit: 100,
          });
          expect(page.events.map((e) => e.id)).toEqual(['p-07', 'p-05', 'p-03']);
          const day = await store.listEvents({
            filter: { hour: '2026-11-23T10:00:00Z', feature: 'chat' },
            limit: 1000,
          });
          expect(day.events).toHaveLength(24);
        });

        it('clamps limit to 1..1000', async () => {
          expect((await store.listEvents({ filter: {}, limit: 0 })).events).toHaveLength(1);
          expect((await store.listEvents({ filter: {}, limit: -5 })).events).toHaveLength(1);
          expect((await store.listEvents({ filter: {}, limit: 5000 })).next_cursor).toBeNull();
          expect(clampLimit(5000)).toBe(1000);
          expect(clampLimit(2.7)).toBe(2);
          expect(clampLimit(Number.NaN)).toBe(100);
        });

        it('rejects a cursor it did not make', async () => {
          for (const cursor of [
            'garbage!!',
            Buffer.from('{"a":1}').toString('base64url'),
            Buffer.from('[1.5,"x"]').toString('base64url'),
          ]) {
            await expect(store.listEvents({ filter: {}, limit: 5, cursor })).rejects.toMatchObject({
              code: 'invalid_request',
              param: 'cursor',
            });
          }
        });

        it('an inverted window is empty', async () => {
          const page = await store.listEvents({ from: new Date(BASE + 1), to: new Date(BASE), filter: {}, limit: 10 });
          expect(page).toEqual({ events: [], next_cursor: null });
        });
      });
    },
  );
}
