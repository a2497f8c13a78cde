import type { Kysely, Migration } from 'kysely';

/**
 * 0005: refused demand. Calls pertoken refuses for an attributed caller (budget, scope, rate
 * limit, fail-closed counters) are events of status `refused`; both rollups count them in a sum
 * of their own, `refused_requests`, so that `requests` keeps meaning calls that went upstream.
 *
 * NOT NULL DEFAULT 0 is right for every existing row (no refused event existed before) and costs
 * no rewrite: PostgreSQL 11+ keeps a constant default in the catalogue, SQLite in the schema
 * (WITHOUT ROWID tables included). One column per ALTER TABLE, as SQLite requires.
 */
export const refusedRequestsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const table of ['rollup_hourly', 'rollup_daily']) {
      await db.schema
        .alterTable(table)
        .addColumn('refused_requests', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
    }
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['rollup_daily', 'rollup_hourly']) {
      await db.schema.alterTable(table).dropColumn('refused_requests').execute();
    }
  },
};
