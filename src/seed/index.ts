import { invalidInput } from '../errors.js';
import { openBulkLoader, type LedgerTarget } from '../ledger/index.js';
import type { PriceBook } from '../pricing/index.js';
import { SEED_ID_PREFIX } from './catalog.js';
import { generateSeedRows, checkSeedOptions, type SeedOptions } from './generator.js';

/**
 * `pertoken seed`: generates realistic ledger data (generator.ts) and bulk-loads it through the
 * ledger's bulk loader into the embedded SQLite file or a PostgreSQL ledger, migrating it first.
 *
 * Seed data is fake money: it must never land among real events by accident. Seeded events are
 * recognised by their id (`seed:<ULID>`, catalog.ts); a ledger holding any other event is refused
 * unless `force` is set, before anything is written. Reloading a seeded ledger needs no force.
 */

export { SEED_ID_PREFIX, SEED_MODELS, SEED_NAME_PREFIX } from './catalog.js';
export { SEED_LIMITS, generateSeedRows, type SeedOptions } from './generator.js';

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
  target: LedgerTarget;
  /** Load even into a ledger that holds real (not seeded) events. */
  force?: boolean;
  onProgress?: (progress: SeedProgress) => void;
}

function where(target: LedgerTarget): string {
  return target.kind === 'sqlite' ? target.path : `PostgreSQL${target.schema ? ` schema ${target.schema}` : ''}`;
}

export async function seedLedger(options: SeedRunOptions): Promise<SeedResult> {
  checkSeedOptions(options);
  const started = performance.now();
  const loader = await openBulkLoader(options.target);
  let generated = 0;
  let inserted = 0;
  try {
    if (options.force !== true && (await loader.hasEventsOutside(SEED_ID_PREFIX))) {
      // Named as the CLI flag: `pertoken seed` is where a person meets this.
      throw invalidInput(
        '--force',
        `${where(options.target)} already holds real events (ids without the "${SEED_ID_PREFIX}" prefix); ` +
          'seed into another --data-dir, or pass --force to add seed data to it anyway',
      );
    }
    for (const rows of generateSeedRows(options, options.book)) {
      inserted += await loader.write(rows);
      generated += rows.length;
      options.onProgress?.({
        written: generated,
        inserted,
        total: options.events,
        elapsedMs: performance.now() - started,
      });
    }
  } finally {
    await loader.close();
  }
  return { generated, inserted, elapsedMs: performance.now() - started };
}
