import type { Kysely, Migration } from 'kysely';

/**
 * 0003: billing rows imported from the providers' own bills (OpenAI Costs/Usage, Anthropic
 * cost/usage reports, FOCUS exports), kept beside the metered events so that reconciliation can
 * compare the two. Nothing here is derived from events, and events never read it.
 *
 * `id` is a hash of the natural key (source, provider, account_id, start_ms, end_ms, row_key):
 * the same line of the same bucket is the same row however often it is imported. `row_hash`
 * fingerprints the content, so a re-import tells "unchanged" (a duplicate) from "corrected"
 * (replaced). Bucket bounds are stored verbatim, partial first buckets included (trap T6).
 */
export const billingRowsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('billing_rows')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('start_ms', 'bigint', (c) => c.notNull())
      .addColumn('end_ms', 'bigint', (c) => c.notNull())
      .addColumn('row_key', 'text', (c) => c.notNull())
      .addColumn('row_hash', 'text', (c) => c.notNull())
      .addColumn('model', 'text')
      .addColumn('bucket', 'text')
      .addColumn('service_tier', 'text')
      .addColumn('batch', 'integer')
      .addColumn('quantity', 'bigint')
      .addColumn('amount_nano', 'bigint')
      .addColumn('currency', 'text')
      .addColumn('charge_category', 'text')
      .addColumn('description', 'text')
      .addColumn('tenant', 'text')
      .addColumn('project', 'text')
      .addColumn('import_id', 'text', (c) => c.notNull())
      .addColumn('file', 'text', (c) => c.notNull())
      .addColumn('position', 'text', (c) => c.notNull())
      .addColumn('imported_at_ms', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('billing_rows_natural_uq', [
        'source',
        'provider',
        'account_id',
        'start_ms',
        'end_ms',
        'row_key',
      ])
      .execute();
    // Reconciliation reads a range of days; an import reads one account's buckets.
    await db.schema.createIndex('billing_rows_start_idx').on('billing_rows').columns(['start_ms']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('billing_rows').ifExists().execute();
  },
};
