import { sql, type Kysely, type Migration } from 'kysely';

/**
 * 0004: what a request looked like from outside, for the key-abuse and request-loop detectors
 * (alerts/detectors/key-abuse.ts). Both columns are nullable and have no default, so adding them
 * rewrites nothing on either dialect (old rows read as NULL: unknown, not "none").
 *
 * - `request_hash`: a fingerprint of the request, never the payload (gateway/fingerprint.ts says
 *   what goes in); equal hashes from one key within minutes are a client resending itself.
 * - `client_address`: the client's IP as the gateway saw it, canonical text (client-address.ts).
 *
 * The index serves the per-key reads of both detectors: a key's first event (one seek on
 * key_id, time_ms) and "did this key use this address in [since, from)" (a range of one key's
 * entries, read from the index alone because client_address is its third column). Partial like
 * the user index: events without a key (ingested batches) never pay for it. SQLite adds one
 * column per ALTER TABLE, hence two statements.
 */
export const requestIdentityMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('events').addColumn('request_hash', 'text').execute();
    await db.schema.alterTable('events').addColumn('client_address', 'text').execute();
    await db.schema
      .createIndex('events_key_time_idx')
      .on('events')
      .columns(['key_id', 'time_ms', 'client_address'])
      .where(sql.ref('key_id'), 'is not', null)
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('events_key_time_idx').ifExists().execute();
    await db.schema.alterTable('events').dropColumn('client_address').execute();
    await db.schema.alterTable('events').dropColumn('request_hash').execute();
  },
};
