import { join } from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PertokenError } from '../errors.js';
import type { LedgerStore } from './kysely-store.js';
import { migrateToLatest } from './migrations.js';
import { presentEvent } from './present.js';
import type { LedgerDatabase } from './schema.js';
import { createSqliteStore, openSqliteDatabase } from './sqlite/store.js';
import { ledgerDialects, type LedgerTarget } from './testing/dialects.js';
import { makeEvent, tempDir } from './testing/fixtures.js';
import type { UsageEvent } from './types.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;
const HASH_A = 'a'.repeat(32);
const HASH_B = 'b'.repeat(32);

let n = 0;
/** An event of `key` at T0 + `minutes`. */
function ev(key: string | null, minutes: number, over: Partial<UsageEvent> = {}): UsageEvent {
  n++;
  return makeEvent({ id: `rq-${n}`, key_id: key, time: new Date(T0 + minutes * MIN), ...over });
}

for (const dialect of await ledgerDialects()) {
  describe.skipIf(dialect.skip !== null)(
    `request fingerprints and client addresses [${dialect.name}]${dialect.skip ? ` — ${dialect.skip}` : ''}`,
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

      it('stores both fields canonical, and events without them read back unchanged', async () => {
        const known = ev('k1', 0, { request_hash: 'ABCDEF0123456789', client_address: '::ffff:10.0.0.7' });
        const v6 = ev('k1', 1, { client_address: '2001:DB8:0:0::1' });
        const bare = ev('k1', 2);
        await store.insertEvents([known, v6, bare]);
        expect(await store.getEvent(known.id)).toMatchObject({
          request_hash: 'abcdef0123456789',
          client_address: '10.0.0.7',
        });
        expect((await store.getEvent(v6.id))?.client_address).toBe('2001:db8::1');
        const stored = await store.getEvent(bare.id);
        expect(stored).toEqual(bare);
        expect(presentEvent(stored!)).toMatchObject({ request_hash: null, client_address: null });
        const page = await store.listEvents({ filter: {}, limit: 10 });
        expect(page.events.map((e) => e.client_address ?? null)).toEqual([null, '2001:db8::1', '10.0.0.7']);
      });

      it('refuses a malformed fingerprint or address, naming the field', async () => {
        const bad = [
          ev('k1', 0, { request_hash: 'not-hex-at-all' }),
          ev('k1', 0, { request_hash: 'abc' }),
          ev('k1', 0, { client_address: '10.0.0.256' }),
          ev('k1', 0, { client_address: 'localhost' }),
        ];
        for (const event of bad) {
          const err = await store.insertEvents([ev('k1', 0), event]).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(PertokenError);
          expect((err as PertokenError).param).toMatch(/^events\[1\]\.(request_hash|client_address)$/);
        }
        expect(await target.count('events')).toBe(0);
      });

      it('queryRequestRepeats counts one fingerprint per key in [from, to)', async () => {
        const events = [
          // k1 sends A five times inside the range, once before and once at `to` (both outside).
          ...[1, 2, 3, 4, 5].map((m) => ev('k1', m, { request_hash: HASH_A })),
          ev('k1', -1, { request_hash: HASH_A }),
          ev('k1', 10, { request_hash: HASH_A }),
          // k2 sends the same fingerprint: its own row, never merged with k1's.
          ...[1, 2, 3, 4, 5, 6].map((m) => ev('k2', m, { request_hash: HASH_A, tenant: 'globex' })),
          // k1's B only four times: below minCount.
          ...[1, 2, 3, 4].map((m) => ev('k1', m, { request_hash: HASH_B })),
          // No fingerprint (ingested without one): never a repeat.
          ...[1, 2, 3, 4, 5].map((m) => ev('k1', m)),
        ];
        await store.insertEvents(events);
        const rows = await store.queryRequestRepeats({
          from: new Date(T0),
          to: new Date(T0 + 10 * MIN),
          minCount: 5,
        });
        expect(rows).toEqual([
          {
            tenant: 'globex',
            key_id: 'k2',
            request_hash: HASH_A,
            count: 6,
            first: new Date(T0 + MIN),
            last: new Date(T0 + 6 * MIN),
          },
          {
            tenant: 'acme',
            key_id: 'k1',
            request_hash: HASH_A,
            count: 5,
            first: new Date(T0 + MIN),
            last: new Date(T0 + 5 * MIN),
          },
        ]);
        expect(
          await store.queryRequestRepeats({ from: new Date(T0), to: new Date(T0 + 3 * MIN), minCount: 5 }),
        ).toEqual([]);
        await expect(
          store.queryRequestRepeats({ from: new Date(T0), to: new Date(T0 + MIN), minCount: 1 }),
        ).rejects.toThrow(/minCount/);
      });

      it('queryClientAddresses finds every key’s new addresses in one query, with the key’s age', async () => {
        const from = T0;
        const since = T0 - 14 * DAY;
        await store.insertEvents([
          // k1: old history from .1 (20 days ago, then 3 days ago); now .1 and a new .2 (twice).
          ev('k1', -20 * 24 * 60, { client_address: '10.0.0.1' }),
          ev('k1', -3 * 24 * 60, { client_address: '10.0.0.1' }),
          ev('k1', 5, { client_address: '10.0.0.1' }),
          ev('k1', 6, { client_address: '10.0.0.2' }),
          ev('k1', 7, { client_address: '10.0.0.2' }),
          // k2: .2 is old for k2 (addresses are per key); .1 was last seen before seenSince: new again.
          ev('k2', -2 * 24 * 60, { client_address: '10.0.0.2' }),
          ev('k2', -15 * 24 * 60, { client_address: '10.0.0.1' }),
          ev('k2', 10, { client_address: '10.0.0.2' }),
          ev('k2', 11, { client_address: '::ffff:10.0.0.1' }),
          // No address, no key, or after `to`: not counted.
          ev('k2', 12),
          ev(null, 12, { client_address: '10.9.9.9' }),
          ev('k1', 60, { client_address: '10.0.0.3' }),
        ]);
        const rows = await store.queryClientAddresses({
          from: new Date(from),
          to: new Date(from + 60 * MIN),
          seenSince: new Date(since),
        });
        expect(rows).toEqual([
          {
            tenant: 'acme',
            key_id: 'k1',
            client_address: '10.0.0.2',
            requests: 2,
            first: new Date(T0 + 6 * MIN),
            last: new Date(T0 + 7 * MIN),
            key_first_seen: new Date(T0 - 20 * DAY),
          },
          {
            tenant: 'acme',
            key_id: 'k2',
            client_address: '10.0.0.1',
            requests: 1,
            first: new Date(T0 + 11 * MIN),
            last: new Date(T0 + 11 * MIN),
            key_first_seen: new Date(T0 - 15 * DAY),
          },
        ]);
        await expect(
          store.queryClientAddresses({ from: new Date(from), to: new Date(from + MIN), seenSince: new Date(from + 1) }),
        ).rejects.toThrow(/seenSince/);
      });

      it('queryKeyFirstSeen gives each known key its first event', async () => {
        await store.insertEvents([ev('k1', 30), ev('k1', -90), ev('k2', 5), ev(null, -500)]);
        const keys = ['k1', 'k2', 'nobody', 'k1', ...Array.from({ length: 150 }, (_, i) => `x${i}`)];
        expect(await store.queryKeyFirstSeen(keys)).toEqual(
          new Map([
            ['k1', new Date(T0 - 90 * MIN)],
            ['k2', new Date(T0 + 5 * MIN)],
          ]),
        );
      });
    },
  );
}

describe('migration 0004 on an existing ledger (SQLite)', () => {
  let cleanup: () => void;
  let path: string;
  beforeEach(() => {
    const dir = tempDir();
    cleanup = dir.cleanup;
    path = join(dir.dir, 'ledger.db');
  });
  afterEach(() => cleanup());

  it('adds the columns to a 0003 ledger: old rows read as null, and the detector index is used', async () => {
    const database = openSqliteDatabase({ path });
    const db = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database }) });
    await migrateToLatest(db as unknown as Kysely<unknown>, { dialect: 'sqlite', upTo: '0003_billing_rows' });
    database
      .prepare(
        `insert into events (id, time_ms, origin, source, tenant, key_id, provider, requested_model, model, route,
         status, usage_source) values ('old-1', ?, 'gateway', 'oa', 'acme', 'k1', 'openai', 'm', 'm', 'openai.chat', 'ok', 'provider')`,
      )
      .run(T0);
    await db.destroy();

    const store = createSqliteStore({ path });
    try {
      await store.migrate();
      const old = await store.getEvent('old-1');
      expect(old).not.toBeNull();
      expect(old).not.toHaveProperty('request_hash');
      expect(presentEvent(old!)).toMatchObject({ id: 'old-1', request_hash: null, client_address: null });
      expect(await store.queryKeyFirstSeen(['k1'])).toEqual(new Map([['k1', new Date(T0)]]));
    } finally {
      await store.close();
    }

    // The per-key reads are index seeks, not scans of the events table.
    const check = openSqliteDatabase({ path });
    try {
      const plan = (statement: string): string =>
        (check.prepare(`explain query plan ${statement}`).all() as Array<{ detail: string }>)
          .map((r) => r.detail)
          .join('\n');
      expect(plan(`select min(time_ms) from events where key_id = 'k1'`)).toMatch(
        /USING COVERING INDEX events_key_time_idx/,
      );
      expect(
        plan(
          `select 1 from events where key_id = 'k1' and client_address = '10.0.0.1' and time_ms >= 0 and time_ms < 10`,
        ),
      ).toMatch(/USING COVERING INDEX events_key_time_idx \(key_id=\? AND time_ms>\? AND time_ms<\?\)/);
    } finally {
      check.close();
    }
  });
});
