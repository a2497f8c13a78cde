import { join } from 'node:path';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { LedgerStore } from './kysely-store.js';
import { migrateToLatest } from './migrations.js';
import { createPostgresStore, openPostgresKysely } from './postgres/store.js';
import type { LedgerDatabase } from './schema.js';
import { createSqliteStore, openSqliteDatabase } from './sqlite/store.js';
import { createTestSchema, postgresSkipReason, TEST_DATABASE_URL } from './testing/dialects.js';
import { makeEvent, tempDir } from './testing/fixtures.js';

/**
 * Migration 0005 on a ledger written by 0004: rollup rows already there read `refused_requests`
 * 0 and keep their sums; refused events settled afterwards count there and not in `requests`.
 */
const skip = await postgresSkipReason();
const HOUR = Date.parse('2026-11-23T10:00:00Z');
const DAY = Date.parse('2026-11-23T00:00:00Z');

/** A 0004 rollup row in each table, as the write path of that version stored it. */
async function seedOldRollups(db: Kysely<LedgerDatabase>): Promise<void> {
  await sql`insert into rollup_hourly (hour_ms, tenant, model, provider, requested_model, requests, cost_nano, tok_input)
    values (${HOUR}, 'acme', 'gpt-4o', 'openai', 'gpt-4o', 3, 900, 30)`.execute(db);
  await sql`insert into rollup_daily (day_ms, tenant, model, provider, requested_model, requests, cost_nano, tok_input)
    values (${DAY}, 'acme', 'gpt-4o', 'openai', 'gpt-4o', 3, 900, 30)`.execute(db);
}

async function checkUpgraded(store: LedgerStore): Promise<void> {
  await store.settle(
    makeEvent({
      id: 'refused-1',
      time: new Date(HOUR + 60_000),
      tenant: 'acme',
      project: null,
      user: null,
      feature: null,
      key_id: null,
      model: 'gpt-4o',
      requested_model: 'gpt-4o',
      status: 'refused',
      http_status: 429,
      buckets: {},
      cost_nano: 0n,
      price_ref: 'not-billed',
      usage_issues: ['refused: rate_limited'],
    }),
  );
  // Whole days (rollup_daily) and whole hours (rollup_hourly) both carry the old row and the new count.
  for (const [from, to] of [
    ['2026-11-23T00:00:00Z', '2026-11-24T00:00:00Z'],
    ['2026-11-23T10:00:00Z', '2026-11-23T11:00:00Z'],
  ] as const) {
    const rows = await store.queryCosts({ from: new Date(from), to: new Date(to), groupBy: ['tenant'], filter: {} });
    expect(rows).toEqual([
      {
        keys: { tenant: 'acme' },
        requests: 3,
        tokens: { input: 30 },
        cost_nano: 900n,
        unpriced_requests: 0,
        estimated_requests: 0,
        refused_requests: 1,
        adjustments_nano: 0n,
        net_nano: 900n,
      },
    ]);
  }
}

describe('migration 0005 on a 0004 ledger', () => {
  it('SQLite: old rollup rows read refused_requests 0; refused events count apart', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'ledger.db');
      const database = openSqliteDatabase({ path });
      const db = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database }) });
      await migrateToLatest(db as unknown as Kysely<unknown>, { dialect: 'sqlite', upTo: '0004_request_identity' });
      await seedOldRollups(db);
      await db.destroy();
      const store = createSqliteStore({ path });
      try {
        await store.migrate();
        await checkUpgraded(store);
      } finally {
        await store.close();
      }
    } finally {
      cleanup();
    }
  });

  describe.skipIf(skip !== null)(`PostgreSQL${skip ? ` — ${skip}` : ''}`, () => {
    let dropSchema: (() => Promise<void>) | null = null;
    afterAll(async () => {
      await dropSchema?.();
    });

    it('old rollup rows read refused_requests 0; refused events count apart', async () => {
      const { schema, drop } = await createTestSchema();
      dropSchema = drop;
      const { db } = openPostgresKysely({ url: TEST_DATABASE_URL, schema, poolSize: 1 });
      await migrateToLatest(db as unknown as Kysely<unknown>, {
        dialect: 'postgres',
        schema,
        upTo: '0004_request_identity',
      });
      await seedOldRollups(db);
      await db.destroy();
      const store = createPostgresStore({ url: TEST_DATABASE_URL, schema, poolSize: 2 });
      try {
        await store.migrate();
        await checkUpgraded(store);
      } finally {
        await store.close();
      }
    });
  });
});
