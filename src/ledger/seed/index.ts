import { Kysely, SqliteDialect } from 'kysely';
import type { PriceBook } from '../../pricing/index.js';
import { migrateToLatest } from '../migrations.js';
import { openPostgresKysely } from '../postgres/store.js';
import type { LedgerDatabase } from '../schema.js';
import { openSqliteDatabase } from '../sqlite/store.js';
import { generateSeedRows, checkSeedOptions, type SeedOptions } from './generator.js';
import { postgresBulkSink, sqliteBulkSink, type BulkSink } from './loader.js';

/**
 * `pertoken seed`: generates realistic ledger data (generator.ts) and bulk-loads it (loader.ts)
 * into the embedded SQLite file or a PostgreSQL ledger, migrating it first. Each dialect has its
 * own bulk path; both are idempotent and maintain the rollups like the ledger's own writes.
 */

export { SEED_MODELS, UNPRICED_MODEL, type SeedModel } from './catalog.js';
export { SEED_LIMITS, checkSeedOptions, generateSeedRows, hourlyCounts, type SeedOptions } from './generator.js';
export { SeedPricer } from './pricer.js';

export type SeedTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema?: string };

export interface SeedProgress {
  /** Events generated and written so far (duplicates of an earlier run included). */
  written: number;
  /** Of those, new rows. */
  inserted: number;
  total: number;
  elapsedMs: number;
}

export interface SeedResult {
  generated: number;
  inserted: number;
  elapsedMs: number;
}

export interface SeedRunOptions extends SeedOptions {
  book: PriceBook;
  target: SeedTarget;
  onProgress?: (progress: SeedProgress) => void;
}

async function openTarget(target: SeedTarget): Promise<{ sink: BulkSink; close: () => Promise<void> }> {
  if (target.kind === 'sqlite') {
    const database = openSqliteDatabase({ path: target.path });
    // A bigger page cache for the session keeps the secondary indexes' hot pages in memory.
    database.pragma('cache_size = -262144');
    const db = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database }) });
    try {
      await migrateToLatest(db as unknown as Kysely<unknown>, { dialect: 'sqlite' });
    } catch (err) {
      await db.destroy();
      throw err;
    }
    // An empty ledger holds nothing a crash could lose but seed data: skip the fsync of every WAL
    // checkpoint while loading, then sync once at the end. A ledger with data keeps its setting.
    const empty = database.prepare('select not exists (select 1 from events) as empty').get() as {
      empty: bigint | number;
    };
    const fresh = Number(empty.empty) === 1;
    if (fresh) database.pragma('synchronous = OFF');
    return {
      sink: sqliteBulkSink(database),
      close: async () => {
        if (fresh) {
          database.pragma('synchronous = NORMAL');
          database.pragma('wal_checkpoint(TRUNCATE)');
        }
        await db.destroy();
      },
    };
  }
  const { db, schema } = openPostgresKysely({ url: target.url, ...(target.schema ? { schema: target.schema } : {}) });
  try {
    await migrateToLatest(db as unknown as Kysely<unknown>, { schema, dialect: 'postgres' });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { sink: postgresBulkSink(db), close: () => db.destroy() };
}

export async function seedLedger(options: SeedRunOptions): Promise<SeedResult> {
  checkSeedOptions(options);
  const started = performance.now();
  const { sink, close } = await openTarget(options.target);
  let generated = 0;
  let inserted = 0;
  try {
    for (const rows of generateSeedRows(options, options.book)) {
      inserted += await sink.write(rows);
      generated += rows.length;
      options.onProgress?.({
        written: generated,
        inserted,
        total: options.events,
        elapsedMs: performance.now() - started,
      });
    }
  } finally {
    await close();
  }
  return { generated, inserted, elapsedMs: performance.now() - started };
}
