import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openBulkLoader, type LedgerTarget } from './bulk-load.js';
import { eventToRow, type EventRow } from './rows.js';
import { TEST_DATABASE_URL, createTestSchema, postgresSkipReason } from './testing/dialects.js';
import { makeEvent, tempDir } from './testing/fixtures.js';

/** A stored row with any id (the bulk path takes rows as they are, unchecked). */
const row = (id: string): EventRow => ({ ...eventToRow(makeEvent()), id });

const { dir, cleanup } = tempDir();
afterAll(() => cleanup());

interface Ledger {
  target: LedgerTarget;
  /** Deletes an event through a connection of its own. */
  remove(id: string): Promise<void>;
  drop(): Promise<void>;
}

const CASES: Array<[string, () => Promise<Ledger | string>]> = [
  [
    'sqlite',
    async () => {
      const path = join(dir, 'bulk.sqlite');
      return {
        target: { kind: 'sqlite', path },
        async remove(id) {
          const db = new Database(path);
          db.prepare('delete from events where id = ?').run(id);
          db.close();
        },
        drop: async () => {},
      };
    },
  ],
  [
    'postgres',
    async () => {
      const skip = await postgresSkipReason();
      if (skip !== null) return skip;
      const { schema, admin, drop } = await createTestSchema();
      return {
        target: { kind: 'postgres', url: TEST_DATABASE_URL, schema },
        async remove(id) {
          await admin.query(`delete from ${schema}.events where id = $1`, [id]);
        },
        drop,
      };
    },
  ],
];

describe.each(CASES)('openBulkLoader on %s', (_name, setup) => {
  it('writes idempotently and tells whether any event id lies outside a prefix', async (context) => {
    const ledger = await setup();
    if (typeof ledger === 'string') return context.skip(ledger);
    const loader = await openBulkLoader(ledger.target);
    try {
      expect(await loader.hasEventsOutside('seed:')).toBe(false);
      const seeded = ['seed:01A', 'seed:ZZZ', 'seed:'].map(row);
      expect(await loader.write(seeded)).toBe(3);
      expect(await loader.write(seeded)).toBe(0);
      expect(await loader.hasEventsOutside('seed:')).toBe(false);
      expect(await loader.hasEventsOutside('seed:0')).toBe(true);
      expect(await loader.hasEventsOutside('')).toBe(false);
      // Ids next to the prefix on either side, bytewise and in a database collation.
      for (const id of ['seed', 'seed9', 'seed;', 'seedA', 'sed:x', 'seee:', 'SEED:x', '01JREAL0000000000000000000']) {
        expect(await loader.write([row(id)])).toBe(1);
        expect(await loader.hasEventsOutside('seed:'), id).toBe(true);
        await ledger.remove(id);
        expect(await loader.hasEventsOutside('seed:'), id).toBe(false);
      }
    } finally {
      await loader.close();
      await ledger.drop();
    }
  });
});
