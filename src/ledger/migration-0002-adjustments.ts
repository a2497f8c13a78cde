import type { Kysely, Migration } from 'kysely';

/**
 * 0002: adjustments (repricing, credits) (DESIGN §5: events are never rewritten; a correction is a
 * new row). Their sums live in the rollups' adjustment_nano column (created by 0001).
 *
 * Idempotency key: (event_id, revision). A reprice reads an event's adjustments, and appends
 * revision n+1 only if the new price differs from list + adjustments so far. Keying on the price
 * reached (price_ref_after) would not do: a price that goes A -> B -> A -> B needs a second
 * "to B" row, and an override edited in place keeps its ref while its amount changes. The
 * revision makes two concurrent repricers of the same event collide instead of both appending.
 * Manual adjustments have no event (NULL never collides) and are idempotent on their own id.
 */
export const adjustmentsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('adjustments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('event_id', 'text')
      .addColumn('revision', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('time_ms', 'bigint', (c) => c.notNull())
      .addColumn('tenant', 'text', (c) => c.notNull())
      .addColumn('project', 'text')
      .addColumn('user_id', 'text')
      .addColumn('feature', 'text')
      .addColumn('key_id', 'text')
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('requested_model', 'text', (c) => c.notNull())
      .addColumn('amount_nano', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('price_ref_before', 'text')
      .addColumn('price_ref_after', 'text')
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('adjustments_event_revision_uq', ['event_id', 'revision'])
      .execute();
    // Raw cost queries read the partial hours at the edges of a range by time, like events.
    await db.schema.createIndex('adjustments_time_idx').on('adjustments').columns(['time_ms']).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('adjustments').ifExists().execute();
  },
};
