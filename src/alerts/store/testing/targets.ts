import { join } from 'node:path';
import { postgresSkipReason, randomSchemaName, TEST_DATABASE_URL } from '../../../ledger/testing/dialects.js';
import { tempDir } from '../../../ledger/testing/fixtures.js';
import { openAlertStore } from '../open.js';
import type { AlertStore } from '../store.js';

/**
 * The alert store on every dialect the run asks for (DIALECTS, default sqlite,postgres), like the
 * ledger's suites: PostgreSQL cases are skipped with a visible reason when it is unreachable, and
 * fail under CI=true. Each target is one database (a SQLite file, a PostgreSQL schema); opening it
 * again is another replica on the same data.
 */
export interface AlertTarget {
  open(): Promise<AlertStore>;
  dispose(): Promise<void>;
}

export interface AlertStoreCase {
  name: 'sqlite' | 'postgres';
  skip: string | null;
  target(): AlertTarget;
}

export async function alertStoreCases(): Promise<AlertStoreCase[]> {
  const pgSkip = await postgresSkipReason();
  return [
    { name: 'sqlite', skip: null, target: sqliteTarget },
    { name: 'postgres', skip: pgSkip, target: postgresTarget },
  ];
}

function track(open: () => AlertStore, cleanup: () => void): AlertTarget {
  const stores: AlertStore[] = [];
  return {
    async open() {
      const store = open();
      stores.push(store);
      await store.migrate();
      return store;
    },
    async dispose() {
      for (const store of stores.splice(0)) await store.close();
      cleanup();
    },
  };
}

function sqliteTarget(): AlertTarget {
  const { dir, cleanup } = tempDir('pertoken-alerts-');
  return track(() => openAlertStore({ sqlitePath: join(dir, 'alerts.sqlite') }), cleanup);
}

/** The schema is dropped by the run's global teardown (src/testing/global-setup.ts). */
function postgresTarget(): AlertTarget {
  const schema = randomSchemaName('pertoken_alerts');
  return track(
    () => openAlertStore({ postgresUrl: TEST_DATABASE_URL, schema, poolSize: 3 }),
    () => undefined,
  );
}
